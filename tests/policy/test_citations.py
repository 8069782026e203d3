"""Citations name a public source document and its section, never an internal file or line number.

Every rule source cites `KEY, Chapter > Section` with a key from policies/SOURCES.md, so an IG lead
can check a rule against the published document. No file we ship may point at internal research
notes or at line numbers of copies outside the repository. Plain files only: no stack needed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from broker.sharing.rules import clause_types

ROOT = Path(__file__).resolve().parents[2]
SOURCES_MD = ROOT / "policies" / "SOURCES.md"
SCANNED_DIRS = ("policies", "schemas", "tests/policy", "tests/schemas")
SCANNED_FILES = ("README.md",)
TEXT_SUFFIXES = {".rego", ".md", ".json", ".py", ".yaml", ".yml", ".txt"}

# What an internal reference looks like: a seed line citation such as `[002 L1930]` or
# `[002 L44; 000 L96]`, or the name of an internal research file.
FORBIDDEN = (
    (re.compile(r"(?<![\w.])\d{3} L\d+"), "seed line citation (NNN Lnnn)"),
    (re.compile(r"domain\.md"), "internal brief domain.md"),
    (re.compile(r"/work/shared"), "path outside the repository"),
    (re.compile(r"seeds/"), "internal seed files"),
    (re.compile(r"design\.md|style-anchors|infra-notes"), "internal note outside the repository"),
)
KEY = r"[A-Z][A-Za-z]*(?:-[A-Z][A-Za-z]*)+"
KEY_TOKEN = re.compile(rf"\b{KEY}\b")
# A citation opens with its key: `[KEY, ...]`, `Source: KEY, ...` or `...; KEY, ...`.
CITED_KEY = re.compile(rf"(?:\[|Source: |; )({KEY}),")


def catalogue_keys(text: str) -> list[str]:
    """Keys of the sources table: the first cell of each row, written as `KEY`."""
    return re.findall(rf"^\|\s*`({KEY})`\s*\|", text, flags=re.MULTILINE)


def internal_references(text: str) -> list[str]:
    """Each forbidden reference in `text`, as 'line N: what (matched text)'."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        for pattern, what in FORBIDDEN:
            found += [f"line {number}: {what} ({m.group(0)!r})" for m in pattern.finditer(line)]
    return found


def _metadata_notes(rego: str) -> list[dict[str, Any]]:
    """Every `# METADATA` block of one Rego module, parsed."""
    notes = []
    lines = rego.splitlines()
    for i, line in enumerate(lines):
        if line.strip() != "# METADATA":
            continue
        block = []
        for following in lines[i + 1 :]:
            if not following.startswith("#"):
                break
            block.append(following[2:] if following.startswith("# ") else following[1:])
        notes.append(yaml.safe_load("\n".join(block)) or {})
    return notes


def metadata_sources(rego: str) -> list[str]:
    """`custom.source`, and each clause of `custom.source_for`, of every `# METADATA` block in one module."""
    sources = []
    for note in _metadata_notes(rego):
        custom = note.get("custom") or {}
        if custom.get("source") is not None:
            sources.append(str(custom["source"]))
        sources += [str(clause) for clause in (custom.get("source_for") or {}).values()]
    return sources


def metadata_clause_types(rego: str) -> list[str]:
    """The message types `custom.source_for` gives a clause of their own, block by block."""
    notes = _metadata_notes(rego)
    return [
        kind
        for note in notes
        for key in (note.get("custom") or {}).get("source_for") or {}
        for kind in clause_types(key)
    ]


def unknown_keys(source: str, keys: set[str]) -> list[str]:
    """Key-like tokens of a rule source that the catalogue does not list, or ['<no key>']."""
    tokens = KEY_TOKEN.findall(source)
    if not tokens:
        return ["<no key>"]
    return [t for t in tokens if t not in keys]


def _scanned() -> Iterator[Path]:
    me = Path(__file__).resolve()
    for name in SCANNED_DIRS:
        for path in sorted((ROOT / name).rglob("*")):
            if path.is_file() and path.suffix in TEXT_SUFFIXES and "__pycache__" not in path.parts and path != me:
                yield path
    for name in SCANNED_FILES:
        if (ROOT / name).exists():
            yield ROOT / name


