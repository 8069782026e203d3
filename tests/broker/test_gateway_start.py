"""`python -m broker.gateway`, `python -m broker.worker` and `python -m broker.db` as an operator
starts them: a setting, a key directory or a file given on the command line that cannot work refuses
the start in one line naming it (exit status 2), before a database is created or a port bound; and a
start the log or the registry refuses after that is named in one log line, above uvicorn's traceback."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from broker.errors import RegistryError
from devstack.partnership import LocalPartnership
from tests.broker.conftest import GatewayFactory


def _run(module: str, tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SGB_")}
    settings = {"SGB_DATABASE_URL": f"sqlite:///{tmp_path / 'sgbroker.db'}", "SGB_KEYS_DIR": str(tmp_path / "keys")}
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        env={**clean, **settings, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _refused(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("command", [["broker.gateway"], ["broker.worker"], ["broker.db", "migrate"]])
def test_a_setting_that_cannot_work_is_named(command: list[str], tmp_path: Path) -> None:
    line = _refused(_run(command[0], tmp_path, *command[1:], SGB_ENVIRONMENT="staging", SGB_MAX_IN_FLIGHT="many"))
    assert "SGB_ENVIRONMENT: Input should be 'development' or 'production'" in line
    assert "SGB_MAX_IN_FLIGHT: Input should be a valid integer" in line
    assert not (tmp_path / "sgbroker.db").exists()


@pytest.mark.parametrize("command", [["broker.gateway"], ["broker.worker"], ["broker.db", "migrate"]])
def test_the_calendars_settings_are_checked_before_anything_starts(command: list[str], tmp_path: Path) -> None:
    backwards = tmp_path / "holidays.json"
    backwards.write_text('[{"first": "2026-02-20", "last": "2026-02-16"}]')
    for env, said in (
        ({"SGB_UNCLEAR_DAYS_UNIT": "weeks"}, "SGB_UNCLEAR_DAYS_UNIT: Input should be 'days' or 'working_days'"),
        ({"SGB_SCHOOL_HOLIDAYS_FILE": str(tmp_path / "absent.json")}, "SGB_SCHOOL_HOLIDAYS_FILE: Path does not point"),
        ({"SGB_SCHOOL_HOLIDAYS_FILE": str(backwards)}, "SGB_SCHOOL_HOLIDAYS_FILE: " + f"{backwards}: a school holiday"),
    ):
        assert said in _refused(_run(command[0], tmp_path, *command[1:], **env))
    assert not (tmp_path / "sgbroker.db").exists()


@pytest.mark.parametrize("module", ["broker.gateway", "broker.worker"])
def test_a_missing_key_directory_says_how_to_make_one(module: str, tmp_path: Path) -> None:
    line = _refused(_run(module, tmp_path))
    keys = tmp_path / "keys"
    assert f"no broker key directory at {keys}: " in line
    assert f"python -m broker.partnership.cli init-broker-keys --out {keys}" in line
    assert not (tmp_path / "sgbroker.db").exists()


def test_a_missing_certificate_or_an_unknown_log_level_is_named(tmp_path: Path) -> None:
    missing = _run("broker.gateway", tmp_path, "--ssl-certfile", str(tmp_path / "absent.pem"))
    assert missing.returncode == 2
    assert "Invalid value for '--ssl-certfile'" in missing.stderr and "does not exist" in missing.stderr
    level = _run("broker.gateway", tmp_path, "--log-level", "verbose")
    assert level.returncode == 2
    assert "Invalid value for '--log-level'" in level.stderr
    assert "Traceback" not in missing.stderr + level.stderr


@pytest.mark.stack
async def test_a_start_refused_after_the_checks_is_named_in_one_log_line(
    gateway_factory: GatewayFactory, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="broker.app"), pytest.raises(RegistryError):
        await gateway_factory(partnership_id="another-partnership")
    refusals = [r for r in caplog.records if r.name == "broker.app"]
    assert len(refusals) == 1
    assert refusals[0].getMessage().startswith("the gateway refuses to start: ")
    assert "another-partnership" in refusals[0].getMessage()
    assert refusals[0].__dict__["error"] == "RegistryError"


@pytest.mark.parametrize("command", [["broker.db", "migrate"], ["broker.db", "current"]])
def test_a_database_that_cannot_be_opened_is_named_without_its_password(command: list[str], tmp_path: Path) -> None:
    # Port 1 on the loopback: nothing listens there, so the driver's own refusal is what is shown.
    url = "postgresql+psycopg://sgb:a-password-never-printed@127.0.0.1:1/sgb"
    line = _refused(_run(command[0], tmp_path, *command[1:], SGB_DATABASE_URL=url))
    assert line.startswith("error: cannot open the database postgresql+psycopg://sgb:***@127.0.0.1:1/sgb: ")
    assert "a-password-never-printed" not in line


@pytest.mark.stack
def test_the_worker_names_a_database_it_cannot_open(partnership: LocalPartnership, tmp_path: Path) -> None:
    # Keys and a registry that work, so the database is what refuses the start.
    url = f"sqlite:///{tmp_path / 'no-such-directory' / 'sgbroker.db'}"
    line = _refused(
        _run(
            "broker.worker",
            tmp_path,
            SGB_DATABASE_URL=url,
            SGB_KEYS_DIR=str(partnership.broker_keys_dir),
            SGB_REGISTRY_FILE=str(partnership.registry_file),
            SGB_PARTNERSHIP_ID=partnership.partnership_id,
        )
    )
    assert line == f"error: cannot open the database {url}: unable to open database file"
