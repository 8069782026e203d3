"""What the audit command line reads from its options: keys, kept checkpoints, witness keys, time
bounds, and the trust policy they make. Each failure is an `AuditError` (or typer's `BadParameter`)
in the operating system's own words, never a traceback (`audit.cli` prints it and exits 2)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

from audit.cosignature import WitnessKey
from audit.errors import AuditError, CheckpointInvalid
from audit.trust import TrustPolicy


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """Read an unencrypted PEM Ed25519 private key."""
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise AuditError(f"cannot read a private key from {path}: {why(exc)}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditError(f"{path} does not hold an Ed25519 private key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """Read a PEM Ed25519 public key (SubjectPublicKeyInfo)."""
    try:
        key = load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise AuditError(f"cannot read a public key from {path}: {why(exc)}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise AuditError(f"{path} does not hold an Ed25519 public key")
    return key


def kept_note(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditError(f"cannot read the kept checkpoint {path}: {why(exc)}") from exc


def why(exc: Exception) -> str:
    """What went wrong, without the path the sentence already names: an OS error's own words."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[:1].lower() + exc.strerror[1:]
    return str(exc)


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


def trust_policy(
    public_keys: Sequence[Path] | None,
    kept: list[Path] | None,
    witness_keys: list[str] | None,
    min_witnesses: int | None,
) -> TrustPolicy:
    """Build the trust policy from command-line options (raises :class:`AuditError` on bad input)."""
    witnesses = tuple(witness(spec) for spec in witness_keys or ())
    notes = tuple(kept_note(path) for path in kept or ())
    return TrustPolicy(
        public_key=tuple(load_public_key(path) for path in public_keys or ()),
        kept=notes,
        witnesses=witnesses,
        min_witnesses=(1 if witnesses else 0) if min_witnesses is None else min_witnesses,
    )


def witness(spec: str) -> WitnessKey:
    name, sep, path = spec.partition("=")
    if not sep or not name or not path:
        raise AuditError(f"--witness-key wants NAME=PEMFILE, not {spec!r}")
    try:
        return WitnessKey(name, load_public_key(Path(path)))
    except CheckpointInvalid as exc:  # a bad key name is bad input, not bad evidence
        raise AuditError(f"--witness-key {name!r}: {exc}") from exc
