"""`make demo`: the whole product on the local stack, end to end, with fictional people.

Registers the demo agencies, gives each a Kafka principal, starts the gateway and one consumer per
agency, posts seed-derived notifications, prints each recipient's decision and why, proves the
Kafka records are ciphertext, lets the consumers deliver and acknowledge (one left undone), logs the
deadline a late notice of a death had already missed, has one sender withdraw a notification and another correct one,
has an agency claim a role it was never granted (refused and logged), and leaves the gateway running
for the review UI.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import typer
from rich.console import Console
from rich.table import Table
from sqlmodel import Session, col, select

import audit
from broker.db.tables import ObligationClock
from broker.delivery.clocks import mark_overdue
from broker.partnership import kafka_access
from broker.partnership.cli import issue_token
from broker.partnership.registry import Registry, load_registry
from broker.ui.plain import duty
from demo import auditor, recall, refusal
from demo.cases import AGENCIES, NHS_NUMBER, OFFICES, PARTNERSHIP_ID, SENSITIVE, cases
from demo.site import AUDIENCE, NAMESPACE, DemoSite, create_topics, decided_by, read_deliveries
from devstack import kafka, opa
from devstack.partnership import provision
from devstack.process import running_pid, start_daemon, stop_pid
from devstack.settings import KAFKA_VERSION, StackSettings
from schemas.topics import inbox_topic

console = Console(width=140)
cli = typer.Typer(add_completion=False, help=__doc__.splitlines()[0])
PORT = 8080
LATE_AGENCY = "lado-fenmere"


def _gateway_env(site: DemoSite, stack: StackSettings) -> dict[str, str]:
    env = dict(os.environ)
    env.update({line.split("=", 1)[0]: line.split("=", 1)[1] for line in stack.env_file.read_text().splitlines()})
    env.update(
        {
            "SGB_DATABASE_URL": f"sqlite:///{site.root / 'broker.db'}",
            "SGB_PARTNERSHIP_ID": PARTNERSHIP_ID,
            "SGB_REGISTRY_FILE": str(site.partnership.registry_file),
            "SGB_KEYS_DIR": str(site.partnership.broker_keys_dir),
            "SGB_AUDIENCE": AUDIENCE,
            "SGB_CLOCK_CHECK_SECONDS": "5",
            # Checkpoints every 2 s, not 10: the demo is over in under a minute, and only a record that
            # carries a checkpoint covering entries gives its agency's witness something to cosign.
            "SGB_CHECKPOINT_SECONDS": "2",
            "SGB_TOPIC_NAMESPACE": NAMESPACE,
            # Beside broker.db, which each demo starts afresh with it: the log's anchor outlives a restart.
            "SGB_ANCHOR_FILE": str(site.root / "log-anchor"),
        }
    )
    return env


def _consumer_env(site: DemoSite, agency: str, password: str, stack: StackSettings) -> dict[str, str]:
    return {
        **os.environ,
        "CONSUMER_AGENCY_ID": agency,
        "CONSUMER_ENVIRONMENT": "development",  # loopback Kafka without TLS
        "CONSUMER_KAFKA_PASSWORD": password,
        "CONSUMER_KAFKA_BOOTSTRAP": f"{stack.host}:{stack.kafka_port}",
        "CONSUMER_KEY_DIR": str(site.partnership.agency_keys_dir(agency)),
        "CONSUMER_BROKER_PUBLIC_KEYS": str(site.partnership.broker_keys_dir),
        "CONSUMER_SINK": f"sqlite:{site.root / f'inbox-{agency}.db'}",
        "CONSUMER_LEDGER_PATH": str(site.root / f"ledger-{agency}.db"),
        "CONSUMER_BROKER_AUDIENCE": AUDIENCE,
        "CONSUMER_TOPIC_NAMESPACE": NAMESPACE,
        # The gateway's SGB_PARTNERSHIP_ID: each consumer group is named, and granted, under the partnership.
        "CONSUMER_PARTNERSHIP_ID": PARTNERSHIP_ID,
        # Each consumer witnesses the decision log through the gateway, as in docker-compose.yml.
        "CONSUMER_GATEWAY_URL": site.url,
    }


def _stop_all(site: DemoSite) -> None:
    for pid_file in sorted(site.root.glob("*.pid")) if site.root.exists() else []:
        stop_pid(pid_file, "-m", name=pid_file.stem, grace=15)


def _setup(site: DemoSite, stack: StackSettings) -> dict[str, str]:
    _stop_all(site)
    shutil.rmtree(site.root, ignore_errors=True)
    site.root.mkdir(parents=True)
    provision(site.root / "partnership", PARTNERSHIP_ID, AGENCIES, OFFICES)
    passwords = {spec.agency_id: secrets.token_urlsafe(18) for spec in AGENCIES}
    kafka_access.apply(
        kafka_libs=stack.kafka_libs,
        admin_properties=kafka.admin_properties(stack),
        users=passwords,
        grants=[
            g
            for spec in AGENCIES
            for g in kafka_access.agency_grants(spec.agency_id, namespace=NAMESPACE, partnership_id=PARTNERSHIP_ID)
        ],
    )
    asyncio.run(create_topics(kafka.admin_config(stack), [spec.agency_id for spec in AGENCIES]))
    console.print(
        f"[green]✓[/green] {len(AGENCIES)} fictional agencies registered, each with its own keys and "
        "Kafka principal (SASL/SCRAM, ACLs: own inbox only)"
    )
    return passwords


def _start(site: DemoSite, stack: StackSettings, passwords: dict[str, str]) -> None:
    start_daemon(
        [sys.executable, "-m", "broker.gateway", "--port", str(PORT)],
        log_file=site.root / "gateway.log",
        pid_file=site.root / "gateway.pid",
        env=_gateway_env(site, stack),
    )
    for agency, password in passwords.items():
        start_daemon(
            [sys.executable, "-m", "consumers", "run", "--agency", agency],
            log_file=site.root / f"consumer-{agency}.log",
            pid_file=site.root / f"consumer-{agency}.pid",
            env=_consumer_env(site, agency, password, stack),
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{site.url}/readyz", timeout=2).status_code == 200:
                console.print(f"[green]✓[/green] gateway ready at {site.url}; {len(passwords)} consumers running")
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    console.print(f"[red]gateway did not start; see {site.root / 'gateway.log'}[/red]")
    raise typer.Exit(1)


def _post_all(site: DemoSite) -> list[dict[str, Any]]:
    receipts = []
    table = Table(title="Decisions per recipient (from the real OPA server)", show_lines=True)
    for column in ("notification", "recipient", "outcome", "decided by", "fields released"):
        table.add_column(column, overflow="fold")
    for title, notification in cases():
        sender = notification["sender"]["agency_id"]
        token = issue_token(site.partnership.agency_keys(sender), role="agency_system", audience=AUDIENCE)
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": notification["notification_id"]}
        response = httpx.post(f"{site.url}/v1/notifications", json=notification, timeout=10, headers=headers)
        response.raise_for_status()
        body = response.json()
        receipts.append({"title": title, "sender": sender, "notification": notification, **body})
        for recipient in body["recipients"]:
            table.add_row(
                title,
                f"{recipient['agency_id']}\n({recipient['role']})",
                recipient["outcome"],
                decided_by(recipient),
                ", ".join(recipient["allowed_fields"]) or "—",
            )
    console.print(table)
    return receipts


def _prove_ciphertext(stack: StackSettings, receipts: list[dict[str, Any]]) -> None:
    shared = next(r for receipt in receipts for r in receipt["recipients"] if r["outcome"].startswith("share"))
    topic = inbox_topic(shared["agency_id"], namespace=NAMESPACE)
    found = asyncio.run(read_deliveries(kafka.admin_config(stack), topic, want={shared["delivery_id"]}, timeout=15))
    if not found:
        console.print("[red]no record found on the inbox topic[/red]")
        return
    record: bytes = found[0].value
    envelope = json.loads(record)
    leaked = [value for value in SENSITIVE if value.encode() in record]
    console.print(f"\nRaw Kafka record on [bold]{topic}[/bold] ({len(record)} bytes):")
    console.print(f"  header: {envelope['header']}")
    console.print(f"  ciphertext: {envelope['ciphertext'][:72]}…  suite: {envelope['suite']}")
    verdict = "[red]LEAKED " + ", ".join(leaked) + "[/red]" if leaked else "[green]none in plaintext[/green]"
    console.print(f"  child's name, date of birth, address, NHS number: {verdict}")


def _acknowledge(
    site: DemoSite, stack: StackSettings, passwords: dict[str, str], receipts: list[dict[str, Any]]
) -> None:
    shared = [
        (r["agency_id"], r["delivery_id"], receipt["notification_id"])
        for receipt in receipts
        for r in receipt["recipients"]
        if r["outcome"].startswith("share")
    ]
    site.wait_for(
        lambda: all(
            site.status(receipt, a, d) in {"delivered", "acknowledged"}
            for a, d, receipt in _with_receipts(shared, receipts)
        ),
        what="deliveries",
        timeout=60,
    )
    console.print(f"[green]✓[/green] {len(shared)} deliveries verified, decrypted and delivered by the consumers")
    for agency, delivery_id, notification_id in shared:
        if agency == LATE_AGENCY:
            continue  # left unacknowledged, so its page shows a deadline still running
        subprocess.run(  # noqa: S603 - our own CLI
            [
                sys.executable,
                "-m",
                "consumers",
                "ack",
                "--agency",
                agency,
                "--delivery-id",
                delivery_id,
                "--notification-id",
                notification_id,
                "--by",
                f"{agency}-duty-worker",
            ],
            env=_consumer_env(site, agency, passwords[agency], stack),
            check=True,
            capture_output=True,
        )
    site.wait_for(
        lambda: all(
            site.status(receipt, a, d) == "acknowledged"
            for a, d, receipt in _with_receipts(shared, receipts)
            if a != LATE_AGENCY
        ),
        what="acknowledgements",
        timeout=60,
    )
    console.print(
        "[green]✓[/green] acknowledgements recorded in the decision log; the LADO's left undone, its deadline running"
    )


def _with_receipts(shared: list[tuple[str, str, str]], receipts: list[dict[str, Any]]) -> list[tuple[str, str, Any]]:
    by_id = {r["notification_id"]: r for r in receipts}
    return [(agency, delivery, by_id[notification]) for agency, delivery, notification in shared]


def _show_status(site: DemoSite, receipt: dict[str, Any]) -> None:
    table = Table(title=f"Sender's view: {receipt['title']}")
    for column in ("recipient", "outcome", "status", "overdue"):
        table.add_column(column)
    for item in site.notification(receipt)["recipients"]:
        table.add_row(item["agency_id"], item["outcome"], item["status"], "yes" if item["overdue"] else "")
    console.print(table)


def _overdue(site: DemoSite, receipts: list[dict[str, Any]]) -> None:
    # The worker's check, run now on the real clock: a deadline the demo left to run out would take a
    # working day, so the demo's late one is a death notified after its 12-hour ICMD was due.
    engine = audit.create_engine_for(f"sqlite:///{site.root / 'broker.db'}")
    with Session(engine, expire_on_commit=False) as session:
        mark_overdue(session, datetime.now(UTC))
        session.commit()
        late = overdue_now(session)  # the gateway's own worker may have marked them first
    engine.dispose()
    console.print("\n[bold]Overdue now[/bold]: " + ("1 deadline" if len(late) == 1 else f"{len(late)} deadlines"))
    for clock in late:
        due = duty(clock.description)
        console.print(f"  {clock.recipient_agency}, due {clock.due_at:%a %d %b %H:%M} UTC: {due.text}")
        if due.source:
            console.print(f"    [dim]{due.source}[/dim]")
    # Each late notification's view again, now that its clock has run out.
    late_ids = {clock.notification_id for clock in late}
    for receipt in receipts:
        if receipt["notification_id"] in late_ids:
            _show_status(site, receipt)


def overdue_now(session: Session) -> list[ObligationClock]:
    """Every deadline marked overdue and still unanswered, soonest due first, whoever's check marked it."""
    query = select(ObligationClock).where(
        col(ObligationClock.overdue_at).is_not(None), col(ObligationClock.stopped_at).is_(None)
    )
    return list(session.exec(query.order_by(col(ObligationClock.due_at))))


