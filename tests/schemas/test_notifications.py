"""Notification models: strict parsing with field paths, data classes on every field, the policy
input carrying no payload values, projection, and committed JSON Schema files that match the models.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from schemas import export
from schemas.agencies import AGENCY_ROLES, role_names, roles_of
from schemas.fields import PayloadModel
from schemas.locations import location
from schemas.notifications import (
    NOTIFICATION_MODELS,
    notification_json_schema,
    parse_notification,
    payload_data_classes,
)
from schemas.policy_decision import PolicyDecision
from schemas.policy_input import build_policy_input, project
from schemas.vocab import CATALOGUE_IDS, AgencyRole, AgencyType, DataClass, MessageType, Outcome
from tests.policy.bases import BASES, patched


def _error_locs(data: dict[str, Any]) -> list[tuple[Any, ...]]:
    with pytest.raises(ValidationError) as caught:
        parse_notification(data)
    return [tuple(err["loc"]) for err in caught.value.errors()]


@pytest.mark.parametrize("name", sorted(BASES))
def test_every_base_notification_parses(name: str) -> None:
    notification = parse_notification(BASES[name])
    assert notification.message_type == BASES[name]["message_type"]


def test_unknown_payload_field_is_rejected_with_its_path() -> None:
    locs = _error_locs(patched("referral", {"payload": {"favourite_colour": "blue"}}))
    assert locs == [("safeguarding_referral", "payload", "favourite_colour")]


def test_unknown_enum_value_is_rejected_with_its_path() -> None:
    locs = _error_locs(patched("referral", {"risk": {"threshold_level": "severe"}}))
    assert locs == [("safeguarding_referral", "risk", "threshold_level")]


def test_unknown_message_type_is_rejected() -> None:
    # The union tag itself is wrong, so pydantic reports it at the root with type union_tag_invalid.
    with pytest.raises(ValidationError) as caught:
        parse_notification(patched("referral", {"message_type": "gossip"}))
    assert [e["type"] for e in caught.value.errors()] == ["union_tag_invalid"]


def test_a_date_of_birth_in_the_future_or_an_address_that_is_no_email_is_refused_by_its_path() -> None:
    tomorrow = (datetime.now(ZoneInfo("Europe/London")).date() + timedelta(days=1)).isoformat()
    born = {"child": {"given_name": "Test", "family_name": "Child Alpha", "date_of_birth": tomorrow}}
    with pytest.raises(ValidationError) as caught:
        parse_notification(patched("referral", {"payload": born}))
    [error] = caught.value.errors()
    assert error["loc"] == ("safeguarding_referral", "payload", "child", "date_of_birth")
    assert error["msg"] == "Value error, is in the future: give the date the person was born"
    today = {**born["child"], "date_of_birth": datetime.now(ZoneInfo("Europe/London")).date().isoformat()}
    parse_notification(patched("referral", {"payload": {"child": today}}))  # born today: a newborn
    referrer = {"name": "Pat Example", "job_title": "DSL", "work_email": "not-an-email"}
    assert _error_locs(patched("referral", {"payload": {"referrer": referrer}})) == [
        ("safeguarding_referral", "payload", "referrer", "work_email")
    ]
    fine = {**referrer, "work_email": "pat.example@oakfield.example.sch.uk"}
    parse_notification(patched("referral", {"payload": {"referrer": fine}}))


def test_unknown_envelope_field_is_rejected() -> None:
    assert _error_locs(patched("referral", {"mood": "calm"})) == [("safeguarding_referral", "mood")]


def test_rule_keys_are_required_but_may_be_null() -> None:
    data = patched("referral", {"lawful_basis": None, "purpose": None, "authorisation": None})
    assert parse_notification(data).lawful_basis is None
    del data["lawful_basis"]
    assert _error_locs(data) == [("safeguarding_referral", "lawful_basis")]


def test_duplicate_recipient_is_rejected() -> None:
    data = BASES["referral"]
    with pytest.raises(ValidationError):
        parse_notification({**data, "recipients": data["recipients"] * 2})


def test_a_consent_record_for_no_subject_of_the_notification_is_refused_at_its_subject_ref() -> None:
    child = {"subject_ref": "subj-1", "giver": "parent_pr", "status": "refused"}
    data = patched("referral", {"consent": [child, {**child, "subject_ref": "child-9"}]})
    with pytest.raises(ValidationError) as caught:
        parse_notification(data)
    [error] = caught.value.errors()
    assert location(error) == ("safeguarding_referral", "consent", 1, "subject_ref")
    said = "consent[1].subject_ref names none of the notification's subjects: it must be the subject_ref of one of them"
    assert error["msg"] == f"{said} (subjects[0])"
    assert "child-9" not in error["msg"]  # a refusal never quotes what was sent
    sibling = {"subject_ref": "subj-2", "role_in_case": "sibling", "age_years": 4}
    data["subjects"] = [*data["subjects"], sibling]
    with pytest.raises(ValidationError) as caught:
        parse_notification(data)
    assert [e["msg"] for e in caught.value.errors()] == [
        "consent[1].subject_ref names none of the notification's subjects: it must be the subject_ref of one of "
        "them (subjects[0] to subjects[1])"
    ]
    data["consent"][1]["subject_ref"] = "subj-2"  # consent for the sibling: one of the subjects
    assert [c.subject_ref for c in parse_notification(data).consent] == ["subj-1", "subj-2"]


def test_consent_given_with_a_reason_it_was_not_sought_is_refused_at_that_reason() -> None:
    # Said both ways, the policy reads the exception ("no consent is relied on") over the consent given.
    given = {"subject_ref": "subj-1", "giver": "parent_pr", "status": "given_explicit", "privacy_notice_given": True}
    refused = {"subject_ref": "subj-1", "giver": "child", "status": "refused", "not_sought_reason": "cannot_consent"}
    data = patched("referral", {"consent": [refused, {**given, "not_sought_reason": "risk_significant_harm"}]})
    with pytest.raises(ValidationError) as caught:
        parse_notification(data)
    [error] = caught.value.errors()
    assert error["type"] == "exception_with_consent_given"
    assert location(error) == ("safeguarding_referral", "consent", 1, "not_sought_reason")
    assert error["msg"] == (
        "consent[1].not_sought_reason is for consent not sought, refused or withdrawn; this record says consent "
        "was given (status given_explicit): leave the reason out, or give the status that applies"
    )
    # Consent given alone stands, and so does an exception beside every status that is not consent given.
    assert parse_notification(patched("referral", {"consent": [refused, given]})).consent[1].not_sought_reason is None
    for status in ("not_sought", "refused", "withdrawn", "not_required", "not_applicable", "unsure"):
        record = {**given, "status": status, "not_sought_reason": "risk_significant_harm"}
        assert parse_notification(patched("referral", {"consent": [record]})).consent[0].status == status


def test_every_message_type_has_a_model_and_catalogue_id() -> None:
    assert {mt for mt, _ in NOTIFICATION_MODELS} == set(MessageType)
    assert set(CATALOGUE_IDS) == set(MessageType)


def test_every_payload_field_has_a_data_class() -> None:
    for model in NOTIFICATION_MODELS.values():
        payload = model.model_fields["payload"].annotation
        assert isinstance(payload, type) and issubclass(payload, PayloadModel)
        assert set(payload.data_classes) == set(payload.model_fields)
        assert all(isinstance(c, DataClass) for c in payload.data_classes.values())


def test_unclassified_payload_field_is_refused_at_definition() -> None:
    with pytest.raises(TypeError, match="no data class"):

        class _Bad(PayloadModel):
            secret: str


def test_policy_input_holds_no_payload_values() -> None:
    notification = parse_notification(
        patched("referral", {"payload": {"public_referrer": "Pat Example"}, "purpose_statement": "Very private words"})
    )
    text = json.dumps(build_policy_input(notification, "fenmere_scp").model_dump(mode="json"))
    for value in ("Pat Example", "Very private words", "Child Alpha", "Example Row", "bruising"):
        assert value not in text
    assert payload_data_classes(notification)["public_referrer"] is DataClass.REFERRER_IDENTITY_NONPRO


def test_policy_input_lists_only_fields_with_values() -> None:
    notification = parse_notification(BASES["referral"])
    assert set(build_policy_input(notification, "p1").payload_fields) == set(BASES["referral"]["payload"])


def test_policy_facts_are_closed_enum_values() -> None:
    notification = parse_notification(BASES["transfer"])
    assert build_policy_input(notification, "p1").payload_facts == {"transfer_type": "cp_plan_transfer"}


def test_project_keeps_only_allowed_fields() -> None:
    notification = parse_notification(BASES["referral"])
    assert project(notification, ["child", "current_location"]) == {
        "child": BASES["referral"]["payload"]["child"],
        "current_location": "At school until 15:15",
    }
    with pytest.raises(ValueError, match="does not define"):
        project(notification, ["not_a_field"])


def test_missing_recipient_in_decision_is_no_share() -> None:
    decision = PolicyDecision(
        policy_revision="r", registry_revision=None, partnership_id=None, recipients=[], errors=[]
    )
    assert decision.decision_for("csc-fenmere-mash", "mash_intake").outcome is Outcome.NO_SHARE


def test_committed_json_schemas_are_current() -> None:
    assert export.stale() == [], "run: python -m schemas.export"


def test_every_agency_type_has_roles_and_a_policy_pack_entry() -> None:
    pack = json.loads((export.JSON_DIR.parents[1] / "policies/safeguarding/config/data.json").read_text())
    assert set(AGENCY_ROLES) == set(AgencyType)
    assert all(AGENCY_ROLES[t] for t in AgencyType)
    assert set(pack["agency_types"]) == {t.value for t in AgencyType}
    assert roles_of(AgencyType.CSC_FRONT_DOOR) >= {AgencyRole.MASH_INTAKE, AgencyRole.EDT}


def test_role_names_are_an_agency_types_roles_by_value_and_none_for_an_unknown_type() -> None:
    assert role_names("police") == {
        "police_public_protection",
        "police_disclosure_unit",
        "safeguarding_lead",
        "ig_lead",
        "caldicott_guardian",
    }
    assert role_names("lado") == {"lado_officer"}
    assert role_names("not_a_type") == frozenset()


@pytest.mark.parametrize("field", ["given_name", "date_of_birth", "home_address", "child"])
def test_advice_request_refuses_identifying_fields_by_name(field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_notification(patched("advice", {"payload": {field: "Fictional"}}))
    [error] = caught.value.errors()
    assert error["type"] == "identifying_field"
    assert error["loc"] == ("advice_request", "payload")
    assert f"'{field}'" in error["msg"]


@pytest.mark.parametrize(
    "text",
    ["born 03/04/2018", "dob 2018-04-03", "born 3rd April 2018", "lives near FE1 2AB", "at 12 Example Road"],
)
def test_advice_request_refuses_identifying_text_naming_the_field(text: str) -> None:
    locs = _error_locs(patched("advice", {"payload": {"situation": f"Fictional: {text}."}}))
    assert locs == [("advice_request", "payload", "situation")]


def test_advice_request_goes_only_to_advisers() -> None:
    mash = {"agency_id": "csc-fenmere-mash", "role": "mash_intake", "need_to_know": None}
    data = patched("advice", {"recipients": [mash]})
    with pytest.raises(ValidationError) as caught:
        parse_notification(data)
    assert "recipients[0].role 'mash_intake' is not an adviser" in caught.value.errors()[0]["msg"]


def test_late_transition_referral_needs_a_reason() -> None:
    late = patched("transition", {"payload": {"eighteenth_birthday": "2026-06-01"}})
    with pytest.raises(ValidationError) as caught:
        parse_notification(late)
    assert "payload.late_reason is required" in caught.value.errors()[0]["msg"]
    late["payload"]["late_reason"] = "Fictional: the risk came to light last month."
    assert parse_notification(late).message_type == "transition_to_adult_services"


def test_union_lists_every_model_and_every_type_has_a_base() -> None:
    mapping = notification_json_schema()["discriminator"]["mapping"]
    assert set(mapping) == {kind.value for kind, _ in NOTIFICATION_MODELS}
    assert {b["message_type"] for b in BASES.values()} == {t.value for t in MessageType}


@pytest.mark.parametrize(
    ("role", "age", "refused"),
    [
        ("child", 18, True),
        ("deceased_child", 40, True),
        ("child", 17, False),
        ("sibling", 20, False),
        ("child", None, False),
    ],
)
def test_a_child_of_18_or_over_is_refused_at_the_age(role: str, age: int | None, refused: bool) -> None:
    """A child is under 18 (Children Act 1989, s105); a sibling or other household member may be any age."""
    data = patched("referral", {})
    data["subjects"] = [{"subject_ref": "subj-1", "role_in_case": role, "age_years": age}]
    if not refused:
        assert parse_notification(data).subjects[0].age_years == age
        return
    with pytest.raises(ValidationError) as caught:
        parse_notification(data)
    [error] = caught.value.errors()
    assert (location(error), error["type"]) == (("safeguarding_referral", "subjects", 0, "age_years"), "child_age")
    assert error["msg"].startswith(
        "a child is under 18 (Children Act 1989, s105): give the age in whole years below 18"
    )
