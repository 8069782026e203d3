"""Command line for operators and auditors: ``python -m audit verify|export|verify-pack|checkpoint|keygen``.

Exit status: 0 when everything verifies, 1 when evidence fails to verify, 2 on bad input.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)
from rich.console import Console
from sqlmodel import Session

from audit.checkpoint import Signer, write_checkpoint
from audit.engine import create_engine_for
from audit.errors import AuditError, ChainBroken, TamperDetected, VerificationError
from audit.export import export_pack, verify_pack
from audit.verify import verify_log

DEFAULT_ORIGIN = "safeguarding-broker/decision-log"

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Verify and export the decision log.")
out = Console()
err = Console(stderr=True)

DbOption = Annotated[str, typer.Option("--db", help="SQLAlchemy URL of the log database.")]
OriginOption = Annotated[str, typer.Option("--origin", help="Log origin line (also the note key name).")]
KeyOption = Annotated[
    Path, typer.Option("--signing-key", help="PEM PKCS#8 Ed25519 private key (broker key).")
]


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """Read an unencrypted PEM Ed25519 private key."""
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditError(f"{path} does not hold an Ed25519 private key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """Read a PEM Ed25519 public key (SubjectPublicKeyInfo)."""
    key = load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise AuditError(f"{path} does not hold an Ed25519 public key")
    return key


def parse_bound(text: str, *, end: bool) -> datetime:
    """Parse ``--from``/``--to``: a date means that whole day (UTC); a datetime needs an offset."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text) + timedelta(days=1 if end else 0)
            return datetime.combine(day, time(), tzinfo=UTC)
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise typer.BadParameter(f"not a date or RFC 3339 time: {text!r}") from exc
    if value.tzinfo is None:
        raise typer.BadParameter(f"time {text!r} needs a UTC offset or Z")
    return value


def _fail(exc: AuditError) -> typer.Exit:
    if isinstance(exc, TamperDetected):
        err.print(f"[red]TAMPERED[/red] first bad entry: seq {exc.seq}")
    if isinstance(exc, ChainBroken):
        err.print(f"  column:   {exc.column}\n  expected: {exc.expected}\n  actual:   {exc.actual}")
    err.print(f"[red]FAILED[/red] {type(exc).__name__}: {exc}")
    return typer.Exit(1 if isinstance(exc, VerificationError) else 2)


@app.command()
def verify(
    db: DbOption,
    public_key: Annotated[Path | None, typer.Option("--public-key", help="PEM broker public key.")] = None,
) -> None:
    """Recompute the whole chain, every checkpoint and the chain head."""
    engine = create_engine_for(db, read_only=True)
    try:
        with Session(engine) as session:
            report = verify_log(session, None if public_key is None else load_public_key(public_key))
    except AuditError as exc:
        raise _fail(exc) from exc
    finally:
        engine.dispose()
    signed = "checked" if report.signatures_checked else "NOT checked (no --public-key)"
    out.print(f"[green]OK[/green] {report.size} entries, head {report.head}, root {report.root}")
    out.print(f"   {report.checkpoints} checkpoints, signatures {signed}")


@app.command()
def export(
    db: DbOption,
    from_: Annotated[str, typer.Option("--from", help="First day (or RFC 3339 time), inclusive.")],
    to: Annotated[str, typer.Option("--to", help="Last day (inclusive) or RFC 3339 time (exclusive).")],
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the JSONL pack.")],
    signing_key: KeyOption,
    agency: Annotated[
        str | None, typer.Option("--agency", help="Only entries sent or received by it.")
    ] = None,
    origin: OriginOption = DEFAULT_ORIGIN,
) -> None:
    """Write a signed evidence pack (entries, inclusion proofs, checkpoint) for a period."""
    since, until = parse_bound(from_, end=False), parse_bound(to, end=True)
    engine = create_engine_for(db)
    try:
        signer = Signer(origin, load_private_key(signing_key))
        with Session(engine) as session, session.begin(), out_file.open("w", encoding="utf-8") as handle:
            summary = export_pack(session, handle, signer, since=since, until=until, agency=agency)
    except AuditError as exc:
        raise _fail(exc) from exc
    finally:
        engine.dispose()
    out.print(
        f"[green]OK[/green] {summary.entries} entries under checkpoint {summary.checkpoint.size} → {out_file}"
    )


@app.command("verify-pack")
def verify_pack_command(
    pack: Annotated[Path, typer.Argument(help="JSONL pack written by `export`.")],
    public_key: Annotated[Path, typer.Option("--public-key", help="PEM broker public key.")],
) -> None:
    """Check an evidence pack offline: signature, checkpoint, entry hashes and proofs."""
    try:
        summary = verify_pack(pack.read_text(encoding="utf-8"), load_public_key(public_key))
    except AuditError as exc:
        raise _fail(exc) from exc
    out.print(
        f"[green]OK[/green] {summary.entries} entries proven under checkpoint {summary.checkpoint.size}"
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
    """Create an Ed25519 key pair (``FILE`` and ``FILE.pub``) for development and tests."""
    key = Ed25519PrivateKey.generate()
    private_key.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    private_key.chmod(0o600)
    public = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    private_key.with_name(private_key.name + ".pub").write_bytes(public)
    out.print(f"wrote {private_key} and {private_key}.pub")
