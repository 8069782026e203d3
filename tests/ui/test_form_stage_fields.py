"""The guided form asks a field that only a stage needs of a sender who may send that stage: a school's
referral to the LADO was offered the LADO's own meeting time and minutes, and a GP's notice of a child's
death the post-mortem's date and findings, which only the coroner and the pathologist send.

Pure: the form's steps from the policy pack's file and the schema, as the gateway builds them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from broker.ui.form_fields import PAYLOAD, Field
from broker.ui.form_types import FormType, payload_of
from broker.ui.forms import steps_for
from broker.ui.policy_pack import rules_of

PACK = json.loads((Path(__file__).resolve().parents[2] / "policies/safeguarding/config/data.json").read_text())


def _stage_question(message_type: str, sender_type: str) -> Field:
    (details,) = [
        s for s in steps_for([_form(message_type)], _form(message_type), {}, sender_type) if s.key == "details"
    ]
    (stage,) = [f for f in details.fields if f.name == PAYLOAD + "stage"]
    return stage


def test_a_stage_question_names_only_the_stages_it_offers() -> None:
    school, lado = _stage_question("lado_allegation", "education_school"), _stage_question("lado_allegation", "lado")
    assert [c for c, _ in school.choices] == ["referral", "dbs_referral"]
    assert school.label == "Which stage of the case this is", "not the schema's list of the LADO's stages too"
    assert lado.label == "Which stage of the allegation's case this is", "offered every stage, the schema's words fit"


def _form(message_type: str) -> FormType:
    payload = payload_of(message_type)
    assert payload is not None
    return FormType(
        message_type, "1.0", message_type, payload, rules_of(message_type, PACK["message_types"][message_type])
    )


def _asked(message_type: str, sender_type: str, answers: dict[str, str] | None = None) -> set[str]:
    form = _form(message_type)
    (details,) = [s for s in steps_for([form], form, answers or {}, sender_type) if s.key == "details"]
    return {f.name.removeprefix(PAYLOAD).split(".")[0] for f in details.fields if f.name.startswith(PAYLOAD)}


def test_a_school_is_not_asked_the_lados_meeting_but_the_lado_is() -> None:
    school, lado = _asked("lado_allegation", "education_school"), _asked("lado_allegation", "lado")
    assert {"meeting_at", "actions_agreed"} <= lado
    assert not {"meeting_at", "actions_agreed"} & school
    # A school may send the DBS referral, which needs the outcome and how the conditions are met.
    assert {"allegation_outcome", "dbs_conditions", "allegation_account", "dsm_record_signed"} <= school


@pytest.mark.parametrize(
    ("sender_type", "post_mortem"),
    [
        ("health_gp", set()),
        ("police", set()),
        ("coroner", {"post_mortem_at"}),
        ("pathologist", {"post_mortem_at", "post_mortem_findings", "complex_investigations"}),
    ],
)
def test_a_death_notice_asks_the_post_mortem_only_of_those_who_send_it(sender_type: str, post_mortem: set[str]) -> None:
    asked = _asked("child_death_notification", sender_type)
    assert asked & {"post_mortem_at", "post_mortem_findings", "complex_investigations"} == post_mortem
    # Every sender may send the meetings' records, so each is asked their time and minutes.
    assert {"meeting_at", "actions_agreed", "circumstances"} <= asked


def test_the_employers_account_is_asked_of_its_referral_not_of_the_lados_record() -> None:
    def required(sender_type: str, answers: dict[str, str]) -> set[str]:
        form = _form("lado_allegation")
        (details,) = [s for s in steps_for([form], form, answers, sender_type) if s.key == "details"]
        return {f.name.removeprefix(PAYLOAD) for f in details.fields if f.name.startswith(PAYLOAD) and f.required}

    employer = {"allegation_account", "dsm_record_signed"}
    assert employer <= required("education_school", {}), "a referral, the stage a notification naming none is"
    assert employer <= required("lado", {PAYLOAD + "stage": "referral"})
    record = required("lado", {PAYLOAD + "stage": "amm_record"})
    assert not employer & record and {"meeting_at", "actions_agreed"} <= record
    # Not required at the stage given, a stage's field is still never "(optional)": its words name its stages.
    form = _form("lado_allegation")
    (details,) = [s for s in steps_for([form], form, {PAYLOAD + "stage": "amm_record"}, "lado") if s.key == "details"]
    shown = {f.name.removeprefix(PAYLOAD): f for f in details.fields}
    assert (
        shown["allegation_account"].suffix == ""
        and "(“Referral”, “Referral to the DBS”)" in shown["allegation_account"].label
    )
    assert shown["child_health_impact"].suffix == " (optional)", "a field no stage needs stays optional"
    # A one-word stage a description names reads as a stage's words do, quoted ("(stage outcome)", session 58).
    assert "(stage “Outcome”)" in shown["allegation_outcome"].label, shown["allegation_outcome"].label
    assert "(stage “Referral to the DBS”)" in shown["dbs_conditions"].label, shown["dbs_conditions"].label
    assert "stage outcome" not in shown["allegation_outcome"].label