def _config_sources(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "source" and isinstance(item, str):
                if item:  # "" where the message type needs no authorisation
                    yield item
            else:
                yield from _config_sources(item)
    elif isinstance(value, list):
        for item in value:
            yield from _config_sources(item)


@pytest.fixture(scope="module")
def keys() -> set[str]:
    listed = catalogue_keys(SOURCES_MD.read_text(encoding="utf-8"))
    assert listed, "policies/SOURCES.md lists no source keys"
    assert len(listed) == len(set(listed)), f"duplicate keys in policies/SOURCES.md: {listed}"
    return set(listed)


def test_no_internal_references() -> None:
    bad = {
        str(path.relative_to(ROOT)): refs
        for path in _scanned()
        if (refs := internal_references(path.read_text(encoding="utf-8", errors="replace")))
    }
    assert bad == {}, "cite the public document (policies/SOURCES.md), not internal files or line numbers"


def test_rule_sources_cite_catalogued_documents(keys: set[str]) -> None:
    sources = {
        f"{path.relative_to(ROOT)} #{n}": source
        for path in sorted((ROOT / "policies").rglob("*.rego"))
        for n, source in enumerate(metadata_sources(path.read_text(encoding="utf-8")))
    }
    assert len(sources) >= 15, f"expected every golden rule, Caldicott principle and invariant: {sorted(sources)}"
    config = json.loads((ROOT / "policies/safeguarding/config/data.json").read_text(encoding="utf-8"))
    sources |= {f"config/data.json #{n}": source for n, source in enumerate(_config_sources(config))}
    bad = {where: missing for where, source in sources.items() if (missing := unknown_keys(source, keys))}
    assert bad == {}, "each rule source starts with a key listed in policies/SOURCES.md"


def test_a_clause_for_one_message_type_names_a_message_type_of_the_pack() -> None:
    """`custom.source_for` is keyed by message type: a misspelt key would never be cited."""
    config = json.loads((ROOT / "policies/safeguarding/config/data.json").read_text(encoding="utf-8"))
    keyed = {
        f"{path.relative_to(ROOT)}: {kind}"
        for path in sorted((ROOT / "policies").rglob("*.rego"))
        for kind in metadata_clause_types(path.read_text(encoding="utf-8"))
        if kind not in config["message_types"]
    }
    assert keyed == set()
    assert sorted(metadata_clause_types((ROOT / "policies/safeguarding/caldicott/caldicott.rego").read_text())) == [
        "child_death_notification",
        "child_move_transfer",
        "csod_disclosure",
        "lado_allegation",
    ], "C4 cites the LADO's procedure, C5 the disclosure scheme, C6 the Coroner's and transfers': each on its type"
    # A child's procedures, not an adult's: a request for services needs the parents' consent (GR4), and
    # a competent young person's wish that the parents not know is respected (GR2).
    golden = metadata_clause_types((ROOT / "policies/safeguarding/golden/golden.rego").read_text())
    gr2 = ["child_on_child_harm_referral", "prebirth_concern", "radicalisation_concern", "safeguarding_referral"]
    gr4 = ["early_help_assessment_share", "prebirth_concern", "safeguarding_referral"]
    assert sorted(golden) == sorted([*gr2, *gr4]), golden


def test_inline_citations_use_catalogued_keys(keys: set[str]) -> None:
    bad = {
        str(path.relative_to(ROOT)): sorted(set(used) - keys)
        for path in _scanned()
        if set(used := CITED_KEY.findall(path.read_text(encoding="utf-8", errors="replace"))) - keys
    }
    assert bad == {}


def test_every_catalogued_source_is_cited(keys: set[str]) -> None:
    cited: set[str] = set()
    for path in _scanned():
        if path != SOURCES_MD:
            cited |= set(KEY_TOKEN.findall(path.read_text(encoding="utf-8", errors="replace"))) & keys
    assert keys - cited == set(), "drop sources nothing cites from policies/SOURCES.md"


# The checks above must be able to fail: each one against a line it has to reject.


@pytest.mark.parametrize(
    "line",
    [
        "#   source: '[002 L1930] \"the law is not a barrier\"'",
        '"description": "M06 [002 L44; 000 L96; 001 L108-131]."',
        "Facts come from `domain.md` (§2-§5)",
        "    ref: /work/shared/notes.md",
        "see seeds/002.txt",
    ],
)
def test_internal_reference_is_caught(line: str) -> None:
    assert internal_references(f"fine\n{line}\n") != []


def test_public_citation_passes() -> None:
    text = "[CPSCP-Procedures, Information sharing > The Seven Golden Rules for Information Sharing, rule 2]"
    assert internal_references(text) == []
    assert CITED_KEY.findall(text) == ["CPSCP-Procedures"]


def test_unknown_or_missing_key_is_caught() -> None:
    keys = {"CPSCP-Procedures"}
    rego = (
        "# METADATA\n# title: GR9\n# custom:\n#   rule_id: GR9\n#   source: >-\n"
        '#     Made-Up-Manual, Chapter > Section: "quote"\ngr9 := true\n'
        "# METADATA\n# custom:\n#   source: '\"a quote with no document\"'\nx := 1\n"
        "# METADATA\n# custom:\n#   source: 'CPSCP-Procedures, LADO > 6. AMM'\n"
        "#   source_for:\n#     lado_allegation: 'Made-Up-Rules, LADO > 3'\ny := 1\n"
    )
    found = [unknown_keys(source, keys) for source in metadata_sources(rego)]
    assert found == [["Made-Up-Manual"], ["<no key>"], [], ["Made-Up-Rules"]]
    assert catalogue_keys("| `A-B` | t |\n| Key | x |\n| `CPSCP-Procedures` | t |\n") == ["A-B", "CPSCP-Procedures"]
