"""Command line of an agency's consumer: `python -m consumers run|ack|list|checkpoint|set-aside --agency ID`.

Settings come from `CONSUMER_*` variables (see consumers/settings.py); options given here win.
The Kafka password is read from CONSUMER_KAFKA_PASSWORD only, never from the command line, where
other local users could see it in the process list.

The receipts topic and the agency's dead-letter topic must exist before `run`: the agency's Kafka
principal may not create topics, so the operator creates them (the gateway's relay creates inboxes).
Topic and group names start with CONSUMER_TOPIC_NAMESPACE (default `sgb`), which must equal the
gateway's SGB_TOPIC_NAMESPACE; the group name also carries CONSUMER_PARTNERSHIP_ID, which must equal
the gateway's SGB_PARTNERSHIP_ID (the operator grants the group's ACL under it). With
CONSUMER_GATEWAY_URL set, the consumer witnesses the decision log (consumers/witness.py). `run`
logs one JSON object per line on stderr (consumers/logs.py) and, with CONSUMER_METRICS_PORT set,
serves Prometheus metrics there (consumers/metrics.py).

Exit status of `run`: 0 stopped by a signal, 2 refused to start (settings, keys, an inbox other users
can read, topics) or stopped on a record signed or sealed with a key it does not hold, or carrying a
checkpoint signed with a broker key it does not hold, the key named (install it and start again; the
record is read again), 3 stopped by a witness alarm: the log contradicts the
checkpoint this agency kept (the alarm is printed and logged with its evidence; nothing after the
record that showed it was delivered or committed). A refusal is one line, `error: …`, and the ledger
is opened only after every check before Kafka passed, so a refused start leaves no empty ledger.
Kafka unreachable, or refusing the login, the group or a topic, does not stop `run`: it logs what
failed and the setting to check, and tries again, waiting from 1 s up to 30 s.

`ack` acknowledges only what the ledger (CONSUMER_LEDGER_PATH or `--ledger`, the one `run` keeps)
records as handed to the agency's system, under that notification, and not since withdrawn,
corrected or erased: anything else is refused with exit status 2 and nothing is sent. An
acknowledgement stops the statutory clocks, so it must never be sent for something nobody here holds.
A Kafka that refuses the agency's login or the receipts topic (a wrong CONSUMER_KAFKA_PASSWORD or
CONSUMER_TOPIC_NAMESPACE) is exit status 2 too, one that cannot be reached exit status 1 (send it
again); either is one line naming what failed and the settings to check, and nothing was sent.

`list` reads the agency's SQLite inbox and never creates one: a path with no inbox, or an inbox other
users can read, is refused with exit status 2, and an empty inbox says it is empty.

`checkpoint` prints the decision log's checkpoint this agency's witness kept, with its own cosignature:
the file an auditor checks the broker's log against (`python -m audit verify --checkpoint FILE`). It
is the agency's own evidence, kept where the broker's administrators cannot reach it.

`set-aside` is for after a witness alarm, once the partnership has settled it by accepting the log as
it now is (a restored log that extends the kept checkpoint needs nothing: `run` goes on by itself). It
writes the kept checkpoint to a file first, as evidence, then moves it aside in the ledger under the
incident's reference, so the next checkpoint a record brings is kept afresh. Without it the consumer
would stop on the same record at every start, its inbox frozen.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sqlite3
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError

import audit
from consumers import logs, metrics
from consumers.errors import ConfigurationError, ConsumerError, KafkaUnavailable, WitnessAlarm
from consumers.ledger import KeptCheckpoint, Ledger
from consumers.receipt import ReceiptKind, send_receipt
from consumers.service import build_consumer, kafka_config, load_keyring, receipt_signer, run_until_signalled
from consumers.settings import ConsumerSettings, InboxSettings
from consumers.sinks import SqliteInboxSink

app = typer.Typer(add_completion=False, no_args_is_help=True, help="A partner agency's message consumer.")
log = logging.getLogger("consumers")
S = TypeVar("S", bound=InboxSettings)

Agency = Annotated[str, typer.Option("--agency", help="This agency's id (also its Kafka user).")]
KeyDir = Annotated[Path | None, typer.Option("--key-dir", help="Agency key directory.")]
BrokerKeys = Annotated[Path | None, typer.Option("--broker-keys", help="Broker public key file (PEM or JSON).")]
SinkSpec = Annotated[str | None, typer.Option("--sink", help="sqlite:<path> | webhook:<url> | dir:<path>")]
LedgerPath = Annotated[
    Path | None,
    typer.Option("--ledger", help="The consumer's ledger (SQLite): deliveries, recalls, the kept checkpoint."),
]
Bootstrap = Annotated[str | None, typer.Option("--bootstrap", help="Kafka bootstrap servers.")]


# The option each setting a command line may give is read from; the rest come from CONSUMER_ variables.
OPTIONS = {
    "agency_id": "--agency",
    "key_dir": "--key-dir",
    "broker_public_keys": "--broker-keys",
    "sink": "--sink",
    "ledger_path": "--ledger",
    "kafka_bootstrap": "--bootstrap",
}


def _settings(kind: type[S], **given: Any) -> S:
    """The settings, or one line naming each option or `CONSUMER_` variable at fault (exit status 2),
    as the gateway's `read_settings` names its `SGB_` ones."""
    overrides = {name: value for name, value in given.items() if value is not None}
    try:
        return kind(**overrides)
    except ValidationError as exc:
        problems = "; ".join(_problem(e["loc"], e["msg"], overrides) for e in exc.errors())
        typer.echo(f"error: {problems}", err=True)
        raise typer.Exit(code=2) from exc


