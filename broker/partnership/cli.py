"""Operator and agency commands: make keys, register and rotate agencies, mint demo tokens.

    python -m broker.partnership.cli init-broker-keys --out ./broker-keys
    python -m broker.partnership.cli generate-keys --agency brackenford-csc --out ./keys/brackenford-csc
    python -m broker.partnership.cli register --registry registry.json --agency brackenford-csc \
        --name "Brackenford Children's Social Care" --type csc_front_door --keys ./keys/brackenford-csc \
        --by ops-admin-01 --broker-keys ./broker-keys
    python -m broker.partnership.cli grant --registry registry.json --agency brackenford-csc \
        --role dsl --by ops-admin-01 --broker-keys ./broker-keys
    python -m broker.partnership.cli issue-token --keys ./keys/brackenford-csc --agency brackenford-csc \
        --role dsl --subject dsl-0001 --audience safeguarding-broker

Private keys are written only into the agency's own key directory (0600); the registry receives
public keys alone. A registered agency's tokens act only as `agency_system` until roles are
granted. Each registration, rotation, grant, revocation and office appointment is signed with the
broker's key, and running gateways log it within seconds (`broker.partnership.changes`).
"""

from __future__ import annotations

import base64
import contextlib
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import jwt
import typer
from cryptography.hazmat.primitives import serialization
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from broker.admission.authorisation import DIGEST_CLAIM, body_digest
from broker.errors import BrokerError, RegistryError
from broker.partnership import access_cli, audit_keys
from broker.partnership.changes import RegistrationAction, sign_registration
from broker.partnership.keys import (
    AGENCY_MANIFEST,
    AgencyKeys,
    BrokerKeys,
    JwtAlg,
    generate_agency_keys,
    generate_broker_keys,
    load_agency_keys,
    rotate_broker_signing_key,
    write_public_file,
)
from broker.partnership.options import (
    AgencyOpt,
    AlgOpt,
    AudienceOpt,
    BrokerKeysOpt,
    ByOpt,
    KeysOpt,
    RegistryOpt,
    SuiteOpt,
    TokenRoleOpt,
    TtlOpt,
)
from broker.partnership.registry import (
    EncryptionPublicKey,
    JwtVerificationKey,
    Registry,
    encryption_public_key,
    jwt_verification_key,
    load_registry,
    register_agency,
    rotate_agency_keys,
    save_registry,
)
from broker.partnership.roles import AGENCY_SYSTEM, ROLES
from broker.partnership.witnesses import WitnessPublicKey, witness_public_key
from schemas.envelope import HYBRID_SUITE_NAME, SUITE_NAME, SuiteName

app = typer.Typer(help=__doc__.splitlines()[0], no_args_is_help=True, add_completion=False)
console = Console(stderr=True)


def issue_token(
    keys: AgencyKeys,
    *,
    role: str,
    audience: str,
    ttl: timedelta = timedelta(minutes=5),
    subject: str | None = None,
    now: datetime | None = None,
    jti: str | None = None,
    extra_claims: Mapping[str, object] | None = None,
) -> str:
    """Sign an agency token with the agency's newest token key (for demos and tests).

    `extra_claims`: e.g. an authoriser's `notification_digest` (broker.admission.authorisation).
    """
    key = keys.current_jwt_key
    issued = int((now or datetime.now(UTC)).timestamp())
    claims: dict[str, object] = {
        "iss": keys.agency_id,
        "aud": audience,
        "iat": issued,
        "nbf": issued,
        "exp": issued + int(ttl.total_seconds()),
        "jti": jti or str(uuid.uuid4()),
        "role": role,
    }
    if subject is not None:
        claims["sub"] = subject
    claims.update(extra_claims or {})
    return jwt.encode(claims, key.private_key, algorithm=key.alg, headers={"kid": key.kid, "typ": "JWT"})


def witness_part(keys: AgencyKeys, now: datetime) -> WitnessPublicKey | None:
    """Return the newest witness public key, ready for the registry (None for a directory without one)."""
    current = keys.current_witness_key
    return None if current is None else witness_public_key(current, created_at=now)


def public_parts(keys: AgencyKeys, now: datetime) -> tuple[JwtVerificationKey, EncryptionPublicKey]:
    """Return the newest token and encryption public keys, ready for the registry."""
    return (
        jwt_verification_key(keys.current_jwt_key.private_key.public_key(), created_at=now),
        encryption_public_key(keys.current_encryption_key.private_key.public_key(), created_at=now),
    )


