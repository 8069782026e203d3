"""GR4 and GR5 say truly what decided, and agree with the outcome they sit under (sg-policy-0.7.10).

- GR5, for a recipient who passes information on: it names whom to (the family, an alleged
  perpetrator, or both), and says fields are withheld from it only where the fields module withholds
  some for that reason. Before, it said "the family" for a recipient who tells only an alleged
  perpetrator, and "withheld" where nothing was.
- GR4, consent recorded as not required: that is the sender's record, with no exception code, not a
  regime the pack knows (a message type with no consent regime never reaches this finding).
- GR4, consent out of scope: "sharing that relies on consent" was said where the declared basis is
  not consent; the finding now says which of the three grounds holds it within the consent.
"""

from __future__ import annotations

from typing import Any

import pytest

from schemas.notifications import parse_notification
from schemas.policy_input import build_policy_input
from schemas.vocab import Outcome
from tests.policy.bases import CSC, DELETE, POLICE, consent_given, patched
from tests.policy.conftest import REGISTRY, Decide

pytestmark = pytest.mark.stack

TOLD = {"parents_informed": True, "parent_withheld_permission": False}
SCHOOL_TELLS_FAMILY = {
    "agency_id": "school-oakfield-primary",
    "role": "dsl",
    "need_to_know": "feedback_to_referrer",
    "conveys_to_family": True,
}
WITHHELD = "so fields that could endanger someone are withheld from it."
NOTHING_WITHHELD = "but no field in this notification needs to be withheld from it for that reason."
FAMILY_WITHHELD = (
    "This recipient would pass information to the family, so fields that could endanger someone are withheld from it."
)


def _decide(decide: Decide, base: str, patch: dict[str, Any]) -> list[dict[str, Any]]:
    body = patched(base, patch)
    policy_input = build_policy_input(parse_notification(body), REGISTRY["partnership_id"])
    recipients: list[dict[str, Any]] = decide(policy_input.model_dump(mode="json"))["recipients"]
    return recipients


def _messages(recipient: dict[str, Any], rule: str, effect: str) -> list[str]:
    return [r["message"] for r in recipient["reasons"] if r["rule"] == rule and r["effect"] == effect]


@pytest.mark.parametrize(
    ("flags", "whom"),
    [
        ({"conveys_to_family": True}, "the family"),
        ({"conveys_to_alleged_perpetrator": True}, "an alleged perpetrator"),
        ({"conveys_to_family": True, "conveys_to_alleged_perpetrator": True}, "the family and an alleged perpetrator"),
    ],
    ids=["family", "perpetrator", "both"],
)
def test_gr5_names_whom_the_recipient_passes_information_to(flags: dict[str, bool], whom: str, decide: Decide) -> None:
    (got,) = _decide(decide, "referral", {"recipients": [{**CSC, **flags}], "parental_position": TOLD})
    # The referral's current location is never for the family or an alleged perpetrator.
    assert "current_location" in got["withheld_fields"]
    assert _messages(got, "GR5", "withhold_fields")
    assert _messages(got, "GR5", "share") == [f"This recipient would pass information to {whom}, {WITHHELD}"]


def test_gr5_perpetrator_only_is_not_called_the_family(decide: Decide) -> None:
    (got,) = _decide(
        decide, "referral", {"recipients": [{**CSC, "conveys_to_alleged_perpetrator": True}], "parental_position": TOLD}
    )
    (message,) = _messages(got, "GR5", "share")
    assert "the family" not in message
    assert message != FAMILY_WITHHELD


@pytest.mark.parametrize(
    "patch",
    [
        {"payload": {"next_steps": DELETE}},  # nothing the family's column keeps back
        {"risk": {"likely_significant_harm": True}},  # a risk makes the next steps relevant to it
    ],
    ids=["no-such-field", "risk"],
)
def test_gr5_withholds_nothing_and_says_so(patch: dict[str, Any], decide: Decide) -> None:
    (got,) = _decide(decide, "acknowledgement", {"recipients": [SCHOOL_TELLS_FAMILY], **patch})
    assert got["outcome"] == Outcome.SHARE
    assert got["withheld_fields"] == []
    assert _messages(got, "GR5", "withhold_fields") == []
    assert _messages(got, "GR5", "share") == [
        f"This recipient would pass information to the family, {NOTHING_WITHHELD}"
    ]


def test_gr5_withholding_named_where_it_happens(decide: Decide) -> None:
    # The same acknowledgement with no risk: its next steps are conditional for the family, and withheld.
    (got,) = _decide(decide, "acknowledgement", {"recipients": [SCHOOL_TELLS_FAMILY]})
    assert got["outcome"] == Outcome.SHARE_MINIMISED
    assert got["withheld_fields"] == ["next_steps"]
    assert _messages(got, "GR5", "withhold_fields")
    assert _messages(got, "GR5", "share") == [FAMILY_WITHHELD]


def test_gr4_not_required_is_the_senders_record(decide: Decide) -> None:
    not_required = [{"subject_ref": "subj-1", "giver": "parent_pr", "status": "not_required"}]
    (got,) = _decide(decide, "referral", {"consent": not_required, "parental_position": TOLD})
    assert got["outcome"] == Outcome.SHARE
    (message,) = _messages(got, "GR4", "share")
    assert "regime" not in message
    assert message == (
        "The sender recorded consent as not required for this notification, and recorded no exception code saying why."
    )


SCOPE_PURPOSE = "The consent recorded covers only request for services; it does not cover safeguarding concern."


@pytest.mark.parametrize(
    ("basis", "why"),
    [
        (
            "consent",
            "The declared lawful basis is consent, and consent covers only what the person agreed to. Ask them "
            "about this too; if safety is at risk, record the exception to seeking consent and the basis relied "
            "on instead.",
        ),
        (
            "safeguarding_children_individuals_at_risk",
            "Consent is not the declared lawful basis, but no exception to seeking it is recorded, so consent "
            "covers only what the person agreed to. Ask them about this too, or record why consent is not sought.",
        ),
    ],
    ids=["consent-basis", "other-basis"],
)
def test_gr4_out_of_scope_says_why_the_share_keeps_within_consent(basis: str, why: str, decide: Decide) -> None:
    patch = {
        "lawful_basis": basis,
        "consent": consent_given(scope_purposes=["request_for_services"]),
        "parental_position": TOLD,
    }
    (got,) = _decide(decide, "referral", patch)
    assert got["outcome"] == Outcome.NO_SHARE
    assert got["decided_by"][0]["rule"] == "GR4"
    assert got["decided_by"][0]["message"] == f"{SCOPE_PURPOSE} {why}"
    assert "relies on consent" not in got["decided_by"][0]["message"]


def test_gr4_out_of_scope_request_for_services_needs_consent_whatever_the_basis(decide: Decide) -> None:
    patch = {
        "purpose": "request_for_services",
        "consent": consent_given(scope_agencies=[CSC["agency_id"]]),
        "parental_position": TOLD,
        "recipients": [CSC, POLICE],
    }
    csc, police = _decide(decide, "referral", patch)
    assert csc["outcome"] == Outcome.SHARE
    assert police["outcome"] == Outcome.NO_SHARE
    assert police["decided_by"][0]["message"].endswith(
        "A request for services always needs consent, and consent covers only what the person agreed to. "
        "Ask the family about this too, then send again."
    )
