"""Every command the README tells an operator to run exists and answers --help."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer.core
import typer.main

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
MODULES = sorted(set(re.findall(r"python -m ([a-z_.]+)", README)))


def test_readme_starts_with_concepts_then_code_map_then_quick_start() -> None:
    headings = re.findall(r"^## (.+)$", README, flags=re.MULTILINE)
    assert headings[:3] == ["Concepts", "Code map", "Quick start"]
    quick = README.split("## Quick start", 1)[1].split("```", 2)[1]
    assert quick.split() == ["sh", "make", "demo", "make", "test"]


@pytest.mark.parametrize("module", MODULES)
def test_documented_command_exists(module: str) -> None:
    result = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Usage" in result.stdout


def test_code_map_names_every_folder() -> None:
    """A new package or room of the gateway without a line in the code map fails here."""
    code_map = README.split("## Code map", 1)[1].split("\n## ", 1)[0]
    root = Path(__file__).resolve().parents[1]
    packages = [p for p in root.iterdir() if (p / "__init__.py").exists() and p.name != "broker"]
    folders = [*packages, root / "policies"]
    folders += [p for p in (root / "broker").iterdir() if (p / "__init__.py").exists()]
    missing = [str(p.relative_to(root)) for p in folders if f"`{p.relative_to(root)}/`" not in code_map]
    assert missing == []


# Each operator's command line, and the typer app behind it.
COMMAND_LINES = {
    "broker.partnership.cli": "broker.partnership.cli:app",
    "audit": "audit.cli:app",
    "broker.ui.cli": "broker.ui.cli:app",
    "consumers": "consumers.__main__:app",
    "broker.db": "broker.db.__main__:cli",
    "devstack": "devstack.__main__:app",
}


@pytest.mark.parametrize("module", sorted(COMMAND_LINES))
def test_operations_name_every_subcommand(module: str) -> None:
    """A subcommand added without a word in the Operations table (where `python -m <module>` is) fails here."""
    path, name = COMMAND_LINES[module].split(":")
    command = typer.main.get_command(getattr(importlib.import_module(path), name))
    assert isinstance(command, typer.core.TyperGroup)
    rows = [line for line in README.splitlines() if f"python -m {module} " in line and line.startswith("|")]
    assert rows, f"no Operations row runs python -m {module}"
    said = " ".join(rows)
    missing = [c for c in sorted(command.commands) if not re.search(rf"(?<![\w-]){re.escape(c)}(?![\w-])", said)]
    assert missing == [], f"README's Operations rows for python -m {module} do not name {missing}"
