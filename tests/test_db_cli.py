"""`python -m broker.db upgrade|current|history` against a real SQLite database."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from broker.db.__main__ import cli


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
