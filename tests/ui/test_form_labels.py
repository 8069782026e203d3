"""A form question never shows a code: the stages and values a payload field's description names
("(amm_invitation, amm_record)") read as the form offers them. A practitioner reviewing a LADO
allegation and a child death notification found the codes in the questions' words."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from broker.ui.form_payload import inputs, supported
from broker.ui.form_types import offered
from broker.ui.forms import steps_for
from broker.ui.payload_words import AGENCY_TYPES
from broker.ui.policy_pack import rules_of
from schemas.notifications import NOTIFICATION_MODELS
from schemas.vocab import AgencyType

PACK = Path(__file__).resolve().parents[2] / "policies/safeguarding/config/data.json"
CODE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
PAYLOADS: list[Any] = [m.model_fields["payload"].annotation for m in NOTIFICATION_MODELS.values()]


@pytest.mark.parametrize("payload", [p for p in PAYLOADS if supported(p)], ids=lambda p: p.__name__)
def test_no_question_shows_a_code(payload: Any) -> None:
    shown = {f.name: f.label for f in inputs(payload, set())}
    assert {name: label for name, label in shown.items() if CODE.search(label)} == {}


def test_a_stage_named_in_a_question_reads_as_the_form_offers_it() -> None:
    lado = next(p for p in PAYLOADS if p.__name__ == "LadoAllegationPayload")
    label = next(f.label for f in inputs(lado, set()) if f.name.endswith("meeting_at"))
    assert "(“Invitation to the allegations management meeting (AMM)”, “Record of the allegations" in label, label


# Acronyms a code spells in lower case, which its words must spell out or write in capitals.
ACRONYMS = {"cpch", "cin", "cp", "nfa", "wd", "mappa", "s47", "lac", "dbs", "amm", "sudi", "sudc", "icmd", "cmd"}


def test_every_choice_the_form_offers_spells_its_acronyms() -> None:
    """A practitioner found "Cpch" offered as a strategy discussion's procedure."""
    offered = {
        code: text
        for payload in PAYLOADS
        if supported(payload)
        for field in inputs(payload, set())
        for code, text in field.choices
    }
    badly = {
        code: text
        for code, text in offered.items()
        if any(t.lower() in ACRONYMS and t != t.upper() for t in re.findall(r"[A-Za-z0-9]+", text))
    }
    assert badly == {}
    assert offered["cpch"] == "A child causing harm to a parent or carer (CPCH)"


def test_each_kind_of_agency_reads_as_the_policy_pack_names_it() -> None:
    """The form's words for a kind of agency ("children's social care front door", not "Csc front
    door") are the policy pack's own wherever it names the kind, as its findings do."""
    names = json.loads(PACK.read_text())["names"]
    assert set(AGENCY_TYPES) == {t.value for t in AgencyType}
    assert {t: w for t, w in AGENCY_TYPES.items() if t in names and names[t] != w} == {}


# A citation a practitioner has no use for: a catalogue id ("(M24)"), a source's line ("120 L14").
CITATION = re.compile(r"\(M\d+\)|\b\d{3} L\d+\b")


def _shown() -> dict[str, str]:
    """Every title, intro, question, hint and option of every step of every type any kind of agency
    may send, by where it shows; the type's own name among them, which the form heads each step with."""
    entries = json.loads(PACK.read_text())["message_types"]
    pack = {message_type: rules_of(message_type, entry) for message_type, entry in entries.items()}
    shown: dict[str, str] = {}
    for agency_type in AgencyType:
        types = offered(pack, agency_type.value)
        for form in types:
            for step in steps_for(types, form, {"message_type": form.message_type}, agency_type.value):
                where = f"{form.message_type} {step.key}"
                shown |= {f"{where} title": step.title, f"{where} intro": step.intro}
                for f in step.fields:
                    shown |= {f"{where} {f.name}": f.label, f"{where} {f.name} hint": f.hint}
                    shown |= {f"{where} {f.name}={code}": text for code, text in f.choices}
    return shown


def test_no_label_carries_a_citation() -> None:
    """A practitioner found "(M24)" and "(M17)" after the types' names: the decision pages add the
    catalogue id for those who look it up, the form does not."""
    shown = _shown()
    assert shown["safeguarding_referral type message_type=safeguarding_referral"] == (
        "Safeguarding referral: to children's social care"
    )
    assert {where: text for where, text in shown.items() if CITATION.search(text)} == {}


def test_marac_is_written_in_capitals() -> None:
    assert {where: text for where, text in _shown().items() if "Marac" in text} == {}


@pytest.mark.parametrize("payload", [p for p in PAYLOADS if supported(p)], ids=lambda p: p.__name__)
def test_a_question_reads_as_one_and_its_source_is_beneath_it(payload: Any) -> None:
    """A police officer found "When emergency powers were used [CPSCPB-CSA-Strategy, Section Two > …]"
    as a question: the schema's citation is the question's hint, not its words."""
    asked = inputs(payload, set())
    assert [f.label for f in asked if "[" in f.label] == []
    assert [f.group for f in asked if "[" in f.group] == []


def test_the_source_a_question_comes_from_is_said_under_it() -> None:
    notice = next(p for p in PAYLOADS if p.__name__ == "PoliceProtectionNoticePayload")
    (protected,) = [f for f in inputs(notice, set()) if f.name == "p:protected_at"]
    assert protected.label == "When emergency powers were used"
    assert protected.hint == (
        "UK time. Asked for by CPSCPB-CSA-Strategy, Section Two > Agency and professional responsibilities > "
        "Responsibility of Police."
    )


def test_the_kinds_of_information_an_adviser_is_asked_about_read_as_the_pages_name_them() -> None:
    """A nurse found "Sc health" and "Da info" offered on an advice request."""
    advice = next(p for p in PAYLOADS if p.__name__ == "AdviceRequestPayload")
    (kinds,) = [f for f in inputs(advice, set()) if f.name == "p:data_classes_in_question"]
    offered = dict(kinds.choices)
    assert (offered["sc_health"], offered["da_info"]) == ("Special category (health)", "Domestic abuse information")
    assert [text for text in offered.values() if text.startswith(("Sc ", "Da ", "Referrer identity"))] == []
