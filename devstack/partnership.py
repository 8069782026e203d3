"""Setting up a partnership locally: broker keys, each agency's key pairs, and the registry.

Used by `make demo` and by the tests; in production each agency generates its own keys and sends
only the public parts to be registered (`python -m broker.partnership.cli`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from broker.partnership.cli import public_parts
from broker.partnership.keys import AgencyKeys, generate_agency_keys, generate_broker_keys, load_agency_keys
from broker.partnership.registry import Registry, register_agency, save_registry


@dataclass(frozen=True)
class AgencySpec:
    agency_id: str
    agency_type: str
    name: str


@dataclass(frozen=True)
class LocalPartnership:
    """Where a locally provisioned partnership keeps its files."""

    root: Path
    partnership_id: str

    @property
    def registry_file(self) -> Path:
        return self.root / "registry.json"

    @property
    def broker_keys_dir(self) -> Path:
        return self.root / "broker-keys"

    def agency_keys_dir(self, agency_id: str) -> Path:
        return self.root / "agencies" / agency_id

    def agency_keys(self, agency_id: str) -> AgencyKeys:
        return load_agency_keys(self.agency_keys_dir(agency_id))


def provision(root: Path, partnership_id: str, agencies: list[AgencySpec]) -> LocalPartnership:
    """Create broker keys, agency keys and a registry under `root` (which must not hold them yet)."""
    now = datetime.now(UTC)
    local = LocalPartnership(root, partnership_id)
    generate_broker_keys(local.broker_keys_dir, now=now)
    registry = Registry(partnership_id=partnership_id)
    for spec in agencies:
        keys = generate_agency_keys(local.agency_keys_dir(spec.agency_id), agency_id=spec.agency_id, now=now)
        jwt_key, enc_key = public_parts(keys, now)
        registry = register_agency(
            registry, agency_id=spec.agency_id, name=spec.name, agency_type=spec.agency_type,
            jwt_key=jwt_key, encryption_key=enc_key, now=now,
        )
    save_registry(registry, local.registry_file)
    return local
