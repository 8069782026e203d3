"""The command lines as an operator reads them: every option of every command says what it is, and
a sign-in link points where a gateway listens unless told otherwise.

Every module that builds a `typer.Typer` is found by reading the source, so a new command line is
held to this without being listed here. So is every `add_argument` of the argparse tools (the
benchmarks and the compose init job), read from their syntax trees. No stack needed.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from broker.gateway import DEFAULT_HOST, DEFAULT_PORT
from broker.partnership.keys import generate_agency_keys
from broker.ui import cli

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("broker", "audit", "consumers", "schemas", "transport", "devstack", "demo", "faults", "bench", "deploy")


def _cli_modules() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "typer.Typer(" in path.read_text(encoding="utf-8"):
                found.append(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return found


def _commands(module: str) -> Iterator[tuple[str, Any]]:
    for app in [v for v in vars(importlib.import_module(module)).values() if isinstance(v, typer.Typer)]:
        todo = [(module, typer.main.get_command(app))]
        while todo:
            name, command = todo.pop()
            if hasattr(command, "commands"):  # a group: its commands, each with its own options
                todo += [(f"{name} {sub}", each) for sub, each in command.commands.items()]
            else:
                yield name, command


def test_the_command_lines_are_found() -> None:
    # The scan above can find nothing and pass: these are known to be command lines.
    assert {"broker.gateway", "audit.cli", "broker.ui.cli", "faults.__main__"} <= set(_cli_modules())


@pytest.mark.parametrize("module", _cli_modules())
def test_every_option_says_what_it_is(module: str) -> None:
    silent = [
        f"{name} {'/'.join(param.opts)}"
        for name, command in _commands(module)
        for param in command.params
        if param.name != "help" and not (getattr(param, "help", None) or "").strip()
    ]
    assert silent == [], f"options with no help text: {silent}"


def _argparse_modules() -> list[Path]:
    return [
        path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "argparse.ArgumentParser(" in path.read_text(encoding="utf-8")
    ]


def test_the_argparse_tools_are_found() -> None:
    assert {"bench/run.py", "deploy/init/provision.py"} <= {str(p.relative_to(ROOT)) for p in _argparse_modules()}


@pytest.mark.parametrize("path", _argparse_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_argparse_option_says_what_it_is(path: Path) -> None:
    calls = [
        node
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add_argument"
    ]
    silent = [
        f"line {call.lineno}: {', '.join(ast.unparse(a) for a in call.args)}"
        for call in calls
        if not any(
            k.arg == "help" and not (isinstance(k.value, ast.Constant) and not k.value.value) for k in call.keywords
        )
    ]
    assert calls and silent == [], f"options with no help text: {silent}"


def test_a_sign_in_link_points_where_the_gateway_listens(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    generate_agency_keys(keys, agency_id="school-test", now=datetime.now(UTC))
    printed = CliRunner().invoke(
        cli.app, ["link", "--keys", str(keys), "--agency", "school-test", "--role", "dsl", "--user", "dsl-test-01"]
    )
    assert printed.exit_code == 0, printed.output
    assert printed.output.startswith(f"http://{DEFAULT_HOST}:{DEFAULT_PORT}/ui/signin?token="), printed.output


def test_a_sign_in_link_made_to_outlive_the_broker_s_limit_is_warned_of(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    generate_agency_keys(keys, agency_id="school-test", now=datetime.now(UTC))
    args = ["link", "--keys", str(keys), "--agency", "school-test", "--role", "dsl", "--user", "dsl-test-01"]
    within, beyond = (CliRunner().invoke(cli.app, [*args, "--ttl", ttl]) for ttl in ("600", "1200"))
    assert within.exit_code == beyond.exit_code == 0, (within.output, beyond.output)
    assert "warning" not in within.stderr, within.stderr
    assert "refuses tokens living over 600 s" in beyond.stderr, beyond.stderr


def test_a_sign_in_link_from_keys_that_cannot_sign_is_one_line(tmp_path: Path) -> None:
    # Run as the operator runs it: the module's own entry point turns a broker error into one line.
    keys = tmp_path / "keys"
    generate_agency_keys(keys, agency_id="school-test", now=datetime.now(UTC))

    def link(directory: Path, agency: str) -> subprocess.CompletedProcess[str]:
        args = ["link", "--keys", str(directory), "--agency", agency, "--role", "dsl", "--user", "dsl-test-01"]
        command = [sys.executable, "-m", "broker.ui.cli", *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False, cwd=ROOT)

    for result, says in (
        (link(tmp_path / "absent", "school-test"), "agency.json is missing or not JSON; run generate-keys first"),
        (link(keys, "police-test"), "holds keys of 'school-test', not 'police-test'"),
    ):
        assert result.returncode == 1, result.stderr
        assert result.stdout == ""
        assert "Traceback" not in result.stderr
        # One line, the path whole: the console does not wrap it at its width.
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
        assert says in result.stderr
