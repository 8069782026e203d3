"""What a refused step says, in the error summary at the top and under each question.

A reviewer found three things. Under a question the message repeated the whole question, which sits
right above it ("Are you sure this should be shared? (Golden rule 3: if in doubt, ask.): please
answer."), with a colon after a full stop; the summary, a list of links away from the questions,
does need to say which. And on the recipients step the summary said "Say why this agency needs to
know." once for each agency left without a reason, naming none. No stack is needed: the steps are
built from the policy pack file (tests/ui/test_form_error_place.py shows them on the page).
"""

from __future__ import annotations

from broker.ui import form_risk
from broker.ui.form_fields import ANSWER, Field, unanswered
from broker.ui.forms import steps_for, validate_step
from tests.ui.test_form_consent import HEALTH, MASH, POLICE, _form, _types

DOUBT = "Are you sure this should be shared? (Golden rule 3: if in doubt, ask.)"


def test_a_blank_question_is_named_in_a_sentence_in_the_summary() -> None:
    (asked,) = [f for f in form_risk.step("safeguarding_referral").fields if f.name == "in_doubt"]
    assert asked.label == DOUBT
    assert unanswered(asked.label) == f"{DOUBT} Please answer."
    # As before: a question keeps its question mark, a name is followed by a colon.
    assert unanswered("What are you sending?") == "What are you sending? Please answer."
    assert unanswered("Given name") == "Given name: please answer."
    assert unanswered("Date (as on the letter)") == "Date (as on the letter): please answer."


def test_under_its_question_a_refusal_does_not_repeat_it() -> None:
    doubt = Field("in_doubt", DOUBT, "radio")
    assert doubt.inline(unanswered(DOUBT)) == ANSWER == "Answer this question."
    named = Field("p:child.given_name", "Given name", group="Child's names, date of birth, gender")
    assert named.inline(unanswered(named.title)) == ANSWER
    assert named.inline(unanswered(named.label)) == ANSWER
    purpose = Field("purpose", "Purpose", "select")
    assert purpose.inline("Purpose: choose one of the options.") == "Choose one of the options."
    scope = Field("consent_scope", "If consent was given: which of the agencies you chose did they agree to?")
    said = f"{scope.label} Tick each agency they agreed to: at least one."
    assert scope.inline(said) == "Tick each agency they agreed to: at least one."
    # A message that does not start with its question is said whole; so is one that only starts with its word.
    notice = "Say whether they were given the privacy notice (Caldicott 8)."
    assert Field("privacy_notice_given", "Privacy notice").inline(notice) == notice
    assert Field("age", "Age").inline("Ages differ.") == "Ages differ."


def test_each_agency_without_a_reason_is_named_in_the_summary() -> None:
    form = _form("safeguarding_referral")
    names = {MASH: "Fenmere Children's Social Care MASH (fictional)", POLICE: "Fenmere Constabulary (fictional)"}
    answers = {f"to:{MASH}": "mash_intake", f"to:{POLICE}": "police_public_protection"}
    (recipients,) = [s for s in steps_for(_types(), form, answers, HEALTH, names) if s.key == "recipients"]
    assert validate_step(recipients, answers) == {
        f"ntk:{MASH}": "Say why Fenmere Children's Social Care MASH (fictional) needs to know.",
        f"ntk:{POLICE}": "Say why Fenmere Constabulary (fictional) needs to know.",
    }
    assert validate_step(recipients, {**answers, f"ntk:{MASH}": "protect_child"}) == {
        f"ntk:{POLICE}": "Say why Fenmere Constabulary (fictional) needs to know."
    }
