"""How the pages say times and data classes: London time with its zone, classes in words."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from broker.review.withdrawal import replacement_named as replacement
from broker.ui.form_fields import choices
from broker.ui.plain import plain, who
from broker.ui.words import (
    CONSENT_EXCEPTIONS,
    CONSENT_STATES,
    LAWFUL_BASES,
    PAYLOAD_CHOICES,
    PURPOSE_NAMES,
    ROLES,
    SUBJECT_ROLES,
    TYPE_NAMES,
    data_class,
    local_day_end,
    local_day_start,
    local_month,
    local_time,
    message_type,
    month_words,
    option,
    time_left,
    type_name,
)
from schemas import vocab
from schemas.message_types import MessageType
from schemas.payloads.events import ChildDeathType
from schemas.vocab import LawfulBasis, Purpose


def test_times_are_london_time_with_the_zone_shown() -> None:
    assert local_time("2026-01-15T09:05:00.000000Z") == "15 Jan 2026, 09:05 GMT"
    assert local_time("2026-06-01T08:05:00Z") == "1 Jun 2026, 09:05 BST"
    assert (
        local_time(datetime(2026, 3, 29, 0, 59, tzinfo=UTC)) == "29 Mar 2026, 00:59 GMT"
    )  # clocks go forward at 01:00
    assert local_time(datetime(2026, 3, 29, 1, 0, tzinfo=UTC)) == "29 Mar 2026, 02:00 BST"
    assert local_time(datetime(2026, 7, 1, 12, 0)) == "1 Jul 2026, 13:00 BST"  # naive: the log's UTC
    assert local_time(None) == "—"
    assert local_time("not a time") == "not a time"


def test_time_left_is_counted_down_and_never_more_than_there_is() -> None:
    now = datetime(2026, 12, 7, 12, 0, 30, tzinfo=UTC)
    assert time_left("2026-12-09T16:59:00Z", now) == "2 days 4 hours left"
    assert time_left("2026-12-08T12:00:00Z", now) == "23 hours 59 minutes left"
    assert time_left("2026-12-07T13:00:30Z", now) == "1 hour left"
    assert time_left("2026-12-08T12:00:30+00:00", now) == "1 day left"
    assert time_left("2026-12-07T12:01:00Z", now) == "less than a minute left"
    assert time_left("2026-12-07T12:36:30", now) == "36 minutes left"  # naive: the log's UTC
    assert time_left("2026-12-07T12:00:00Z", now) == "no time left"
    assert time_left(None, now) == ""


def test_a_date_filter_means_that_day_in_london() -> None:
    start, end = local_day_start(date(2026, 6, 1)), local_day_end(date(2026, 6, 1))
    assert start.astimezone(UTC) == datetime(2026, 5, 31, 23, 0, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 6, 1, 23, 0, tzinfo=UTC)


def test_data_classes_and_types_read_as_words() -> None:
    assert data_class("sc_health") == "special category (health)"
    assert data_class("criminal_allegation") == "criminal offence data (allegation)"
    assert data_class("sc_genetic") == "special category (genetic)"  # a class added later still reads
    assert data_class("brand_new_class") == "brand new class"
    assert message_type("safeguarding_referral") == "Safeguarding referral (M01)"
    assert message_type("not_a_type") == "Not a type"
    assert message_type("lado_allegation") == "LADO allegation (M14)"  # acronyms stay as written
    assert message_type("s47_enquiry") == "Section 47 enquiry (M07)"


def test_every_lawful_basis_reads_as_the_law_names_it() -> None:
    assert set(LAWFUL_BASES) == {b.value for b in LawfulBasis}  # a new basis must be named here too


def test_every_named_type_is_in_the_catalogue() -> None:
    # A renamed or removed type would leave its name behind, and its code would read raw again.
    assert set(TYPE_NAMES) <= {t.value for t in MessageType}


PACK = json.loads((Path(__file__).resolve().parents[2] / "policies/safeguarding/config/data.json").read_text())


def _policy_words(code: str) -> str:
    """How the policy's messages say a code (`context.words` in Rego)."""
    name: str = PACK["names"].get(code, code.replace("_", " "))
    return name


def test_the_form_offers_every_purpose_as_the_policy_names_it() -> None:
    # "Marac risk management" on the form where the finding under the decision says "MARAC".
    for purpose in Purpose:
        said = _policy_words(purpose.value)
        assert option(purpose.value, PURPOSE_NAMES) == said[:1].upper() + said[1:], purpose


def test_pages_and_policy_messages_name_every_type_alike() -> None:
    # The decision list says "LADO allegation (M14)"; the finding under it must not say "a lado allegation".
    for kind in MessageType:
        said = _policy_words(kind.value)
        assert type_name(kind.value) == said[:1].upper() + said[1:], kind


