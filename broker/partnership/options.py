"""Typer options the partnership CLIs share."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from broker.partnership.roles import OFFICES, PERSON_ROLES

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
RoleOpt = Annotated[str, typer.Option("--role", help=f"One of: {', '.join(PERSON_ROLES)}")]
OfficeOpt = Annotated[str, typer.Option("--office", help=f"One of: {', '.join(OFFICES)}")]