def _finish(site: DemoSite, stack: StackSettings) -> None:
    report = _verify(site)
    console.print(f"\nDecision log: {_said(report)}")
    console.print(f"Witnesses: {_witnessed(site, report.size)}")
    registry, _, marks = _marks(site)
    if marks:  # an agency that cosigned keeps that checkpoint in its own ledger
        witness = max(marks, key=lambda m: m.size).name
        auditor.check_against_kept_checkpoint(site, console, agency=witness, name=registry.agencies[witness].name)
    cluster = asyncio.run(kafka.describe(stack))
    console.print(
        f"Apache Kafka {KAFKA_VERSION} (KRaft) cluster {cluster} on {stack.host}:{stack.kafka_port}; "
        f"OPA {opa.version(stack)} at {opa.url(stack)} — the real servers, started by this project"
    )
    dsl = issue_token(
        site.partnership.agency_keys("school-oakfield-primary"),
        role="dsl",
        audience=AUDIENCE,
        ttl=timedelta(minutes=10),
        subject="demo-dsl",
    )
    ig = issue_token(
        site.partnership.agency_keys("csc-fenmere-mash"),
        role="ig_lead",
        audience=AUDIENCE,
        ttl=timedelta(minutes=10),
        subject="demo-ig-lead",
    )
    console.print(f"\nReview UI: {site.url}/ui  (sign-in links valid 10 minutes)")
    # One line each, never wrapped: a link broken over lines cannot be clicked or copied whole.
    console.print(f"  DSL, Oakfield Primary:   {site.url}/ui/signin?token={dsl}", soft_wrap=True)
    console.print(f"  IG lead, Fenmere CSC:    {site.url}/ui/signin?token={ig}", soft_wrap=True)
    spaced = f"{NHS_NUMBER[:3]} {NHS_NUMBER[3:6]} {NHS_NUMBER[6:]}"
    console.print(
        f"  Case review (as the IG lead): NHS number {spaced} finds the child of every agency's notification above"
    )
    console.print("The gateway and consumers keep running; stop them with: python -m demo stop")


