"""The access table itself: complete, in the contract's vocabulary, the same as the README shows, and
the rule for what no reviewer may release."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from broker.errors import Forbidden
from broker.partnership.roles import OFFICES, PERSON_ROLES, a_role
from broker.review import access
from broker.review.access import Action, Scope
from broker.review.release import refusal_only, resolves, sender_needs
from schemas.vocab import AgencyRole
from tests.factories import decided_entry

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_the_readme_shows_the_table_as_the_code_has_it() -> None:
    shown = re.search(r"<!-- access-table -->\n(.*?)\n<!-- /access-table -->", README, flags=re.DOTALL)
    assert shown is not None, "README.md lost its access table markers"
    assert shown.group(1) == access.markdown(), "paste broker.review.access.markdown() into README.md"


def test_every_principal_has_a_cell_for_every_action() -> None:
    assert list(access.TABLE) == list(access.PRINCIPALS) == ["agency_system", *PERSON_ROLES, *OFFICES]
    assert all(set(row) == set(Action) for row in access.TABLE.values())


def test_the_table_keeps_the_issues_rules() -> None:
    table = access.TABLE
    assert table["practitioner"][Action.DECISIONS] is Scope.OWN, "a practitioner reads what they sent"
    assert all(table[office][Action.AUTHORISE] is Scope.NONE for office in OFFICES), "offices do not authorise"
    assert all(table[role][Action.SEND] is Scope.NONE for role in ("ig_lead", "caldicott_guardian"))
    partnership_wide = {who for who, row in table.items() if Scope.PARTNERSHIP in row.values()}
    assert partnership_wide == set(OFFICES), "only the partnership's office holders reach across agencies"
    advisers = {who for who, row in table.items() if row[Action.ADVICE] is Scope.AGENCY}
    authorisers = {who for who, row in table.items() if row[Action.AUTHORISE] is Scope.AGENCY}
    # A named or designated professional is one of GR3's advisers (domain brief §4.1) and authorises (§5.4).
    assert (advisers, authorisers) == (
        {"dsl", "ig_lead", "caldicott_guardian", "named_professional"},
        {"line_manager", "named_professional"},
    )


def test_body_roles_are_the_contracts_and_leads_send_as_nobody() -> None:
    assert set().union(*access.SENDS_AS.values()) <= {r.value for r in AgencyRole}
    assert set(access.SENDS_AS) == set(PERSON_ROLES)
    school = "education_school"
    assert access.sender_roles("agency_system", ["agency_system", "dsl"], agency_type=school) == access.SENDS_AS["dsl"]
    assert access.sender_roles("agency_system", ["agency_system"], agency_type=school) == frozenset()


def test_a_sender_role_is_one_its_agencys_type_has() -> None:
    police = access.sender_roles("practitioner", [], agency_type="police")
    assert police == {"police_public_protection", "police_disclosure_unit"}  # never "gp"
    assert access.sender_roles("agency_system", ["practitioner", "dsl"], agency_type="police") == {
        *police,
        "safeguarding_lead",
    }
    assert access.sender_roles("dsl", [], agency_type="police") == {"safeguarding_lead"}
    assert access.sender_roles("practitioner", [], agency_type="no_such_type") == frozenset()
    # The frontline roles of types whose practitioners had none of their own before (they had to claim another's).
    frontline = {
        "health_acute": {"midwife"},
        "camhs": {"camhs_clinician"},
        "ambulance": {"ambulance_clinician"},
        "virtual_school": {"virtual_school_head"},
        "prison": {"prison_offender_manager"},
        "early_help": {"early_help_practitioner", "lead_professional"},
    }
    for kind, roles in frontline.items():
        assert access.sender_roles("practitioner", [], agency_type=kind) == roles, kind


def test_routes_are_named_once_and_open_routes_carry_no_rule() -> None:
    assert not {path for _, path in access.ROUTES} & access.OPEN_ROUTES


def _decided(outcome: str, basis: str | None, *reasons: tuple[str, str], deciding: tuple[str, ...] = ()) -> Any:
    return decided_entry(outcome, *reasons, basis=basis, deciding=deciding)


BASIS = "safeguarding_children_individuals_at_risk"


@pytest.mark.parametrize(
    ("entry", "deciding", "refused"),
    [
        (_decided("hold_for_authorisation", None, ("GR1", "No lawful basis was given.")), 1, "lawful basis"),
        (
            _decided(
                "hold_for_authorisation", BASIS, ("GR4", "A request for services needs the family's consent first.")
            ),
            1,
            "consent",
        ),
        (
            _decided(
                "hold_for_authorisation",
                BASIS,
                ("GR2", "Record the parents' position."),
                ("GR4", "Consent was not sought and no reason is recorded."),
            ),
            2,
            "consent",
        ),
        (
            _decided("hold_for_authorisation", BASIS, ("GR4", "Waiting for authorisation by one of: line_manager.")),
            1,
            None,
        ),
        (
            _decided(
                "hold_for_authorisation",
                BASIS,
                ("GR4", "Waiting for authorisation by one of: line_manager."),
                ("GR4", "Consent was not sought and no reason is recorded."),
            ),
            1,
            None,
        ),
        (
            _decided("hold_for_authorisation", BASIS, ("GR2", "Record the parents' position before sending.")),
            1,
            "knows and was asked",
        ),
        (
            _decided("hold_for_authorisation", BASIS, ("GR6", "The notification is not adequate: it lacks child.")),
            1,
            "needs",
        ),
        (_decided("hold_for_authorisation", BASIS, ("C1", "No purpose was given.")), 1, "purpose"),
        (_decided("hold_for_authorisation", BASIS, ("GR6", "Waiting for authorisation by one of: dsl.")), 1, None),
        (_decided("needs_advice", BASIS, ("GR6", "MARAC is for high-risk domestic abuse.")), 1, None),
        (_decided("needs_advice", BASIS, ("GR4", "Consent was refused and no exception is recorded.")), 1, None),
        (_decided("needs_advice", None, ("GR1", "The sender is unsure of the lawful basis.")), 1, "lawful basis"),
    ],
    ids=[
        "no-basis",
        "consent-first",
        "consent-second-deciding",
        "sign-off",
        "consent-not-deciding",
        "parents-position",
        "inadequate",
        "no-purpose",
        "sign-off-under-gr6",
        "marac-advice",
        "advice-on-refused-consent",
        "advice-on-basis",
    ],
)
def test_what_no_reviewer_may_release(entry: Any, deciding: int, refused: str | None) -> None:
    reason = refusal_only(entry, deciding)
    assert (reason is None) == (refused is None), reason
    if refused is not None:
        assert reason is not None and refused in reason and "send it again" in reason


def test_without_a_count_the_logged_deciding_rules_say_how_many_decided() -> None:
    entry = _decided(
        "hold_for_authorisation",
        BASIS,
        ("GR2", "Record the parents' position."),
        ("GR4", "Consent was not sought and no reason is recorded."),
        deciding=("GR2", "GR4"),
    )
    # GR2 decided too, and waits for the sender as much as GR4 does: the sentence names both.
    assert (refusal_only(entry) or "").startswith(
        "The findings that held this share (GR2, GR4) need whether the person or family knows and was asked"
    )
    signed_off = _decided(
        "hold_for_authorisation",
        BASIS,
        ("GR4", "Waiting for authorisation by one of: line manager."),
        ("GR4", "Consent was not sought and no reason is recorded."),
        deciding=("GR4",),
    )
    # The sign-off decided too, and the card lists it: the sentence does not call the other the one that held it.
    assert (refusal_only(signed_off, 2) or "").startswith("Of the findings that held this share, GR4 needs consent")


def test_what_would_resolve_a_refuse_only_hold_names_every_thing_the_sender_left_out() -> None:
    """The queue said "with the consent, or the exception or lawful basis" for every refuse-only hold,
    also for one held because the notification lacked a field the recipient must have to act."""
    lacking = _decided(
        "hold_for_authorisation",
        BASIS,
        ("GR4", "A request for services needs the family's consent first."),
        ("GR6", "The notification is not adequate: it lacks current location."),
        deciding=("GR4", "GR6"),
    )
    assert [rule for rule, _ in sender_needs(lacking)] == ["GR4", "GR6"]
    assert (refusal_only(lacking, 2) or "").startswith("The findings that held this share (GR4, GR6) need consent")
    assert resolves(lacking, refusal_only(lacking, 2), 2) == (
        "The sender sends it again with consent, or the exception relied on instead; "
        "and the fields the recipient must have to act."
    )
    only_fields = _decided("hold_for_authorisation", BASIS, ("GR6", "It lacks child."), deciding=("GR6",))
    assert resolves(only_fields, refusal_only(only_fields)) == (
        "The sender sends it again with the fields the recipient must have to act."
    )
    no_basis = _decided("hold_for_authorisation", None, ("GR1", "No lawful basis was given."))
    assert resolves(no_basis, refusal_only(no_basis)) == "The sender sends it again with a lawful basis."


def test_a_refusal_names_a_role_with_its_article() -> None:
    # "a ig_lead may not do this" reads wrong to an agency system's developer, who sees the code.
    assert [a_role(r) for r in ("ig_lead", "agency_system", "dsl", "caldicott_guardian")] == [
        "an ig_lead",
        "an agency_system",
        "a dsl",
        "a caldicott_guardian",
    ]
    lead = access.Viewer(agency_id="csc-x", agency_type="childrens_social_care", role="ig_lead", user="ig-01")
    with pytest.raises(Forbidden, match=r"^an ig_lead may not do this \(send\)$"):
        access.require(lead, Action.SEND)
