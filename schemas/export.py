"""Generate the committed JSON Schema files under schemas/json/ from the models.

    python -m schemas.export            write the files
    python -m schemas.export --check    exit 1 if a committed file is stale (CI, tests)

One file per (message type, schema version), the whole notification union, the policy input
(used by `opa check --strict --schema`) and the policy decision. Importing this module does no I/O;
only `main()` touches files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from schemas.notifications import NOTIFICATION_MODELS, notification_json_schema
from schemas.policy_decision import PolicyDecision
from schemas.policy_input import PolicyInput

JSON_DIR = Path(__file__).resolve().parent / "json"


def _with_id(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": name, **schema}


def generated() -> dict[str, str]:
    """Relative file name -> exact file text, for every schema file this package publishes."""
    schemas: dict[str, dict[str, Any]] = {
        f"notifications/{message_type.value}.v{version}.json": model.model_json_schema()
        for (message_type, version), model in NOTIFICATION_MODELS.items()
    }
    schemas["notification.json"] = notification_json_schema()
    schemas["policy-input.json"] = PolicyInput.model_json_schema()
    schemas["policy-decision.json"] = PolicyDecision.model_json_schema(mode="serialization")
    return {
        name: json.dumps(_with_id(name, schema), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        for name, schema in sorted(schemas.items())
    }


def stale(directory: Path = JSON_DIR) -> list[str]:
    """Files that are missing, different, or no longer generated."""
    wanted = generated()
    out = [
        name
        for name, text in wanted.items()
        if not (directory / name).exists() or (directory / name).read_text(encoding="utf-8") != text
    ]
    present = {p.relative_to(directory).as_posix() for p in directory.rglob("*.json")} if directory.exists() else set()
    out += sorted(present - set(wanted))
    return sorted(out)


def write(directory: Path = JSON_DIR) -> None:
    for name, text in generated().items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for name in stale(directory):  # leftovers from a removed type or version
        (directory / name).unlink()


def main(argv: list[str]) -> int:
    if "--check" in argv:
        bad = stale()
        for name in bad:
            print(f"stale: schemas/json/{name} (run python -m schemas.export)", file=sys.stderr)
        return 1 if bad else 0
    write()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
