"""`python -m consumers list` reads an inbox and never makes one: a wrong path is an error naming the
path, and an inbox with nothing in it says so, so that neither reads as "nothing arrived"."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from consumers.__main__ import app
from consumers.sinks import SqliteInboxSink


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in ("CONSUMER_SINK", "CONSUMER_AGENCY_ID"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def test_a_missing_inbox_is_an_error_and_is_not_created(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "no-such-inbox.db"
    result = runner.invoke(app, ["list", "--agency", "school-test", "--sink", f"sqlite:{path}"])
    assert result.exit_code == 2
    assert f"no inbox at {path} (--sink or CONSUMER_SINK)" in result.stderr
    assert result.stdout == ""
    assert not path.exists()


def test_an_empty_inbox_says_it_is_empty(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "inbox.db"
    SqliteInboxSink(path)  # what `run` makes before its first delivery
    result = runner.invoke(app, ["list", "--agency", "school-test", "--sink", f"sqlite:{path}"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"the inbox at {path} holds no deliveries, and none has been withdrawn from it\n"
