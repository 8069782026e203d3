"""`pip install .` alone (no extras, not editable) gives a working gateway, worker and consumer.

What a deployment (the Dockerfile) gets: a fresh virtualenv, the product packages with their data
files (templates, static files, Java source, Alembic migrations, JSON schemas), the runtime
dependencies only, and none of the dev-only packages. Slow and needs the package index, so those
tests are marked `install` and run by `make install-check`, not with the fast subset.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The working tree, not `git ls-files`, so the check covers what is about to be committed; less
# what is never part of a source tree (local state, caches, screenshots, the dev venv itself).
_NOT_SOURCE_AT_TOP = {
    ".git",
    ".venv",
    ".stack",
    ".hypothesis",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".import_linter_cache",
    "build",
    "dist",
    "screenshots",
    "broker-keys",
    "registry.json",
}
DEV_ONLY = ["devstack", "demo", "tests", "bench", "faults"]
# Tools only the extras install (not httpx or yaml: runtime dependencies may bring those along).
DEV_LIBRARIES = ["pytest", "mypy", "importlinter", "playwright", "schemathesis"]


def product_packages() -> list[str]:
    """The top-level packages pyproject.toml ships (its packages.find include, e.g. "broker*")."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return sorted(pattern.rstrip("*") for pattern in pyproject["tool"]["setuptools"]["packages"]["find"]["include"])


def _ignore(directory: str, names: list[str]) -> set[str]:
    ignored = {name for name in names if name == "__pycache__" or name.endswith((".pyc", ".egg-info"))}
    if Path(directory).resolve() == ROOT:
        ignored |= _NOT_SOURCE_AT_TOP.intersection(names)
    return ignored


def source_files(package: str) -> set[str]:
    """Every file of a product package in the tree (code and data), relative to site-packages."""
    return {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


# Runs in the fresh venv, from a directory outside the repository, so only installed code is found.
PROBE = """
import importlib.metadata, importlib.util, json, sys
from pathlib import Path

import broker.app, broker.worker, consumers.__main__

app = broker.app.create_app()
static = next(route for route in app.routes if getattr(route, "name", None) == "static")
site = Path(broker.__file__).resolve().parents[1]
packages, dev_only, dev_libraries = json.loads(sys.argv[1])
print(json.dumps({
    "prefix": str(Path(sys.prefix).resolve()),
    "site": str(site),
    "static_dir": str(Path(static.app.directory).resolve()),
    "files": sorted(
        path.relative_to(site).as_posix()
        for package in packages
        for path in (site / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    ),
    "importable": {name: importlib.util.find_spec(name) is not None for name in dev_only + dev_libraries},
    "distribution": importlib.metadata.version("safeguarding-broker"),
}))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, dict[str, str]]]:
    """(venv python, a directory outside the repository, a clean environment) after `pip install .`."""
    base = tmp_path_factory.mktemp("install")
    source = base / "src"
    shutil.copytree(ROOT, source, ignore=_ignore)
    venv = base / "venv"
    # The base interpreter, not this venv's: the new venv must see none of the dev packages.
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    outside = base / "elsewhere"
    outside.mkdir()
    # No SGB_* settings and no PYTHONPATH: only the installed package is used. pip keeps the user's
    # configuration and cache (PIP_*, HOME), so repeated runs download nothing.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SGB_", "PYTHON", "VIRTUAL_ENV"))}
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", str(source)],
        cwd=outside,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, f"pip install . failed:\n{result.stdout}\n{result.stderr}"
    # The app's default state directories (under HOME) then point nowhere shared.
    yield python, outside, {**env, "HOME": str(base / "home")}
    shutil.rmtree(base, ignore_errors=True)  # a venv and a source copy: too big to keep for every run


def probe(installed: tuple[Path, Path, dict[str, str]]) -> dict[str, Any]:
    python, outside, env = installed
    arguments = json.dumps([product_packages(), DEV_ONLY, DEV_LIBRARIES])
    result = subprocess.run(
        [str(python), "-c", PROBE, arguments],
        cwd=outside,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"the installed app, worker or consumer does not import or build:\n{result.stderr}"
    facts: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return facts


@pytest.mark.install
def test_installed_package_imports_runs_and_ships_its_data(installed: tuple[Path, Path, dict[str, str]]) -> None:
    facts = probe(installed)
    assert facts["site"].startswith(facts["prefix"]), f"imported from {facts['site']}, not the fresh venv"
    assert facts["static_dir"].startswith(facts["site"]), facts["static_dir"]
    assert Path(facts["static_dir"]).is_dir() and any(Path(facts["static_dir"]).iterdir())
    # Every file of every product package ships: code (a directory without __init__.py would be
    # missed by packages.find) and data (templates, static, Java source, migrations, JSON schemas).
    missing = set().union(*(source_files(package) for package in product_packages())) - set(facts["files"])
    assert not missing, f"not installed (pyproject.toml package-data or an __init__.py): {sorted(missing)}"


@pytest.mark.install
def test_dev_only_code_is_not_installed(installed: tuple[Path, Path, dict[str, str]]) -> None:
    importable = probe(installed)["importable"]
    assert not [name for name in DEV_ONLY if importable[name]], importable
    assert not [name for name in DEV_LIBRARIES if importable[name]], f"a dev-only library got installed: {importable}"


@pytest.mark.install
def test_entry_points_start(installed: tuple[Path, Path, dict[str, str]]) -> None:
    """The worker and consumer CLIs start, and the deployment's migration step runs from the installed files."""
    python, outside, env = installed
    for module in ["broker.worker", "consumers", "broker.db"]:
        result = subprocess.run(
            [str(python), "-m", module, "--help"],
            cwd=outside,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, f"python -m {module} --help:\n{result.stdout}\n{result.stderr}"
    database = outside / "migrated.db"
    result = subprocess.run(
        [str(python), "-m", "broker.db", "migrate"],
        cwd=outside,
        env={**env, "SGB_DATABASE_URL": f"sqlite:///{database}"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"python -m broker.db migrate:\n{result.stdout}\n{result.stderr}"
    assert database.stat().st_size > 0


def test_dockerfile_installs_every_product_package_without_extras() -> None:
    """The image is built as tested above: every product package copied in, then `pip install .` alone."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = {
        source
        for sources in re.findall(r"^COPY\s+(.+?)\s+\S+\s*$", dockerfile, re.MULTILINE)
        for source in sources.split()
    }
    assert not set(product_packages()) - copied, f"the Dockerfile does not copy {set(product_packages()) - copied}"
    installs = re.findall(r"pip install\b[^\n&;|]*", dockerfile)
    assert installs, "the Dockerfile installs nothing"
    for command in installs:
        assert command.split()[-1] == ".", f"the image must be built with `pip install .` alone: {command}"
        assert "-e" not in command.split(), command