def _problem(loc: tuple[int | str, ...], message: str, given: dict[str, Any]) -> str:
    said = message.removeprefix("Value error, ")
    if not loc:  # a check across settings names its variables itself
        return said
    field = str(loc[0])
    return f"{OPTIONS[field] if field in given else 'CONSUMER_' + field.upper()}: {said}"


def _fail(exc: ConsumerError) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(code=2)


@app.command()
def run(
    agency: Agency,
    key_dir: KeyDir = None,
    broker_keys: BrokerKeys = None,
    sink: SinkSpec = None,
    ledger: LedgerPath = None,
    bootstrap: Bootstrap = None,
) -> None:
    """Consume this agency's inbox until SIGTERM or SIGINT."""
    settings = _settings(
        ConsumerSettings,
        agency_id=agency,
        key_dir=key_dir,
        broker_public_keys=broker_keys,
        sink=sink,
        ledger_path=ledger,
        kafka_bootstrap=bootstrap,
    )
    logs.configure(settings.log_level)
    ledgers: list[Ledger] = []

    def open_ledger() -> Ledger:
        # Called once keys, broker keys, the sink and the witness passed: a refused start leaves no ledger.
        ledgers.append(_open_ledger(settings.ledger_path))
        return ledgers[-1]

    server = None
    try:
        consumer = build_consumer(settings, ledger=open_ledger)
        if settings.metrics_port is not None:
            server = metrics.serve(
                consumer, host=settings.metrics_host, port=settings.metrics_port, token=settings.metrics_token
            )
        log.info("consumer %s started (sink %s)", agency, settings.sink_kind, extra={"agency_id": agency})
        asyncio.run(run_until_signalled(consumer))
        log.info(
            "consumer %s stopped: %d delivered, %d dead-lettered", agency, consumer.delivered, consumer.dead_lettered
        )
    except WitnessAlarm as exc:
        typer.echo(
            f"ALARM: the decision log contradicts the checkpoint {agency} kept ({exc}); delivery stopped. "
            "Send the evidence below to the partnership's operators and auditors.",
            err=True,
        )
        typer.echo(json.dumps(exc.evidence, sort_keys=True, default=str), err=True)
        raise typer.Exit(code=3) from exc
    except ConsumerError as exc:
        raise _fail(exc) from exc
    finally:
        if server is not None:
            server.shutdown()
        for store in ledgers:
            store.close()


def _open_ledger(path: Path) -> Ledger:
    try:
        return Ledger(path)
    except (OSError, sqlite3.Error) as exc:
        raise ConfigurationError(f"cannot open the ledger {path} (--ledger or CONSUMER_LEDGER_PATH): {exc}") from exc


