"""A consumer's command line refuses a setting that cannot work in one line naming where it came from:
the option when it was given as one (`--agency`), the `CONSUMER_` variable otherwise, as the gateway
names its `SGB_` ones, and before anything connects or a ledger is made."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from consumers.__main__ import app


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.chdir(tmp_path)  # a ledger made by mistake would be here
    for name in ("CONSUMER_SINK", "CONSUMER_AGENCY_ID", "CONSUMER_ENVIRONMENT", "CONSUMER_KAFKA_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def _refusal(runner: CliRunner, args: list[str], env: dict[str, str] | None = None) -> str:
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: ")
    return line


def test_an_option_is_named_as_given(runner: CliRunner, tmp_path: Path) -> None:
    line = _refusal(runner, ["run", "--agency", "Not An Id"])
    assert line.startswith("error: --agency: String should match pattern")
    assert list(tmp_path.iterdir()) == []


def test_a_variable_is_named_as_set(runner: CliRunner, tmp_path: Path) -> None:
    env = {"CONSUMER_ENVIRONMENT": "development", "CONSUMER_RETIRED_KEY_WINDOW_DAYS": "soon"}
    line = _refusal(runner, ["run", "--agency", "csc-test"], env)
    assert line.startswith("error: CONSUMER_RETIRED_KEY_WINDOW_DAYS: Input should be a valid number")
    # A check across settings already names its variable.
    ack = ["ack", "--agency", "csc-test", "--delivery-id", "d-1", "--notification-id", "n-1", "--by", "staff-1"]
    assert _refusal(runner, ack) == ("error: CONSUMER_KAFKA_PASSWORD is empty or a placeholder")
    assert list(tmp_path.iterdir()) == []
