"""Typer options the partnership CLIs share."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from broker.admission.tokens import DEFAULT_MAX_LIFETIME
from broker.partnership.roles import OFFICES, PERSON_ROLES, ROLES

RegistryOpt = Annotated[Path, typer.Option("--registry", help="Agency registry JSON file")]
AgencyOpt = Annotated[str, typer.Option("--agency", help="Agency id, e.g. brackenford-csc")]
KeysOpt = Annotated[Path, typer.Option("--keys", help="The agency's private key directory")]
AlgOpt = Annotated[str, typer.Option("--alg", help="Token key algorithm: EdDSA or ES256")]
SuiteOpt = Annotated[str, typer.Option("--suite", help="Sealing: x25519, or hybrid (ML-KEM-768 + X25519)")]
ByOpt = Annotated[str, typer.Option("--by", help="Your operator id, kept with the change (e.g. ops-admin-01)")]
BrokerKeysOpt = Annotated[
    Path | None,
    typer.Option("--broker-keys", help="The broker's key directory (signs the change); omitted, SGB_SIGNING_KEY & co."),
]
PemDirOpt = Annotated[
    Path, typer.Option("--out", help="Directory for one PEM file per witness key (the current one: <agency>.pem)")
]
RoleOpt = Annotated[str, typer.Option("--role", help=f"One of: {', '.join(PERSON_ROLES)}")]
# A token's role (agency_system too) and audience, as issue-token and the sign-in link take them.
TokenRoleOpt = Annotated[str, typer.Option("--role", help=f"One of: {', '.join(sorted(ROLES))}")]
AudienceOpt = Annotated[str, typer.Option("--audience", help="The broker's audience")]


def _warn_if_too_long(ttl: int) -> int:
    # A warning, not a refusal: a gateway may be set to accept longer (SGB_MAX_TOKEN_LIFETIME_SECONDS).
    if ttl > (limit := int(DEFAULT_MAX_LIFETIME.total_seconds())):
        typer.echo(
            f"warning: a gateway refuses tokens living over {limit} s (SGB_MAX_TOKEN_LIFETIME_SECONDS)", err=True
        )
    return ttl


TtlOpt = Annotated[int, typer.Option("--ttl", help="Seconds the token stays usable", callback=_warn_if_too_long)]
OfficeOpt = Annotated[str, typer.Option("--office", help=f"One of: {', '.join(OFFICES)}")]
