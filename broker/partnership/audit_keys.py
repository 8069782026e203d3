"""The broker's public keys as an auditor pins them: one PEM file per key it has signed the log with.

`python -m audit verify --public-key PEM` checks the log's checkpoints against the broker's key, and
after a rotation against each retired key too, since older checkpoints carry the key that signed
them. The operator hands these files to the partnership's IG lead or an outside auditor, who keeps
them apart from the broker: a key read from the broker's own database at audit time would vouch for
whatever an insider put there. Only public keys are written; the signing key never leaves its file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from cryptography.hazmat.primitives import serialization

from audit.cli import PINNED_KEY_ENV
from broker.partnership.keys import load_broker_keys, write_public_file


def write_broker_public_keys(keys_dir: Path, out: Path) -> list[Path]:
    """Write `broker-<kid>.pem` for the current key and each retired one, newest first; return the paths."""
    keys = load_broker_keys(keys_dir, environ={})
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for kid, public_key in keys.verify_keys:
        path = out / f"broker-{kid}.pem"
        pem = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        write_public_file(path, pem)
        written.append(path)
    return written


def broker_public_keys_cmd(
    keys_dir: Annotated[Path, typer.Option("--dir", help="The broker key directory (its signing history is read)")],
    out: Annotated[Path, typer.Option("--out", help="Directory for one PEM file per broker signing key")],
) -> None:
    """Write the broker's public keys, current and retired, as PEM and print the `audit verify` options."""
    written = write_broker_public_keys(keys_dir, out)
    for path in written:
        typer.echo(f"--public-key {path}")
    typer.echo(f"{PINNED_KEY_ENV}={':'.join(str(path) for path in written)}")


def register(app: typer.Typer) -> None:
    """Add the command to the partnership CLI."""
    app.command("broker-public-keys")(broker_public_keys_cmd)
