"""Import rules: the import-linter contracts in pyproject.toml ([tool.importlinter]) hold.

No stack needed: import-linter reads the source, it imports nothing of ours.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The venv's own console script, so the test checks with the pinned import-linter, not one on PATH.
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(*config_files: Path) -> subprocess.CompletedProcess[str]:
    # --no-cache: a stale cache from another checkout or run could hide a new import.
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", "--no-cache", *map(str, config_files)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_import_contracts_are_kept() -> None:
    result = lint_imports()
    assert result.returncode == 0, f"an import contract is broken:\n{result.stdout}\n{result.stderr}"
    assert "0 broken" in result.stdout, result.stdout


def test_a_broken_contract_fails_the_check(tmp_path: Path) -> None:
    """The check above can fail: a contract the code is known to break (broker uses schemas) is reported."""
    config = tmp_path / "broken.toml"
    config.write_text(
        '[tool.importlinter]\nroot_packages = ["broker", "schemas"]\n\n'
        '[[tool.importlinter.contracts]]\nname = "known broken"\ntype = "forbidden"\n'
        'source_modules = ["broker"]\nforbidden_modules = ["schemas"]\n'
    )
    result = lint_imports(config)
    assert result.returncode == 1, f"{result.stdout}\n{result.stderr}"
    assert "known broken BROKEN" in result.stdout, result.stdout
    assert "broker is not allowed to import schemas" in result.stdout, result.stdout
