"""Command line for operators and auditors: ``python -m audit verify|export|verify-pack|checkpoint|keygen|replay``.

``verify`` and ``verify-pack`` give no verdict without a trust anchor held outside the database: the
broker's public key (``--public-key``, repeated for each key it signed with after a rotation, or the
pinned files named by ``$SGB_AUDIT_PUBLIC_KEY``), a checkpoint an agency kept (``--checkpoint``), or
witnesses (``--witness-key NAME=PEM``, repeated under one NAME for each key of a witness's history,
``--min-witnesses K``, K witnesses however many keys each). See :mod:`audit.trust` for what each
anchor rules out.

Exit status:

* 0 ``OK``: the evidence verifies against the anchors given;
* 1 ``TAMPERED`` / ``FAILED``: evidence does not verify; the report names the entry (or the bracket
  of entries), the anchor and the witnesses that cosigned it;
* 2 bad input, including ``REFUSED``: no trust anchor was given;
* 3 ``NO LOG``: the database cannot be opened or a log table is missing (dropped, never migrated).
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from rich.console import Console
from rich.markup import escape
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from audit.auditor import Checkpoint
from audit.canonical import format_time
from audit.checkpoint import DEFAULT_ORIGIN, Signer, check_signer, write_checkpoint
from audit.engine import create_engine_for
from audit.errors import (
    AuditError,
    ChainBroken,
    ForeignSigner,
    HistoryRewritten,
    LogStateError,
    LogTruncated,
    NoTrustAnchor,
    SequenceGap,
    TamperDetected,
    VerificationError,
    WitnessQuorumMissing,
)
from audit.export import export_pack, verify_pack
from audit.inputs import load_private_key, parse_bound, trust_policy, why
from audit.models import Entry
from audit.replay import bundle_of, replay
from audit.trust import TrustPolicy, open_for_verify, verify_trusted
from audit.verify import LogReport

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_NO_LOG = 0, 1, 2, 3
PINNED_KEY_ENV = "SGB_AUDIT_PUBLIC_KEY"

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Verify and export the decision log.")
# No wrapping: hashes and entry numbers must stay whole for whoever greps or files the output.
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

DbOption = Annotated[str, typer.Option("--db", help="SQLAlchemy URL of the log database.")]
OriginOption = Annotated[str, typer.Option("--origin", help="Log origin line (also the note key name).")]
KeyOption = Annotated[Path, typer.Option("--signing-key", help="PEM PKCS#8 Ed25519 private key (broker key).")]
# Repeatable: a log (or packs) spanning a rotation of the broker's key carries signatures by each key.
PublicKeyOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--public-key",
        envvar=PINNED_KEY_ENV,
        metavar="PEM",
        help=(
            "PEM broker public key; repeatable: the broker's current key and each retired one "
            f"(default: the pinned files named by ${PINNED_KEY_ENV}, separated by {os.pathsep!r})."
        ),
    ),
]
KeptOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--checkpoint", metavar="FILE", help="A checkpoint note you kept (cosignature lines may follow); repeatable."
    ),
]
WitnessOption = Annotated[
    list[str] | None,
    typer.Option(
        "--witness-key",
        metavar="NAME=PEM",
        help=(
            "A witness you trust: key name and PEM public key; repeatable, under one NAME for each key "
            "of its history (a witness counts once)."
        ),
    ),
]
MinWitnessOption = Annotated[
    int | None,
    typer.Option(
        "--min-witnesses", min=0, help="Witnesses whose cosignature is required (default: 1 if any --witness-key)."
    ),
]


# A pack carries its own checkpoint: `--checkpoint` is verify's alone.
LOG_ANCHORS, PACK_ANCHORS = (
    "--public-key, --checkpoint or --witness-key/--min-witnesses",
    "--public-key or --witness-key/--min-witnesses",
)


def _fail(exc: AuditError, *, anchors: str = LOG_ANCHORS) -> typer.Exit:
    for line in _describe(exc, anchors):
        err.print(line)
    err.print(f"[red]FAILED[/red] {type(exc).__name__}: {escape(str(exc))}")
    if isinstance(exc, VerificationError):
        return typer.Exit(EXIT_FAILED)
    return typer.Exit(EXIT_NO_LOG if isinstance(exc, LogStateError) else EXIT_BAD_INPUT)


def _describe(exc: AuditError, anchors: str) -> list[str]:
    """Return the verdict lines for ``exc``: what went wrong, where, and who vouched for it."""
    if isinstance(exc, NoTrustAnchor):
        return [f"[red]REFUSED[/red] no trust anchor: pass {anchors}"]
    if isinstance(exc, LogStateError):
        return [f"[red]NO LOG[/red] {escape(str(exc))}"]
    if isinstance(exc, HistoryRewritten | LogTruncated):
        if isinstance(exc, HistoryRewritten):
            where = f"entry {exc.seq}" if exc.seq == exc.last else f"an entry in {exc.seq}..{exc.last}"
            lines = [f"[red]TAMPERED[/red] rewritten: {where}"]
        else:
            lines = [f"[red]TAMPERED[/red] truncated: entries from seq {exc.seq} are gone"]
        witnessed = ", ".join(exc.witnesses) if exc.witnesses else "no witness"
        lines.append(f"  anchor:   {exc.source} at size {exc.anchor_size}, cosigned by {escape(witnessed)}")
        if isinstance(exc, HistoryRewritten):
            lines.append(f"  expected: {exc.expected}\n  found:    {exc.found}")
        return lines
    if isinstance(exc, ChainBroken):
        return [
            f"[red]TAMPERED[/red] first bad entry: seq {exc.seq}",
            f"  column:     {exc.column}\n  recomputed: {exc.expected}\n  stored:     {exc.actual}",
        ]
    if isinstance(exc, SequenceGap):
        found = "the log ends there" if exc.found is None else f"the next row holds entry {exc.found}"
        return [f"[red]TAMPERED[/red] entry {exc.seq} is missing: {found}"]
    if isinstance(exc, TamperDetected):
        return [f"[red]TAMPERED[/red] first bad entry: seq {exc.seq}"]
    if isinstance(exc, WitnessQuorumMissing):
        return [
            f"[red]NOT WITNESSED[/red] {len(exc.found)} of the {exc.required} witnesses required cosigned the "
            "checkpoint; a pack proves its entries under the checkpoint `export --min-witnesses K` chose"
        ]
    return []


def _entry_words(engine: Engine, seq: int) -> str | None:
    """What the entry at `seq` is, as its row now reads (it may be the rewritten one): an operator
    looks it up by its kind, agencies and time, not by its number alone."""
    with Session(engine) as session:
        row = session.exec(select(Entry).where(col(Entry.seq) == seq)).first()
    if row is None:
        return None
    agencies = f"{row.sender_agency} to {row.recipient_agency}"
    return f"{row.kind} {row.outcome}, {agencies}, {row.message_type}, {row.recorded_at}"


@app.command()
def verify(
    db: DbOption,
    public_key: PublicKeyOption = None,
    checkpoint: KeptOption = None,
    witness_key: WitnessOption = None,
    min_witnesses: MinWitnessOption = None,
) -> None:
    """Recompute the whole log and check it against trust anchors; refuses to say OK without one."""
    try:
        policy = trust_policy(public_key, checkpoint, witness_key, min_witnesses)
        engine = open_for_verify(db)
        try:
            with Session(engine) as session:
                report = verify_trusted(session, policy)
        except TamperDetected as exc:
            seq = exc.seq if not isinstance(exc, SequenceGap) else exc.seq - 1
            said = _entry_words(engine, seq) if seq >= 0 else None
            if said is not None:  # before the verdict: the last line an operator reads is FAILED's
                which = "as it reads now" if seq == exc.seq else "the last one before it"
                err.print(f"  entry {seq} ({which}): {escape(said)}")
            raise
        finally:
            engine.dispose()
    except AuditError as exc:
        raise _fail(exc) from exc
    _print_report(report, policy)


def _print_report(report: LogReport, policy: TrustPolicy) -> None:
    signed = "checked" if report.signatures_checked else "NOT checked (no --public-key)"
    out.print(f"[green]OK[/green] {report.size} entries, head {report.head}, root {report.root}")
    out.print(f"   {report.checkpoints} checkpoints, signatures {signed}")
    anchor = report.anchor
    if anchor is not None:
        witnessed = f", cosigned by {escape(', '.join(anchor.witnesses))}" if anchor.witnesses else ""
        out.print(f"   extends the {anchor.source} at size {anchor.size}{witnessed}")
        if anchor.size < report.size:
            # An insider who deleted these with the checkpoints over them leaves a log that verifies.
            out.print(
                f"   [yellow]note[/yellow]: entries {anchor.size}..{report.size - 1} came after it: nothing an "
                "agency kept or cosigned covers them, so deleted with the broker's checkpoints over them they "
                "would not be missed. Verify against a newer checkpoint an agency kept, or the gateway's "
                "anchor file (SGB_ANCHOR_FILE), to show none was deleted"
            )
    if policy.kept:
        sizes = ", ".join(str(Checkpoint.parse(note, verify_with=None).size) for note in policy.kept)
        out.print(f"   extends every kept checkpoint given (size {sizes})")
    else:
        out.print(
            "   [yellow]note[/yellow]: no --checkpoint given; a rewrite that also deleted every later "
            "checkpoint would not show. Verify against a checkpoint you kept."
        )


@app.command()
def export(
    db: DbOption,
    from_: Annotated[str, typer.Option("--from", help="First day (or RFC 3339 time), inclusive.")],
    to: Annotated[str, typer.Option("--to", help="Last day (inclusive) or RFC 3339 time (exclusive).")],
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the JSONL pack.")],
    signing_key: Annotated[
        Path,
        typer.Option(
            "--signing-key",
            help="PEM PKCS#8 Ed25519 private key: the broker's, which signed the log's newest checkpoint.",
        ),
    ],
    agency: Annotated[str | None, typer.Option("--agency", help="Only entries sent or received by it.")] = None,
    origin: OriginOption = DEFAULT_ORIGIN,
    min_witnesses: Annotated[
        int,
        typer.Option("--min-witnesses", min=0, help="Prove under the newest checkpoint this many witnesses cosigned."),
    ] = 0,
) -> None:
    """Write a signed evidence pack (entries, inclusion proofs, checkpoint, cosignatures) for a period.

    Refuses (exit 2, nothing written) a --signing-key that did not sign the log's newest checkpoint:
    the pack would ship a key nobody holds as the broker's, over a checkpoint it never signed.
    """
    since, until = parse_bound(from_, end=False), parse_bound(to, end=True)
    engine = create_engine_for(db)
    try:
        signer = Signer(origin, load_private_key(signing_key))
        pack = io.StringIO()
        with Session(engine) as session, session.begin():
            check_signer(session, signer)
            summary = export_pack(
                session, pack, signer, since=since, until=until, agency=agency, min_witnesses=min_witnesses
            )
            _write(out_file, pack.getvalue())  # only once it is whole; a failure rolls the export back
    except ForeignSigner as exc:
        option = f"--origin: {exc}" if exc.origin else f"--signing-key: {signing_key}: {exc}"
        err.print(f"error: {option}", markup=False, highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from exc
    except AuditError as exc:
        raise _fail(exc) from exc
    finally:
        engine.dispose()
    out.print(f"[green]OK[/green] {summary.entries} entries under checkpoint {summary.checkpoint.size} → {out_file}")
    if summary.uncovered:
        out.print(f"   [yellow]note[/yellow]: {summary.uncovered} later entries await a witnessed checkpoint")


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise AuditError(f"cannot write {path}: {why(exc)}") from exc


@app.command("verify-pack")
def verify_pack_command(
    pack: Annotated[Path, typer.Argument(help="JSONL pack written by `export`.")],
    public_key: PublicKeyOption = None,
    witness_key: WitnessOption = None,
    min_witnesses: MinWitnessOption = None,
) -> None:
    """Check an evidence pack offline: signatures, cosignatures, entry hashes and proofs."""
    try:
        policy = trust_policy(public_key, None, witness_key, min_witnesses)
        text = pack.read_text(encoding="utf-8")
        summary = verify_pack(text, policy.public_keys, witnesses=policy.witnesses, min_witnesses=policy.min_witnesses)
    except OSError as exc:
        raise _fail(AuditError(f"cannot read {pack}: {why(exc)}")) from exc
    except AuditError as exc:
        raise _fail(exc, anchors=PACK_ANCHORS) from exc
    witnessed = f", cosigned by {escape(', '.join(summary.witnesses))}" if summary.witnesses else ""
    out.print(
        f"[green]OK[/green] {summary.entries} entries proven under checkpoint {summary.checkpoint.size}{witnessed}"
    )
    if not policy.public_keys:
        # The witnesses cosigned the checkpoint, not the pack: whoever made it chose which entries to
        # ship, and only the broker's signature over the header says none of its period was left out.
        out.print(
            "   [yellow]note[/yellow]: the pack's own signature was checked with the key it ships, which you "
            "did not pin; each entry is proven, but that none in its period was left out is shown only with "
            "--public-key"
        )


@app.command()
def checkpoint(db: DbOption, signing_key: KeyOption, origin: OriginOption = DEFAULT_ORIGIN) -> None:
    """Sign and store a checkpoint of the log as it stands; print its note."""
    engine = create_engine_for(db)
    try:
        with Session(engine) as session, session.begin():
            signed = write_checkpoint(session, Signer(origin, load_private_key(signing_key)))
    except AuditError as exc:
        raise _fail(exc) from exc
    finally:
        engine.dispose()
    out.print(signed.note, end="", markup=False, highlight=False)


@app.command()
def keygen(private_key: Annotated[Path, typer.Argument(help="Where to write the PEM private key.")]) -> None:
    """Create an Ed25519 key pair for development and tests: PRIVATE_KEY (PEM) and PRIVATE_KEY.pub beside it."""
    key = Ed25519PrivateKey.generate()
    private_key.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    private_key.chmod(0o600)
    public = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    private_key.with_name(private_key.name + ".pub").write_bytes(public)
    out.print(f"wrote {private_key} and {private_key}.pub")


@app.command("replay")
def replay_command(
    db: DbOption,
    policies: Annotated[Path, typer.Option("--policies", help="The policy directory to re-decide with.")],
    registry: Annotated[Path, typer.Option("--registry", help="The partnership's registry.json (agency types).")],
    from_: Annotated[str | None, typer.Option("--from", help="First day (or RFC 3339 time), inclusive.")] = None,
    to: Annotated[str | None, typer.Option("--to", help="Last day (inclusive) or RFC 3339 time (exclusive).")] = None,
    opa: Annotated[str, typer.Option("--opa", help="The OPA binary.")] = "opa",
) -> None:
    """Re-decide a period's decisions under another policy and list what would flip; writes nothing."""
    since = format_time(parse_bound(from_, end=False)) if from_ else None
    until = format_time(parse_bound(to, end=True)) if to else None
    engine = create_engine_for(db)
    try:
        name, digest = bundle_of(policies)
        with Session(engine) as session:
            report = replay(
                session, policies=policies, registry=_json_file(registry), opa=opa, since=since, until=until
            )
    except AuditError as exc:
        raise _fail(exc) from exc
    finally:
        engine.dispose()
    out.print(
        f"replayed {report.decisions} decisions ({report.notifications} notifications) logged under "
        f"{escape(', '.join(sorted(report.logged_under)) or '-')}, under {escape(name)}@{digest[:16]}"
    )
    for same in sorted(report.hashed_with_tests):
        out.print(
            f"{escape(same)} is this same policy: its hash then took in the policy's tests, as gateways did "
            "before OPA served the policy without them"
        )
    out.print(f"{len(report.flips)} would flip; {report.rule_changes} keep their outcome with another deciding rule")
    for (was, now), count in sorted(report.by_rule().items()):
        out.print(f"   {count:>5}  decided by {escape(was)} → by {escape(now)}")
    for f in report.flips:
        out.print(
            f"   entry {f.seq} {f.message_type} to {f.recipient_agency}: {f.was} ({escape(','.join(f.was_rules))}) "
            f"→ {f.now} ({escape(','.join(f.now_rules))})"
        )


def _json_file(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise typer.BadParameter(f"cannot read {path} as JSON: {exc}", param_hint="--registry") from exc
    if not isinstance(value, dict):
        raise typer.BadParameter(f"{path} is not a JSON object", param_hint="--registry")
    return value
