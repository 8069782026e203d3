"""Procedures the source documents name are expressible as what they are (the catalogue review):
the LADO's stages to the DBS referral, the transfer protocol's sub-types, the child death's meetings
and forms. Plain models: no stack needed."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from schemas.locations import location
from schemas.notifications import parse_notification, payload_of
from tests.policy.bases import patched


def _errors(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        parse_notification(data)
    return [error["msg"] for error in caught.value.errors()]


def _facts(data: dict[str, Any]) -> dict[str, str]:
    return payload_of(parse_notification(data)).policy_fact_values()


def test_the_lado_stages_parse_and_each_needs_its_fields() -> None:
    outcome = patched("lado", {"payload": {"stage": "outcome", "allegation_outcome": "unsubstantiated"}})
    assert _facts(outcome)["stage"] == "outcome"
    assert (
        "payload.allegation_outcome is required at stage 'outcome'"
        in _errors(patched("lado", {"payload": {"stage": "outcome"}}))[0]
    )
    dbs = patched("lado", {"payload": {"stage": "dbs_referral", "allegation_outcome": "substantiated"}})
    assert "payload.dbs_conditions is required at stage 'dbs_referral'" in _errors(dbs)[0]


def test_a_referral_is_still_what_an_employer_sends_without_a_stage() -> None:
    assert _facts(patched("lado", {}))["stage"] == "referral"
    assert _facts(patched("death", {}))["stage"] == "notification"


@pytest.mark.parametrize("transfer_type", ["s7_s37_report", "child_on_sex_offenders_register"])
def test_the_transfer_protocols_sub_types_parse(transfer_type: str) -> None:
    extra = {"pre_sentence_report": "Fictional: report.", "previous_cp_reports": "Fictional: minutes."}
    data = patched("transfer", {"payload": {"transfer_type": transfer_type, **extra}})
    assert _facts(data)["transfer_type"] == transfer_type


@pytest.mark.parametrize(
    ("stage", "needs"),
    [
        ("scene_documentation", "payload.scene_visit_record"),
        ("cmd_record", "payload.meeting_at"),
        ("form_c", "payload.meeting_at"),
        ("post_mortem_held", "payload.post_mortem_at"),
        ("pm_provisional_report", "payload.post_mortem_at and payload.post_mortem_findings"),
        ("pm_complete_report", "payload.post_mortem_at and payload.post_mortem_findings"),
    ],
)
def test_the_child_deaths_records_each_need_their_content(stage: str, needs: str) -> None:
    assert needs in _errors(patched("death", {"payload": {"stage": stage}}))[0]


@pytest.mark.parametrize(
    ("kind", "payload", "at", "missing"),
    [
        ("lado", {"stage": "outcome"}, "allegation_outcome", ["allegation_outcome"]),
        ("death", {"stage": "icmd_record"}, "meeting_at", ["meeting_at", "actions_agreed"]),
    ],
)
def test_a_stage_missing_its_fields_is_refused_at_the_first_naming_them_all(
    kind: str, payload: dict[str, Any], at: str, missing: list[str]
) -> None:
    # An agency system is told the field (`payload.meeting_at`), not the payload; a form marks each one named.
    with pytest.raises(ValidationError) as caught:
        parse_notification(patched(kind, {"payload": payload}))
    (error,) = caught.value.errors()
    assert error["type"] == "stage_field_missing"
    assert location(error)[1:] == ("payload", at)
    assert (error.get("ctx") or {})["missing"] == missing
