"""Architecture rules: the import-linter contracts in pyproject.toml ([tool.importlinter]) hold, and no
product module or function grows past what a reader can hold at once; the Rego files under policies/ are
held to the modules' size, and each policy file has its tests beside it.

No stack needed: import-linter reads the source, it imports nothing of ours.
"""

from __future__ import annotations

import ast
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


PRODUCT = ("broker", "consumers", "schemas", "audit", "transport")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def oversized(root: Path) -> list[str]:
    """Product modules over 400 lines and functions over 60: the sizes a reader can hold at once."""
    found = []
    for package in PRODUCT:
        for path in sorted((root / package).rglob("*.py")):
            source = path.read_text()
            if len(source.splitlines()) > MAX_MODULE_LINES:
                found.append(f"{path.relative_to(root)}: {len(source.splitlines())} lines")
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    length = (node.end_lineno or node.lineno) - node.lineno + 1
                    if length > MAX_FUNCTION_LINES:
                        found.append(f"{path.relative_to(root)}:{node.lineno} {node.name}: {length} lines")
    return found


def test_no_product_module_or_function_is_oversized() -> None:
    assert oversized(Path(__file__).resolve().parents[1]) == []


def test_the_size_check_finds_a_long_function(tmp_path: Path) -> None:
    (tmp_path / "broker").mkdir()
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    (tmp_path / "broker" / "long.py").write_text(f"def long() -> None:\n{body}\n")
    for package in PRODUCT[1:]:
        (tmp_path / package).mkdir()
    assert oversized(tmp_path) == [f"broker/long.py:1 long: {MAX_FUNCTION_LINES + 1} lines"]


def oversized_policies(root: Path) -> list[str]:
    """Rego files, policies and their tests alike, held to the Python modules' limit of 400 lines."""
    found = []
    for path in sorted((root / "policies").rglob("*.rego")):
        length = len(path.read_text().splitlines())
        if length > MAX_MODULE_LINES:
            found.append(f"{path.relative_to(root)}: {length} lines")
    return found


def untested_policies(root: Path) -> list[str]:
    """Policy files with no `<name>_test.rego` beside them: a reader finds a rule's tests next to its file."""
    return [
        f"{path.relative_to(root)}: no {path.stem}_test.rego beside it"
        for path in sorted((root / "policies").rglob("*.rego"))
        if not path.stem.endswith("_test") and not path.with_name(f"{path.stem}_test.rego").is_file()
    ]


def test_no_policy_file_is_oversized() -> None:
    assert oversized_policies(ROOT) == []


def test_every_policy_file_has_its_tests_beside_it() -> None:
    assert untested_policies(ROOT) == []


def test_the_policy_checks_find_a_long_file_and_a_missing_test(tmp_path: Path) -> None:
    rules = tmp_path / "policies" / "pack"
    rules.mkdir(parents=True)
    (rules / "long.rego").write_text("package pack\n" + "x := 1\n" * MAX_MODULE_LINES)
    (rules / "long_test.rego").write_text("package pack_test\n")
    (rules / "alone.rego").write_text("package pack\n")
    assert oversized_policies(tmp_path) == [f"policies/pack/long.rego: {MAX_MODULE_LINES + 1} lines"]
    assert untested_policies(tmp_path) == ["policies/pack/alone.rego: no alone_test.rego beside it"]
