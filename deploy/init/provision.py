"""One-shot init job of docker-compose.yml: the demo partnership's keys and registry, the Kafka grants
and the topics, each made only if absent so a restart never replaces keys that are in use.

Runs in the gateway's image as root (the only job that does), so it can hand every file to the user
the services run as (`nobody`): key files must be 0600 and owned by their reader. Layout:

    /var/lib/sgb/partnership   everything provisioned (the operator's copy, and the demo agencies' keys)
    /var/lib/sgb/broker        registry.json and broker-keys/ for the gateway and worker
    <consumer dir>             keys/ (that agency's own keys only) and broker-public-keys.json

In production each agency makes its own keys and sends only the public parts; this job stands in for
that for the fictional agencies of deploy/init/agencies.json (the same as `make demo`'s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from broker.delivery.background import topic_settings
from broker.partnership import kafka_access
from broker.partnership.changes import sign_registration
from broker.partnership.cli import public_parts, witness_part
from broker.partnership.grants import change_access
from broker.partnership.keys import HISTORY_FILE, generate_agency_keys, generate_broker_keys
from broker.partnership.registry import Registry, register_agency, save_registry
from broker.settings import PLACEHOLDER_SECRETS, BrokerSettings
from schemas.topics import dead_letter_topic, inbox_topic, receipts_topic
from transport.kafka import client_config, ensure_topics

SERVICE_UID = 65534  # `nobody`, the USER of the gateway's image
OPERATOR = "compose-provision"
# The super-user deploy/kafka/start.sh formats the cluster with.
ADMIN_USER = "sgb-admin"


def provision_partnership(root: Path, spec: dict[str, Any]) -> None:
    """Keys and a signed registry for every agency of the spec, written whole or not at all."""
    if (root / "registry.json").exists():
        return
    now = datetime.now(UTC)
    agencies, roles = spec["agencies"], spec["roles"]
    root.mkdir(parents=True, exist_ok=True)
    # Built beside the final place and renamed in, so an interrupted run leaves nothing half made.
    work = Path(tempfile.mkdtemp(dir=root, prefix=".provisioning-"))
    broker_keys = generate_broker_keys(work / "broker-keys", now=now)
    registry = Registry(partnership_id=str(spec["partnership_id"]))
    for agency in agencies:
        agency_id = agency["agency_id"]
        keys = generate_agency_keys(work / "agencies" / agency_id, agency_id=agency_id, now=now)
        jwt_key, enc_key = public_parts(keys, now)
        registry = register_agency(
            registry,
            agency_id=agency_id,
            name=agency["name"],
            agency_type=agency["agency_type"],
            jwt_key=jwt_key,
            encryption_key=enc_key,
            now=now,
            witness_key=witness_part(keys, now),
        )
        registry = sign_registration(
            registry,
            action="register",
            agency_id=agency_id,
            by=OPERATOR,
            signing_key=broker_keys.signing_key,
            key_id=broker_keys.signing_key_id,
            now=now,
        )
        for role in roles:
            registry = change_access(
                registry,
                action="grant",
                agency_id=agency_id,
                role=role,
                by=OPERATOR,
                signing_key=broker_keys.signing_key,
                key_id=broker_keys.signing_key_id,
                now=now,
            )
    save_registry(registry, work / "registry.json")
    for name in ("broker-keys", "agencies", "registry.json"):
        (work / name).rename(root / name)
    work.rmdir()
    print(f"provisioned partnership {spec['partnership_id']}: {len(agencies)} agencies")


def copy_if_absent(source: Path, target: Path) -> None:
    if target.exists():
        return
    partial = target.with_name(f".{target.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    if source.is_dir():
        shutil.copytree(source, partial)
    else:
        shutil.copy2(source, partial)
    partial.rename(target)


def hand_over(directory: Path) -> None:
    """Give a service's files to the user it runs as (only possible, and only needed, as root)."""
    if os.geteuid() != 0:
        return
    for path in [directory, *directory.rglob("*")]:
        os.chown(path, SERVICE_UID, SERVICE_UID, follow_symlinks=False)