def _verify(site: DemoSite) -> audit.LogReport:
    engine = audit.create_engine_for(f"sqlite:///{site.root / 'broker.db'}", read_only=True)
    with Session(engine) as session:
        report = audit.verify_log(session)
    engine.dispose()
    return report


def _said(report: audit.LogReport) -> str:
    checkpoints = f"{report.checkpoints} signed checkpoint{'s' if report.checkpoints != 1 else ''}"
    return f"{report.size} entries, hash chain and {checkpoints} verified"


def _marks(site: DemoSite) -> tuple[Registry, list[str], list[audit.WitnessMark]]:
    """The registry, every witness's name, and the verified cosignatures the log holds."""
    registry = load_registry(site.partnership.registry_file)
    keys = [k.witness() for agency in registry.agencies.values() for k in agency.witness_keys]
    engine = audit.create_engine_for(f"sqlite:///{site.root / 'broker.db'}", read_only=True)
    with Session(engine) as session:
        marks = [m for m in audit.witness_marks(session, keys) if m.verified and m.size > 0]
    engine.dispose()
    return registry, [k.name for k in keys], marks


def _witnessed(site: DemoSite, size: int) -> str:
    registry, names, marks = _marks(site)
    said = "; ".join(f"{registry.agencies[m.name].name} cosigned it up to {m.size} of {size} entries" for m in marks)
    others = len(set(names) - {m.name for m in marks})
    # A witness cosigns the checkpoint its records carry: records sealed before the first checkpoint
    # that covers an entry give it nothing to cosign.
    why = "the records they received, if any, were all sealed before a checkpoint covered an entry"
    if not marks:
        return f"none of the {others} agencies has anything to cosign yet: {why} (the audit page shows each)"
    return f"{said}; the other {others} have nothing to cosign yet: {why} (the audit page shows each)"


@cli.command()
def run() -> None:
    """Run the demo end to end (the stack must be up: `make demo` does that first)."""
    stack = StackSettings()
    site = DemoSite(stack.state_dir / "demo", PORT)
    passwords = _setup(site, stack)
    _start(site, stack, passwords)
    receipts = _post_all(site)
    _prove_ciphertext(stack, receipts)
    _acknowledge(site, stack, passwords, receipts)
    _show_status(site, receipts[0])
    _overdue(site, receipts)
    recall.withdraw(site, receipts, console)
    recall.correct(site, receipts, console)
    refusal.claim_an_ungranted_role(site, console)
    _finish(site, stack)


@cli.command()
def stop() -> None:
    """Stop the demo's gateway and consumers."""
    stack = StackSettings()
    site = DemoSite(stack.state_dir / "demo", PORT)
    _stop_all(site)
    if running_pid(site.root / "gateway.pid", "-m") is None:
        console.print("demo stopped")


if __name__ == "__main__":
    cli()
