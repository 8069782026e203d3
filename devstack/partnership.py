"""Setting up a partnership locally: broker keys, each agency's key pairs, and the registry.

Used by `make demo` and by the tests; in production each agency generates its own keys and sends
only the public parts to be registered, and an operator grants roles one signed change at a time
(`python -m broker.partnership.cli register / grant / appoint`). Here the same signed changes are
made at once, by the fictional operator `devstack-provision`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from broker.partnership.changes import sign_registration
from broker.partnership.cli import public_parts, witness_part
from broker.partnership.grants import change_access
from broker.partnership.keys import (
    AgencyKeys,
    BrokerKeys,
    generate_agency_keys,
    generate_broker_keys,
    load_agency_keys,
)
from broker.partnership.registry import Registry, register_agency, save_registry
from broker.partnership.roles import Office
from schemas.envelope import SUITE_NAME, SuiteName

# What a local partnership's agencies are granted unless a spec says otherwise: the agency-level
# roles that send and decide. IG leads and Caldicott Guardians only where a spec names them.
DEV_ROLES = ("practitioner", "dsl", "line_manager", "named_professional")
OPERATOR = "devstack-provision"


@dataclass(frozen=True)
class AgencySpec:
    agency_id: str
    agency_type: str
    name: str
    # The agency's sealing suite: X25519, or the post-quantum hybrid (schemas.envelope.HYBRID_SUITE_NAME).
    suite: SuiteName = SUITE_NAME
    # The person roles its tokens may assert (agency_system needs no grant).
    roles: tuple[str, ...] = DEV_ROLES


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


def provision(
    root: Path, partnership_id: str, agencies: list[AgencySpec], offices: dict[Office, str] | None = None
) -> LocalPartnership:
    """Create broker keys, agency keys and a registry under `root` (which must not hold them yet);
    `offices` names the agency whose IG lead or Caldicott Guardian holds each partnership office."""
    now = datetime.now(UTC)
    local = LocalPartnership(root, partnership_id)
    broker_keys = generate_broker_keys(local.broker_keys_dir, now=now)
    registry = Registry(partnership_id=partnership_id)
    for spec in agencies:
        keys = generate_agency_keys(
            local.agency_keys_dir(spec.agency_id), agency_id=spec.agency_id, now=now, suite=spec.suite
        )
        jwt_key, enc_key = public_parts(keys, now)
        registry = register_agency(
            registry,
            agency_id=spec.agency_id,
            name=spec.name,
            agency_type=spec.agency_type,
            jwt_key=jwt_key,
            encryption_key=enc_key,
            now=now,
            witness_key=witness_part(keys, now),
        )
        registry = sign_registration(
            registry,
            action="register",
            agency_id=spec.agency_id,
            by=OPERATOR,
            signing_key=broker_keys.signing_key,
            key_id=broker_keys.signing_key_id,
            now=now,
        )
    registry = _grant(registry, agencies, offices or {}, broker_keys, now)
    save_registry(registry, local.registry_file)
    return local


def _grant(
    registry: Registry, agencies: list[AgencySpec], offices: dict[Office, str], keys: BrokerKeys, now: datetime
) -> Registry:
    key, kid = keys.signing_key, keys.signing_key_id
    for spec in agencies:
        for role in spec.roles:
            registry = change_access(
                registry,
                action="grant",
                agency_id=spec.agency_id,
                role=role,
                by=OPERATOR,
                signing_key=key,
                key_id=kid,
                now=now,
            )
    for office, agency_id in offices.items():
        registry = change_access(
            registry,
            action="appoint",
            agency_id=agency_id,
            office=office,
            by=OPERATOR,
            signing_key=key,
            key_id=kid,
            now=now,
        )
    return registry