async def create_topics(settings: BrokerSettings, admin_password: str, agencies: list[str]) -> set[str]:
    """The receipts topic and every agency's inbox and dead-letter topic, with the deployment's replication
    and retention."""
    namespace = settings.topic_namespace
    names = [
        receipts_topic(namespace=namespace),
        *(inbox_topic(a, namespace=namespace) for a in agencies),
        *(dead_letter_topic(a, namespace=namespace) for a in agencies),
    ]
    admin = client_config(
        bootstrap=settings.kafka_bootstrap,
        security_protocol=settings.kafka_security_protocol,
        user=ADMIN_USER,
        password=admin_password,
        ca_file=settings.kafka_ca_file,
    )
    # As the Kafka super-user, provisioning also brings a topic made before into the deployment's
    # retention; the relay's principal may only create topics, not change one's configuration.
    return await ensure_topics(admin, names, settings=topic_settings(settings), align_retention=True)


def partnership_spec(path: Path, partnership_id: str) -> dict[str, Any]:
    """The agencies to provision, for the partnership the gateway and consumers are configured for
    (SGB_PARTNERSHIP_ID): the spec's own id is only the demo's, and a registry made for it would be
    refused by a gateway configured for another."""
    spec: dict[str, Any] = json.loads(path.read_text())
    return {**spec, "partnership_id": partnership_id}


def admin_password() -> str:
    """Kafka's super-user password; a placeholder is refused, as deploy/kafka/start.sh refuses it."""
    password = os.environ.get("KAFKA_ADMIN_PASSWORD", "")
    if password.lower() in PLACEHOLDER_SECRETS:
        raise SystemExit("KAFKA_ADMIN_PASSWORD is empty or a placeholder: set a real one")
    return password


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--spec", type=Path, default=Path(__file__).with_name("agencies.json"), help="the agencies to register (JSON)"
    )
    parser.add_argument(
        "--partnership",
        type=Path,
        default=Path("/var/lib/sgb/partnership"),
        help="where everything provisioned goes (the operator's copy)",
    )
    parser.add_argument(
        "--broker",
        type=Path,
        default=Path("/var/lib/sgb/broker"),
        help="registry.json and broker-keys/ for the gateway and worker",
    )
    parser.add_argument(
        "--consumer",
        action="append",
        default=[],
        metavar="AGENCY=DIR",
        help="an agency whose consumer runs here, and its volume",
    )
    args = parser.parse_args()
    admin = admin_password()  # before anything is made
    settings = BrokerSettings()
    spec = partnership_spec(args.spec, settings.partnership_id)
    partnership: Path = args.partnership
    provision_partnership(partnership, spec)

    broker: Path = args.broker
    copy_if_absent(partnership / "registry.json", broker / "registry.json")
    copy_if_absent(partnership / "broker-keys", broker / "broker-keys")
    hand_over(broker)
    consumers = dict(item.split("=", 1) for item in args.consumer)
    for agency_id, directory in consumers.items():
        target = Path(directory)
        copy_if_absent(partnership / "agencies" / agency_id, target / "keys")
        # Public keys only: a consumer never sees the broker's private signing key.
        copy_if_absent(partnership / "broker-keys" / HISTORY_FILE, target / "broker-public-keys.json")
        hand_over(target)

    namespace = settings.topic_namespace
    grants = kafka_access.relay_grants(namespace=namespace)
    for agency_id in consumers:
        grants += kafka_access.agency_grants(agency_id, namespace=namespace, partnership_id=str(spec["partnership_id"]))
    (partnership / "kafka-grants.txt").write_text("".join(grant.line() + "\n" for grant in grants))

    agencies = [agency["agency_id"] for agency in spec["agencies"]]
    created = asyncio.run(create_topics(settings, admin, agencies))
    print(
        f"Kafka topics in namespace {namespace}: {len(created)} created, replication "
        f"{settings.kafka_replication_factor}, min.insync.replicas {settings.kafka_min_insync_replicas}, "
        f"retention {settings.kafka_topic_retention_hours} hours"
    )


if __name__ == "__main__":
    main()
