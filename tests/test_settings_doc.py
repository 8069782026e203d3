"""docs/settings.md names every variable the gateway, worker and consumer read, with the code's defaults.

An operator configures a deployment from that reference, and a README snippet that no test runs drifts:
a field added to `BrokerSettings` or `ConsumerSettings` without a row, a row left behind by a removed
field, or a default changed on one side only fails here. No network, no stack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr
from pydantic_settings import BaseSettings

from broker.settings import BrokerSettings
from consumers.settings import ConsumerSettings

DOC = Path(__file__).resolve().parents[1] / "docs" / "settings.md"

# Variables a deployment sets that are read outside the settings classes, so not among their fields.
SGB_EXTRAS = frozenset(
    {
        "SGB_SIGNING_KEY",  # broker/partnership/keys.py load_broker_keys: set, the keys come from these four
        "SGB_SIGNING_OLD_PUBLIC_KEYS",  # broker/partnership/keys.py _broker_keys_from_env: retired public keys
        "SGB_LOG_PSEUDONYM_SECRET",  # broker/partnership/keys.py _broker_keys_from_env: the log's HMAC secret
        "SGB_KAFKA_KEY_SECRET",  # broker/partnership/keys.py _broker_keys_from_env: the record keys' HMAC secret
        "SGB_AUDIT_PUBLIC_KEY",  # audit/cli.py PINNED_KEY_ENV: `python -m audit verify` and `verify-pack`
    }
)
CONSUMER_EXTRAS: frozenset[str] = frozenset()  # consumers/ reads no CONSUMER_ variable outside its settings

SIDES = [
    pytest.param("SGB_", BrokerSettings, SGB_EXTRAS, id="gateway"),
    pytest.param("CONSUMER_", ConsumerSettings, CONSUMER_EXTRAS, id="consumer"),
]
# Defaults written as a plain literal in the doc are compared with the code's, parsed as its type.
SIMPLE = (bool, int, float, str, Path)


@dataclass(frozen=True)
class Row:
    name: str
    default: str


def _rows() -> list[Row]:
    """Each table row's first backticked name and its default cell (header and rule rows have no name)."""
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            continue
        name = re.search(r"`([^`]+)`", line)
        if name is None:
            continue
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        rows.append(Row(name.group(1), cells[1] if len(cells) > 1 else ""))
    return rows


ROWS = _rows()


def test_every_row_names_one_variable_once() -> None:
    names = [row.name for row in ROWS]
    strays = [name for name in names if not re.fullmatch(r"(SGB|CONSUMER)_[A-Z0-9_]+", name)]
    twice = sorted({name for name in names if names.count(name) > 1})
    assert (strays, twice) == ([], []), f"rows not naming a variable: {strays}; rows given twice: {twice}"


@pytest.mark.parametrize(("prefix", "settings", "extras"), SIDES)
def test_doc_names_exactly_what_the_code_reads(
    prefix: str, settings: type[BaseSettings], extras: frozenset[str]
) -> None:
    assert settings.model_config.get("env_prefix") == prefix
    expected = {prefix + name.upper() for name in settings.model_fields} | extras
    documented = {row.name for row in ROWS if row.name.startswith(prefix)}
    missing, extra = sorted(expected - documented), sorted(documented - expected)
    assert (missing, extra) == ([], []), (
        f"{prefix} variables missing from {DOC.name}: {missing}; in {DOC.name} but not read by the code: {extra}"
    )


@pytest.mark.parametrize(("prefix", "settings", "extras"), SIDES)
def test_documented_defaults_match_the_code(prefix: str, settings: type[BaseSettings], extras: frozenset[str]) -> None:
    wrong, compared = [], 0
    for row in (row for row in ROWS if row.name.startswith(prefix)):
        field = settings.model_fields.get(row.name.removeprefix(prefix).lower())
        if field is None:
            continue  # one of the extras: no field, no default in the code
        if field.is_required():
            if row.default != "required":
                wrong.append(f"{row.name}: the code has no default, the doc says {row.default!r}")
            continue
        value = field.get_default(call_default_factory=True)
        if value is None:
            if not row.default.startswith("unset"):
                wrong.append(f"{row.name}: unset in the code, {row.default!r} in the doc")
        elif isinstance(value, SecretStr) and not value.get_secret_value():
            if row.default != "empty":
                wrong.append(f"{row.name}: empty in the code, {row.default!r} in the doc")
        elif isinstance(value, SIMPLE) and (text := _literal(row.default)) is not None:
            compared += 1
            if _parse(text, like=value) != value:
                wrong.append(f"{row.name}: {value!r} in the code, {text!r} in the doc")
    assert wrong == [], "; ".join(wrong)
    assert compared > 0, f"no {prefix} default in {DOC.name} was a plain literal: the table did not parse"


def _literal(cell: str) -> str | None:
    """The cell's value when it is one backticked literal, else None (unset, empty, required, prose)."""
    match = re.fullmatch(r"`([^`]+)`", cell)
    return match.group(1) if match else None


def _parse(text: str, *, like: bool | int | float | str | Path) -> object:
    """`text` as the type of the code's default; `~` is the home directory, as the doc writes it."""
    try:
        if isinstance(like, bool):
            return {"true": True, "false": False}.get(text, text)
        if isinstance(like, int):
            return int(text)
        if isinstance(like, float):
            return float(text)
    except ValueError:
        return text
    if isinstance(like, Path):
        return Path(text).expanduser()
    return text.replace("~/", f"{Path.home()}/")