def test_pages_and_policy_messages_name_every_lawful_basis_alike() -> None:
    # "unsure" is the one the pages say more of (what happens next); the policy has its own sentence for it.
    for basis in LawfulBasis:
        if basis is not LawfulBasis.UNSURE:
            assert LAWFUL_BASES[basis.value] == _policy_words(basis.value), basis


def test_every_name_in_the_policy_pack_is_a_vocabulary_code() -> None:
    # A name for a code nothing sends would never be read; a misspelt code would leave the real one raw.
    codes = {
        member.value
        for enum in (
            vocab.MessageType,
            vocab.AgencyType,
            vocab.AgencyRole,
            vocab.AuthoriserRole,
            vocab.Purpose,
            vocab.LawfulBasis,
            vocab.NeedToKnow,
        )
        for member in enum
    }
    assert set(PACK["names"]) - codes == set()
    assert set(PACK["articles"]) <= set(PACK["names"]) | {t.value for t in MessageType}


def test_the_forms_choices_have_words_and_roles_read_as_the_policy_names_them() -> None:
    # A code left out of its table would be offered raw ("Parent pr"); a role worded apart from the
    # policy's messages would read two ways on one page.
    for table, enum in (
        (CONSENT_STATES, vocab.ConsentStatus),
        (CONSENT_EXCEPTIONS, vocab.ConsentException),
        (SUBJECT_ROLES, vocab.SubjectRole),
        (ROLES, vocab.AuthoriserRole),
    ):
        assert {m.value for m in enum} <= set(table), enum
    for code, said in ROLES.items():
        if code in PACK["names"]:
            assert said.lower() == _policy_words(code).lower() or code == "ig_lead", code


def test_the_audit_months_are_london_months() -> None:
    assert local_month("2026-05-31T23:30:00.000000Z") == "2026-06"  # 00:30 BST on 1 June
    assert local_month("2026-12-31T23:30:00.000000Z") == "2026-12"  # GMT: the same as UTC
    assert local_month("2026-03-01T00:30:00") == "2026-03"  # naive: the log's UTC
    assert month_words("2026-06") == "June 2026"  # as the page says it; the key above is what sorts


def test_a_role_named_after_an_article_reads_with_the_article_its_words_take() -> None:
    # The log's refusals say "a <role code> may not do this"; the pages name the role in words.
    assert plain("a ig_lead may not do this (send)", {}) == "an Information Governance lead may not send notifications"
    assert plain("A edt may not", {}) == "An emergency duty team may not"
    assert plain("an dsl may not", {}) == "a Designated Safeguarding Lead may not"
    assert plain("a partnership_ig_lead may", {}) == "the partnership's Information Governance lead may"
    # Only a role's code: other words after an article, and an agency id, are left as they were.
    assert plain("a thing_here and a gp-willow-lane", {}) == "a thing here and a gp-willow-lane"


def test_a_refusal_that_ends_a_sentence_reads_without_a_stray_full_stop() -> None:
    # "… who sends it.; asked for GET /ui/submit" in the access log (readers of the demo, session 58).
    said = plain("GET /ui/submit: forbidden: the school's DSL sends it.", {})
    assert said == "The school's DSL sends it; asked for GET /ui/submit", said


def test_a_corrected_entry_names_the_notification_that_replaced_it() -> None:
    new = "5b0e9d0c-3f0a-4c1e-9a56-2d7c8e1f4b3a"
    assert replacement(f"Corrected by the dsl: replaced by notification {new}.") == new
    assert replacement("Withdrawn by the dsl: about the wrong person.") is None
    assert replacement(None) is None


def test_who_did_it_reads_without_brackets_in_brackets() -> None:
    # An agency's name may have brackets of its own, so the role and agency are joined by words.
    names = {"school-x": "Oakfield Primary School (fictional)"}
    person = {"actor": "dsl-01", "actor_role": "dsl", "actor_agency": "school-x"}
    assert who(person, names) == "dsl-01, Designated Safeguarding Lead at Oakfield Primary School (fictional)"
    assert who({**person, "actor_agency": None}, names) == "dsl-01, Designated Safeguarding Lead"
    assert who({**person, "actor_role": None}, names) == "dsl-01 at Oakfield Primary School (fictional)"
    system = {"actor": "agency_system@school-x", "actor_role": "agency_system", "actor_agency": "school-x"}
    assert who(system, names) == "the system of Oakfield Primary School (fictional)"
    pressed = {**system, "actor": "school-x-duty-worker"}
    assert who(pressed, names) == "duty worker, through the system of Oakfield Primary School (fictional)"
    assert who({"actor": None}, names) == "the broker"


def test_a_childs_death_is_offered_by_its_category_in_words() -> None:
    offered = dict(choices(ChildDeathType, PAYLOAD_CHOICES))
    assert offered["sudi"] == "Sudden unexpected death in infancy (SUDI: a baby under 12 months)"
    assert offered["sudc"].startswith("Sudden unexpected death in childhood")
