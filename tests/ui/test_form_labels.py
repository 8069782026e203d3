"""A form question never shows a code: the stages and values a payload field's description names
("(amm_invitation, amm_record)") read as the form offers them. A practitioner reviewing a LADO
allegation and a child death notification found the codes in the questions' words."""

from __future__ import annotations

import re
from typing import Any

import pytest

from broker.ui.form_payload import inputs, supported
from schemas.notifications import NOTIFICATION_MODELS

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
