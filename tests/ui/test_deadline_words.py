"""A deadline as the pages say it: the duty a person acts on, and its source documents apart, as a
finding's source text is, rather than mid-sentence in brackets."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from broker.ui.plain import duty
from broker.ui.words import PAYLOAD_CHOICES

POLICIES = Path(__file__).resolve().parents[2] / "policies"


@pytest.fixture(scope="module")
def descriptions(opa_bin: str) -> list[str]:
    """Every deadline the policy can set, from the policy itself (the real OPA evaluates its catalogue)."""
    query = "[o.description | some o in data.safeguarding.obligations._catalogue]"
    done = subprocess.run(
        [opa_bin, "eval", "--format", "json", "-d", str(POLICIES), query],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    found: list[str] = json.loads(done.stdout)["result"][0]["expressions"][0]["value"]
    assert len(found) > 40, "the policy's catalogue of deadlines was not read"
    return found


def _words(text: str) -> list[str]:
    return re.findall(r"[\w'-]+", text)


def test_every_deadline_the_policy_sets_splits_into_duty_and_source(descriptions: list[str]) -> None:
    for description in descriptions:
        said = duty(description)
        assert said.source, f"no source found in {description!r}"
        assert "[" not in said.text and "]" not in said.text, said
        assert not re.search(r"\(T\d+", said.text), f"the timescale's id left in the duty: {said}"
        assert said.text.endswith("."), said
        # A stage the reply must carry is said in words ("at stage amm_record": its words, quoted).
        assert not re.search(r"at stage [a-z]+_", said.text), said
        staged = re.sub(
            r"at stage ([a-z_]+)",
            lambda m: f"at stage {PAYLOAD_CHOICES.get(m[1], m[1].replace('_', ' '))}",
            description,
        )
        # Nothing lost and nothing added but the word naming the timescale ids.
        extra = [w for w in _words(said.source) if w not in ("timescale", "timescales")]
        assert sorted(_words(said.text) + extra) == sorted(_words(staged)), description


def test_a_referral_deadline_reads_as_its_duty_then_its_sources() -> None:
    said = duty(
        "Children's social care decides the response within 1 working day and tells the referrer "
        "[CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral; "
        "CPSCP-Procedures, Threshold policy > Childrens Social Care] (T01, T05)."
    )
    assert said.text == "Children's social care decides the response within 1 working day and tells the referrer."
    assert said.source == (
        "CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral; "
        "CPSCP-Procedures, Threshold policy > Childrens Social Care (timescales T01, T05)"
    )


def test_a_clause_after_the_sources_stays_with_the_duty() -> None:
    said = duty(
        "Review the early help plan at least every 3 months [CPCH-Policy, 7. Assessment and Planning]; "
        "share it only with the agencies the family agreed to."
    )
    assert said.text == (
        "Review the early help plan at least every 3 months; share it only with the agencies the family agreed to."
    )
    assert said.source == "CPCH-Policy, 7. Assessment and Planning"


def test_a_description_of_another_shape_is_kept_whole() -> None:
    # A partnership's own wording, or an older policy revision's, is shown as written.
    for text in ("Acknowledge the referral", "Decide within 1 working day (T05).", ""):
        assert duty(text).text == text
        assert duty(text).source == ""