def broker_keys_environment(keys: BrokerKeys) -> dict[str, str]:
    """Render broker keys as the `SGB_*` variables `broker.partnership.keys.load_broker_keys` reads."""
    raw_public = (serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    seed = keys.signing_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    older = [k.public_bytes(*raw_public) for kid, k in keys.verify_keys if kid != keys.signing_key_id]
    return {
        "SGB_SIGNING_KEY": base64.b64encode(seed).decode(),
        "SGB_SIGNING_OLD_PUBLIC_KEYS": ",".join(base64.b64encode(k).decode() for k in older),
        "SGB_LOG_PSEUDONYM_SECRET": base64.b64encode(keys.log_pseudonym_secret).decode(),
        "SGB_KAFKA_KEY_SECRET": base64.b64encode(keys.kafka_key_secret).decode(),
    }


def _alg(value: str) -> JwtAlg:
    if value == "EdDSA":
        return "EdDSA"
    if value == "ES256":
        return "ES256"
    raise typer.BadParameter("use EdDSA or ES256", param_hint="--alg")


def _load_or_new(path: Path, partnership: str | None) -> Registry:
    if path.exists():
        return load_registry(path)
    if partnership is None:
        raise RegistryError(f"{path} does not exist; pass --partnership to create it")
    return Registry(partnership_id=partnership)


def _suite(value: str) -> SuiteName:
    if value == "x25519":
        return SUITE_NAME
    if value == "hybrid":
        return HYBRID_SUITE_NAME
    raise typer.BadParameter("use x25519 or hybrid", param_hint="--suite")


@app.command("generate-keys")
def generate_keys_cmd(
    agency: AgencyOpt,
    out: Annotated[Path, typer.Option("--out", help="The agency's private key directory (created if missing)")],
    alg: AlgOpt = "EdDSA",
    suite: SuiteOpt = "x25519",
) -> None:
    """Make a token key, an encryption key and a witness key for an agency (private parts 0600)."""
    keys = generate_agency_keys(out, agency_id=agency, now=datetime.now(UTC), alg=_alg(alg), suite=_suite(suite))
    console.print(
        f"[green]keys for {agency}[/] in {out}: token kid {keys.current_jwt_key.kid}, "
        f"encryption kid {keys.current_encryption_key.kid}"
    )


@app.command("register")
def register_cmd(
    registry: RegistryOpt,
    agency: AgencyOpt,
    name: Annotated[str, typer.Option("--name", help="The agency's name as people read it")],
    agency_type: Annotated[str, typer.Option("--type", help="Agency type, e.g. education_school, police")],
    keys: KeysOpt,
    by: ByOpt,
    broker_keys: BrokerKeysOpt = None,
    partnership: Annotated[str | None, typer.Option(help="Partnership id, to create the file")] = None,
) -> None:
    """Add an agency to the registry with the public halves of its keys (signed with the broker's key)."""
    current = _load_or_new(registry, partnership)
    signer = access_cli.checked(current, broker_keys)
    agency_keys = _agency_keys(keys, agency)
    now = datetime.now(UTC)
    jwt_key, enc_key = public_parts(agency_keys, now)
    updated = register_agency(
        current,
        agency_id=agency,
        name=name,
        agency_type=agency_type,
        jwt_key=jwt_key,
        encryption_key=enc_key,
        now=now,
        witness_key=witness_part(agency_keys, now),
    )
    signed = _signed(updated, "register", agency, by, signer, now)
    save_registry(signed, registry)
    console.print(f"[green]{escape(signed.access_changes[-1].describe())}[/]; registry revision {signed.revision[:16]}")


@app.command("rotate")
def rotate_cmd(
    registry: RegistryOpt,
    agency: AgencyOpt,
    keys: KeysOpt,
    by: ByOpt,
    broker_keys: BrokerKeysOpt = None,
    alg: AlgOpt = "EdDSA",
    grace_minutes: Annotated[
        int, typer.Option(min=0, max=7 * 24 * 60, help="How long the old token key still works (0 if compromised)")
    ] = 15,
    suite: SuiteOpt = "x25519",
) -> None:
    """Generate new agency keys and make them current; old public keys are kept (`--suite hybrid`: go post-quantum)."""
    current = load_registry(registry)
    if current.agency(agency) is None:  # before making keys nobody will ever use
        raise RegistryError(f"agency {agency!r} is not registered; use register")
    signer = access_cli.checked(current, broker_keys)
    now = datetime.now(UTC)
    with _manifest_kept_on_failure(keys):
        agency_keys = generate_agency_keys(keys, agency_id=agency, now=now, alg=_alg(alg), suite=_suite(suite))
        jwt_key, enc_key = public_parts(agency_keys, now)
        updated = rotate_agency_keys(
            current,
            agency_id=agency,
            jwt_key=jwt_key,
            encryption_key=enc_key,
            now=now,
            grace=timedelta(minutes=grace_minutes),
            witness_key=witness_part(agency_keys, now),
        )
        signed = _signed(updated, "rotate", agency, by, signer, now)
        save_registry(signed, registry)
    console.print(f"[green]{escape(signed.access_changes[-1].describe())}[/]; registry revision {signed.revision[:16]}")


def _signed(
    registry: Registry, action: RegistrationAction, agency: str, by: str, signer: BrokerKeys, now: datetime
) -> Registry:
    return sign_registration(
        registry,
        action=action,
        agency_id=agency,
        by=by,
        signing_key=signer.signing_key,
        key_id=signer.signing_key_id,
        now=now,
    )


@contextlib.contextmanager
def _manifest_kept_on_failure(directory: Path) -> Iterator[None]:
    """Put the agency's key manifest back if the registry is not updated: otherwise its systems sign
    with a new key the gateway does not know, and are locked out. New key files stay, unlisted."""
    manifest = directory / AGENCY_MANIFEST
    before = manifest.read_bytes() if manifest.exists() else None
    try:
        yield
    except BaseException:
        if before is not None:
            write_public_file(manifest, before)
        raise


@app.command("list")
def list_cmd(
    registry: RegistryOpt,
    keys: Annotated[bool, typer.Option("--all-keys", help="Every key of every agency, retired ones too")] = False,
) -> None:
    """Show the registered agencies and their current key ids (`--all-keys`: every key, one per line)."""
    loaded = load_registry(registry)
    if keys:
        for line in access_cli.key_lines(loaded):
            typer.echo(line)
        return
    table = Table(title=f"{loaded.partnership_id} (revision {loaded.revision[:16]})")
    for column in ("id", "name", "type", "token kid", "encryption kid", "keys", "rotated"):
        table.add_column(column)
    for a in sorted(loaded.agencies.values(), key=lambda a: a.id):
        table.add_row(
            a.id,
            escape(a.name),
            a.type,
            a.jwt_keys[0].kid,
            a.current_encryption_key.kid,
            str(len(a.jwt_keys)),
            a.rotated_at.isoformat() if a.rotated_at else "-",
        )
    Console().print(table)


@app.command("issue-token")
def issue_token_cmd(
    keys: KeysOpt,
    agency: AgencyOpt,
    role: TokenRoleOpt,
    audience: AudienceOpt,
    ttl: TtlOpt = 300,
    subject: Annotated[str | None, typer.Option(help="sub: the person acting")] = None,
    authorises: Annotated[
        Path | None,
        typer.Option(help="An authoriser's token for this exact notification body (sent as Authorisation-Token)"),
    ] = None,
) -> None:
    """Print a signed agency token (demos and tests)."""
    if role not in ROLES:
        raise typer.BadParameter(f"use one of {sorted(ROLES)}", param_hint="--role")
    if role != AGENCY_SYSTEM and not subject:
        raise typer.BadParameter(
            "a person's token names the person (the broker refuses it otherwise)", param_hint="--subject"
        )
    bound = None if authorises is None else {DIGEST_CLAIM: body_digest(authorises.read_bytes())}
    token = issue_token(
        _agency_keys(keys, agency),
        role=role,
        audience=audience,
        ttl=timedelta(seconds=ttl),
        subject=subject,
        extra_claims=bound,
    )
    typer.echo(token)


@app.command("init-broker-keys")
def init_broker_keys_cmd(
    out: Annotated[Path, typer.Option("--out", help="Directory for the broker's keys (refuses to overwrite)")],
    print_env: Annotated[bool, typer.Option(help="Also print them as SGB_* variables")] = False,
) -> None:
    """Create the broker's signing key and HMAC secrets (0600)."""
    keys = generate_broker_keys(out, now=datetime.now(UTC))
    console.print(f"[green]broker keys[/] in {out}: signing kid {keys.signing_key_id}")
    _maybe_print_env(keys, print_env)


@app.command("rotate-broker-keys")
def rotate_broker_keys_cmd(
    keys_dir: Annotated[Path, typer.Option("--dir", help="The broker key directory to rotate in")],
    print_env: Annotated[bool, typer.Option(help="Also print them as SGB_* variables")] = False,
) -> None:
    """Make a new broker signing key; older public keys stay for verification."""
    keys = rotate_broker_signing_key(keys_dir, now=datetime.now(UTC))
    console.print(f"[green]new signing kid[/] {keys.signing_key_id} ({len(keys.verify_keys)} kept)")
    _maybe_print_env(keys, print_env)


def _maybe_print_env(keys: BrokerKeys, print_env: bool) -> None:
    if print_env:
        for name, value in broker_keys_environment(keys).items():
            typer.echo(f"{name}={value}")


def _agency_keys(directory: Path, agency: str) -> AgencyKeys:
    keys = load_agency_keys(directory)
    if keys.agency_id != agency:
        raise RegistryError(f"{directory} holds keys of {keys.agency_id!r}, not {agency!r}")
    return keys


for commands in (access_cli, audit_keys):
    commands.register(app)


def run(command_line: typer.Typer) -> None:
    """Run a command line of the broker's: a broker error is one red line, its paths whole, and exit code 1."""
    try:
        command_line()
    except BrokerError as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise SystemExit(1) from exc


if __name__ == "__main__":
    run(app)
