"""docker-compose.yml's SGB_PARTNERSHIP_ID is the partnership `provision` makes the registry and the
consumers' group grants for: with the spec's own id only, any other value left a gateway that
refused its registry at start (registry file ... is partnership 'fenmere_scp')."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

from broker.partnership.registry import load_registry

INIT = Path(__file__).resolve().parents[1] / "deploy" / "init"


def _provision_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("compose_provision", INIT / "provision.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_provision_makes_the_registry_for_the_configured_partnership(tmp_path: Path) -> None:
    provision = _provision_module()
    spec = provision.partnership_spec(INIT / "agencies.json", "brookside_scp")
    assert spec["agencies"] == json.loads((INIT / "agencies.json").read_text())["agencies"]
    provision.provision_partnership(tmp_path / "partnership", spec)
    registry = load_registry(tmp_path / "partnership" / "registry.json", partnership_id="brookside_scp")
    assert registry.partnership_id == "brookside_scp"
