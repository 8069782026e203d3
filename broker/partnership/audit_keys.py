"""The public keys an auditor pins, as PEM files: the broker's, and each agency's witness keys.

`python -m audit verify --public-key PEM` checks the log's checkpoints against the broker's key, and
after a rotation against each retired key too, since older checkpoints carry the key that signed
them. `--witness-key AGENCY=PEM` does the same for the cosignatures on a checkpoint an agency kept:
a rotation of the agency's keys gives it a new witness key, and a checkpoint it kept before carries
its old key's cosignature, so every key of its history is written, each given under the agency's name.
The operator hands these files to the partnership's IG lead or an outside auditor, who keeps them
apart from the broker: a key read from the broker's own database at audit time would vouch for
whatever an insider put there. Only public keys are written; the signing key never leaves its file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from cryptography.hazmat.primitives import serialization

from audit.cli import PINNED_KEY_ENV
from broker.partnership.keys import load_broker_keys, write_public_file
from broker.partnership.options import PemDirOpt, RegistryOpt
from broker.partnership.registry import load_registry


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


def write_witness_public_keys(registry: Path, out: Path) -> list[tuple[str, Path]]:
    """Write every witness key of each agency, current first: `<agency>.pem`, then `<agency>.<kid>.pem`
    for each earlier one; return (agency, path) for each file written."""
    agencies = sorted(load_registry(registry).agencies.values(), key=lambda a: a.id)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for agency in agencies:
        for index, key in enumerate(agency.witness_keys):
            # The current key keeps the name instructions and scripts already use; an agency id holds
            # no dot, so an earlier key's file can never take another agency's name.
            path = out / (f"{agency.id}.pem" if index == 0 else f"{agency.id}.{key.kid}.pem")
            pem = key.witness().key.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            write_public_file(path, pem)
            written.append((agency.id, path))
    return written


def witness_keys_cmd(registry: RegistryOpt, out: PemDirOpt) -> None:
    """Write each agency's witness public keys, current and earlier, as PEM and print the `audit verify` options."""
    for agency, path in write_witness_public_keys(registry, out):
        typer.echo(f"--witness-key {agency}={path}")


def register(app: typer.Typer) -> None:
    """Add the commands to the partnership CLI."""
    app.command("broker-public-keys")(broker_public_keys_cmd)
    app.command("witness-keys")(witness_keys_cmd)
