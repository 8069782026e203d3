"""`python -m broker.db upgrade|current|history` against a real SQLite database."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from broker.db.__main__ import cli


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """`upgrade` configures logging as the command does for an operator: a handler on the stderr
    that CliRunner lends it and closes after the call. Left on the root logger, it turned a later
    test's log records into "--- Logging error ---" on a closed stream in CI's output."""
    root = logging.getLogger()
    before = set(root.handlers)
    yield
    for handler in [h for h in root.handlers if type(h) is logging.StreamHandler and h not in before]:
        root.removeHandler(handler)


def test_history_lists_both_migration_histories() -> None:
    result = CliRunner().invoke(cli, ["history"])
    assert result.exit_code == 0, result.output
    assert "audit (decision log):" in result.output and "broker (gateway tables):" in result.output
    assert "audit0001" in result.output and "b0001" in result.output


def test_current_is_behind_until_upgrade(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SGB_DATABASE_URL", f"sqlite:///{tmp_path / 'broker.db'}")
    monkeypatch.delenv("SGB_MIGRATION_DATABASE_URL", raising=False)
    runner = CliRunner()
    before = runner.invoke(cli, ["current"])
    assert before.exit_code == 1 and "empty" in before.output
    assert runner.invoke(cli, ["upgrade"]).exit_code == 0
    after = runner.invoke(cli, ["current"])
    assert after.exit_code == 0, after.output
    assert after.output.count("up to date") == 2
