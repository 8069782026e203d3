"""Who may assert which role: the signed grant and office commands of `python -m broker.partnership.cli`.

Each change is signed with the broker's key and chained to the one before, so a registry edited by
hand is refused; a running gateway takes a change into use, and logs it, within seconds. `adopt`
signs, once, the agencies and keys of a registry written before they came under the chain.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from broker.partnership.changes import ChangeAction, adopt_registry, check_adoptable, verify_access_changes
from broker.partnership.grants import change_access
from broker.partnership.keys import BrokerKeys, load_broker_keys
from broker.partnership.options import AgencyOpt, BrokerKeysOpt, ByOpt, OfficeOpt, RegistryOpt, RoleOpt
from broker.partnership.registry import Registry, load_registry, save_registry
from broker.partnership.roles import OFFICES, Office

console = Console(stderr=True)


def grant_cmd(
    registry: RegistryOpt, agency: AgencyOpt, role: RoleOpt, by: ByOpt, broker_keys: BrokerKeysOpt = None
) -> None:
    """Let an agency's tokens assert a person role (signed; in use and logged within seconds)."""
    _change(registry, broker_keys, by, "grant", agency, role=role)


def revoke_cmd(
    registry: RegistryOpt, agency: AgencyOpt, role: RoleOpt, by: ByOpt, broker_keys: BrokerKeysOpt = None
) -> None:
    """Take a person role back from an agency (signed; in use and logged within seconds)."""
    _change(registry, broker_keys, by, "revoke", agency, role=role)


def appoint_cmd(
    registry: RegistryOpt, office: OfficeOpt, agency: AgencyOpt, by: ByOpt, broker_keys: BrokerKeysOpt = None
) -> None:
    """Make the holder of the office's role at an agency a partnership office holder (sees across agencies)."""
    _change(registry, broker_keys, by, "appoint", agency, office=_office(office))


def vacate_cmd(
    registry: RegistryOpt, office: OfficeOpt, agency: AgencyOpt, by: ByOpt, broker_keys: BrokerKeysOpt = None
) -> None:
    """End an agency's holding of a partnership office."""
    _change(registry, broker_keys, by, "vacate", agency, office=_office(office))


def adopt_cmd(
    registry: RegistryOpt,
    by: ByOpt,
    broker_keys: BrokerKeysOpt = None,
    revision: Annotated[
        str | None, typer.Option(help="The revision shown by a run without it, once you have checked it")
    ] = None,
) -> None:
    """Sign, as they stand, the agencies and keys of a registry from before they were signed.

    Without `--revision` it signs nothing: it shows every agency and every key, and the revision to name.
    """
    keys = broker_keys_for(broker_keys)
    current = load_registry(registry)
    check_adoptable(current, keys.verify_keys)
    for line in key_lines(current):
        typer.echo(line)
    if revision is None:
        typer.echo(
            "Nothing signed yet. Check every agency and key above; to sign exactly this registry, run again "
            f"with --revision {current.revision}",
            err=True,
        )
        return
    updated = adopt_registry(
        current,
        revision=revision,
        keys=keys.verify_keys,
        by=by,
        signing_key=keys.signing_key,
        key_id=keys.signing_key_id,
        now=datetime.now(UTC),
    )
    save_registry(updated, registry)
    _said(updated)


def key_lines(registry: Registry) -> list[str]:
    """Every agency, every key it lists (retired ones too) and every grant and office: what an operator
    vouches for, one per line and never cut short (a table would elide a key id in a narrow terminal).

    A key id is the first 64 bits of the key's SHA-256 (`broker.partnership.keys.key_id`): compare it
    with the id the agency gave you, since finding another key with the same id is not feasible.
    """
    lines = [f"{registry.partnership_id}, revision {registry.revision}"]
    for agency in sorted(registry.agencies.values(), key=lambda a: a.id):
        lines.append(f"{agency.id}: {agency.type}, {agency.name!r}, registered {agency.created_at.isoformat()}")
        lines += [
            f"  token key {k.kid} ({k.alg}), made {k.created_at.isoformat()}, not after {_when(k.not_after)}"
            for k in agency.jwt_keys
        ]
        lines += [f"  sealing key {k.kid} ({k.suite}), made {k.created_at.isoformat()}" for k in agency.encryption_keys]
        lines += [f"  witness key {k.kid}, made {k.created_at.isoformat()}" for k in agency.witness_keys]
        lines.append(f"  may assert: {', '.join(sorted(registry.granted_roles(agency.id)))}")
    lines += [f"{h.office}: the {h.role} of {h.agency_id}" for h in registry.office_holders]
    return lines


def _when(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else "-"


def access_cmd(registry: RegistryOpt) -> None:
    """Show each agency's granted roles, the office holders, and the signed changes."""
    loaded = load_registry(registry)
    out = Console()
    for agency_id in sorted(loaded.agencies):
        out.print(f"{agency_id}: {', '.join(sorted(loaded.granted_roles(agency_id)))}")
    for holder in loaded.office_holders:
        out.print(f"{holder.office}: the {holder.role} of {holder.agency_id}")
    for change in loaded.access_changes:
        out.print(escape(change.describe()))


def _office(value: str) -> Office:
    for office in ("partnership_ig_lead", "partnership_caldicott_guardian"):
        if value == office:
            return office
    raise typer.BadParameter(f"use one of {', '.join(OFFICES)}", param_hint="--office")


def broker_keys_for(directory: Path | None) -> BrokerKeys:
    # A directory named on the command line is the one meant, even where SGB_SIGNING_KEY is set.
    return load_broker_keys(directory, environ={}) if directory is not None else load_broker_keys(None)


def checked(current: Registry, broker_keys: Path | None) -> BrokerKeys:
    """The broker's keys, once the registry's chain checks out: never sign on top of a hand edit."""
    keys = broker_keys_for(broker_keys)
    verify_access_changes(current, keys.verify_keys)
    return keys


def _change(
    path: Path,
    broker_keys: Path | None,
    by: str,
    action: ChangeAction,
    agency: str,
    *,
    role: str | None = None,
    office: Office | None = None,
) -> None:
    current = load_registry(path)
    keys = checked(current, broker_keys)
    updated = change_access(
        current,
        action=action,
        agency_id=agency,
        role=role,
        office=office,
        by=by,
        signing_key=keys.signing_key,
        key_id=keys.signing_key_id,
        now=datetime.now(UTC),
    )
    save_registry(updated, path)
    _said(updated)


def _said(updated: Registry) -> None:
    console.print(
        f"[green]{escape(updated.access_changes[-1].describe())}[/]; registry revision {updated.revision[:16]}. "
        "Running gateways and workers take it into use within SGB_REGISTRY_POLL_SECONDS, and log it."
    )


def register(app: typer.Typer) -> None:
    """Add the access commands to the partnership CLI."""
    for name, command in (
        ("grant", grant_cmd),
        ("revoke", revoke_cmd),
        ("appoint", appoint_cmd),
        ("vacate", vacate_cmd),
        ("adopt", adopt_cmd),
        ("access", access_cmd),
    ):
        app.command(name)(command)