@app.command()
def ack(
    agency: Agency,
    delivery_id: Annotated[str, typer.Option("--delivery-id", help="The delivery being acknowledged.")],
    notification_id: Annotated[str, typer.Option("--notification-id", help="Its notification.")],
    by: Annotated[str | None, typer.Option("--by", help="Who read it (a staff id, not a name).")] = None,
    key_dir: KeyDir = None,
    ledger: LedgerPath = None,
    bootstrap: Bootstrap = None,
) -> None:
    """Send an "acknowledged" receipt: a person at this agency has read the delivery."""
    settings = _settings(
        ConsumerSettings, agency_id=agency, key_dir=key_dir, ledger_path=ledger, kafka_bootstrap=bootstrap
    )
    refusal = _not_acknowledgeable(settings.ledger_path, delivery_id, notification_id)
    if refusal is not None:
        typer.echo(f"error: not acknowledged: {refusal}", err=True)
        raise typer.Exit(code=2)
    try:
        signer = receipt_signer(settings, load_keyring(settings))
    except ConsumerError as exc:
        raise _fail(exc) from exc
    if by is not None and not 0 < len(by) <= 256:
        raise typer.BadParameter("--by must be 1-256 characters")
    token = signer.sign(
        kind=ReceiptKind.ACKNOWLEDGED, delivery_id=delivery_id, notification_id=notification_id, subject=by
    )
    try:
        config = kafka_config(settings)
        asyncio.run(send_receipt(config, token, delivery_id=delivery_id, namespace=settings.topic_namespace))
    except KafkaUnavailable as exc:
        # Nothing was sent; Kafka may only be away, so 1, which a script may retry (2: a setting must change).
        typer.echo(f"error: not acknowledged: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    except ConsumerError as exc:
        typer.echo(f"error: not acknowledged: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(f"acknowledged {delivery_id}")


def _not_acknowledgeable(path: Path, delivery_id: str, notification_id: str) -> str | None:
    """Why the ledger at `path` does not let `delivery_id` be acknowledged, or None if it does."""
    if not path.is_file():
        # Not opened: a Ledger would create an empty file here and hide the wrong path.
        return f"no ledger at {path} (give the one the consumer keeps: --ledger or CONSUMER_LEDGER_PATH)"
    store = Ledger(path)
    try:
        recalled = store.recall_of(delivery_id)
        delivered_under = store.notification_of(delivery_id)
    finally:
        store.close()
    if recalled is not None:
        return f"delivery {delivery_id} was removed on the broker's {recalled} notice"
    if delivered_under is None:
        return f"the ledger at {path} has no delivery {delivery_id} handed to this agency's system"
    if delivered_under != notification_id:
        return f"delivery {delivery_id} belongs to notification {delivered_under}, not {notification_id}"
    return None


@app.command("list")
def list_inbox(
    agency: Agency,
    sink: SinkSpec = None,
    payload: Annotated[bool, typer.Option("--payload", help="Also print each payload (JSON).")] = False,
) -> None:
    """Show the SQLite inbox, oldest first (payloads only on request: they are case data)."""
    settings = _settings(InboxSettings, agency_id=agency, sink=sink)
    if settings.sink_kind != "sqlite":
        raise typer.BadParameter("list reads a sqlite:<path> sink only")
    path = Path(settings.sink_target)
    # Listing reads: opening a missing inbox would create an empty one and print nothing, which reads
    # as "nothing arrived" when the path is simply wrong.
    if not path.is_file():
        typer.echo(f"error: no inbox at {path} (--sink or CONSUMER_SINK)", err=True)
        raise typer.Exit(code=2)
    try:
        inbox = SqliteInboxSink(path)
    except ConsumerError as exc:
        raise _fail(exc) from exc
    rows, gone = inbox.rows(), inbox.withdrawn()
    if not rows and not gone:
        typer.echo(f"the inbox at {path} holds no deliveries, and none has been withdrawn from it")
    for row in rows:
        typer.echo(
            f"{row['received_at']}  {row['delivery_id']}  {row['notification_id']}  "
            f"{row['message_type']} v{row['schema_version']}  from {row['sender_agency']}"
        )
        # Why it came, before anything else about it: the deciding finding(s) from the signed header.
        for finding in row["decided_by"] or [{"rule": "—", "effect": "—", "message": "not stated (sealed earlier)"}]:
            typer.echo(f"    decided by {finding['rule']} ({finding['effect']}): {finding['message']}")
        if payload:
            typer.echo("    " + json.dumps(row["payload"], sort_keys=True, ensure_ascii=False))
    # What the broker recalled: gone from the inbox, and said so, so nobody wonders where it went.
    for recalled in gone:
        replaced = f", replaced by {recalled['superseded_by']}" if recalled["superseded_by"] else ""
        typer.echo(
            f"{recalled['removed_at']}  {recalled['delivery_id']}  {recalled['notification_id']}  "
            f"removed on the broker's {recalled['kind']} notice ({recalled['reason'].replace('_', ' ')}{replaced})"
        )


def _kept(settings: InboxSettings) -> tuple[Ledger, KeptCheckpoint]:
    """The ledger and its kept checkpoint, or exit 2 in one line saying why there is none."""
    if not settings.ledger_path.is_file():
        typer.echo(f"error: no ledger at {settings.ledger_path} (--ledger or CONSUMER_LEDGER_PATH)", err=True)
        raise typer.Exit(code=2)
    store = Ledger(settings.ledger_path)
    kept = store.kept_checkpoint(settings.log_origin)
    if kept is None:
        store.close()
        typer.echo(
            f"error: this agency has kept no checkpoint of {settings.log_origin} yet: it witnesses the log only "
            "with CONSUMER_GATEWAY_URL set, and keeps the first checkpoint a record brings",
            err=True,
        )
        raise typer.Exit(code=2)
    return store, kept


@app.command()
def checkpoint(
    agency: Agency,
    ledger: LedgerPath = None,
    out: Annotated[
        Path | None, typer.Option("--out", metavar="FILE", help="Write the note to FILE, not standard output.")
    ] = None,
) -> None:
    """Print the log checkpoint this agency kept, with its cosignature, for `audit verify --checkpoint`."""
    settings = _settings(InboxSettings, agency_id=agency, ledger_path=ledger)
    store, kept = _kept(settings)
    store.close()
    note = audit.with_cosignatures(kept.note, [kept.cosignature])
    if out is None:
        typer.echo(note, nl=False)
        return
    out.write_text(note, encoding="utf-8")
    typer.echo(f"the checkpoint of {kept.tree_size} entries this agency kept, cosigned, is in {out}", err=True)


Reference = Annotated[
    str,
    typer.Option(
        "--reference",
        metavar="REF",
        help="The incident's reference in the partnership's records (letters, digits and . _ : / -).",
    ),
]
Evidence = Annotated[
    Path, typer.Option("--out", metavar="FILE", help="A new file the set-aside checkpoint is written to first.")
]
_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}")


@app.command("set-aside")
def set_aside(agency: Agency, reference: Reference, out: Evidence, ledger: LedgerPath = None) -> None:
    """After a witness alarm settled by accepting the log as it is: set the kept checkpoint aside."""
    if not _REFERENCE.fullmatch(reference):
        typer.echo("error: --reference: letters, digits and . _ : / - only, up to 64", err=True)
        raise typer.Exit(code=2)
    if out.exists():
        typer.echo(f"error: --out: {out} exists already; the evidence goes to a new file", err=True)
        raise typer.Exit(code=2)
    settings = _settings(InboxSettings, agency_id=agency, ledger_path=ledger)
    store, kept = _kept(settings)
    try:
        # The evidence first: if it cannot be written, nothing is set aside.
        out.write_text(audit.with_cosignatures(kept.note, [kept.cosignature]), encoding="utf-8")
        store.set_aside(settings.log_origin, reference=reference)
    except OSError as exc:
        typer.echo(f"error: --out: {out} cannot be written ({exc.strerror}); nothing was set aside", err=True)
        raise typer.Exit(code=2) from exc
    finally:
        store.close()
    typer.echo(
        f"the checkpoint of {kept.tree_size} entries this agency kept is in {out} and set aside under {reference}; "
        "the next checkpoint a record brings is kept afresh"
    )


if __name__ == "__main__":
    app()
