"""Every agency, key, type and name in the registry comes from a signed change, not the grants alone.

Before, the signed chain vouched for grants and offices only: whoever could write the registry
file, without the broker's key, could add a token key to an agency that holds a Caldicott
Guardian grant and log in as it, or make a housing provider a police force in the policy's eyes.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from typer.testing import CliRunner

from broker.errors import RegistryError
from broker.partnership.changes import AccessChange, adopt_registry, sign_registration, verify_access_changes
from broker.partnership.cli import app, public_parts
from broker.partnership.keys import BrokerKeys, generate_agency_keys, load_broker_keys
from broker.partnership.registry import (
    Registry,
    encryption_public_key,
    load_registry,
    register_agency,
    rotate_agency_keys,
    save_registry,
)
from broker.review import access_log, case_review
from broker.review.access_log import change_draft
from broker.settings import BrokerSettings
from broker.worker import run as run_worker
from devstack.partnership import AgencySpec, LocalPartnership, provision
from schemas.access_events import ACCESS_OUTCOMES
from schemas.envelope import canonical_json
from tests.broker.conftest import GatewayFactory, gateway_settings

CSC, HOUSING = "csc-brackenford", "housing-brackenford"
SPECS = [
    AgencySpec(CSC, "csc_front_door", "Brackenford Children's Services (fictional)"),
    AgencySpec(HOUSING, "housing", "Brackenford Homes (fictional)", roles=("practitioner",)),
]
Edit = Callable[[dict[str, Any], Path], None]


@pytest.fixture
def local(tmp_path: Path) -> LocalPartnership:
    """A partnership whose children's services has rotated its keys once, with no grace."""
    made = provision(tmp_path / "partnership", "brackenford-lscp", SPECS)
    keys, now = load_broker_keys(made.broker_keys_dir), datetime.now(UTC)
    new = generate_agency_keys(tmp_path / "csc-new", agency_id=CSC, now=now)
    jwt_key, enc_key = public_parts(new, now)
    registry = load_registry(made.registry_file)
    rotated = rotate_agency_keys(
        registry, agency_id=CSC, jwt_key=jwt_key, encryption_key=enc_key, now=now, grace=timedelta(0)
    )
    signed = sign_registration(
        rotated,
        action="rotate",
        agency_id=CSC,
        by="ops-admin-07",
        signing_key=keys.signing_key,
        key_id=keys.signing_key_id,
        now=now,
    )
    save_registry(signed, made.registry_file)
    return made


def _new_jwt_key(data: dict[str, Any], root: Path) -> None:
    forged = generate_agency_keys(root / "forged", agency_id=CSC, now=datetime.now(UTC))
    jwt_key, _ = public_parts(forged, datetime.now(UTC))
    data["agencies"][CSC]["jwt_keys"].insert(0, jwt_key.model_dump(mode="json"))


def _new_encryption_key(data: dict[str, Any], root: Path) -> None:
    forged = generate_agency_keys(root / "forged", agency_id=CSC, now=datetime.now(UTC))
    key = encryption_public_key(forged.current_encryption_key.private_key.public_key(), created_at=datetime.now(UTC))
    data["agencies"][CSC]["encryption_keys"].insert(0, key.model_dump(mode="json"))


def _retype(data: dict[str, Any], _: Path) -> None:
    data["agencies"][HOUSING]["type"] = "police"


def _rename(data: dict[str, Any], _: Path) -> None:
    data["agencies"][HOUSING]["name"] = "Brackenford Police (fictional)"


def _redate(data: dict[str, Any], _: Path) -> None:
    data["agencies"][CSC]["jwt_keys"][0]["created_at"] = "2026-01-01T00:00:00Z"


def _unretire(data: dict[str, Any], _: Path) -> None:
    """Bring back the token key a rotation retired: it may be in other hands."""
    (retired,) = [k for k in data["agencies"][CSC]["jwt_keys"] if k.get("not_after")]
    del retired["not_after"]


def _extra_agency(data: dict[str, Any], _: Path) -> None:
    twin = json.loads(json.dumps(data["agencies"][HOUSING]))
    twin["id"] = "police-brackenford"
    twin["type"] = "police"
    twin.pop("witness_keys", None)  # named after the agency it was made for
    data["agencies"]["police-brackenford"] = twin


EDITS: dict[str, Edit] = {
    "a token key added": _new_jwt_key,
    "an encryption key swapped in": _new_encryption_key,
    "an agency's type changed": _retype,
    "an agency renamed": _rename,
    "a key's date changed": _redate,
    "a retired token key brought back": _unretire,
    "an agency added": _extra_agency,
}


def _hand_edit(local: LocalPartnership, edit: Edit, root: Path) -> Registry:
    data = json.loads(local.registry_file.read_bytes())
    edit(data, root)
    edited = Registry.model_validate(data)
    save_registry(edited, local.registry_file)
    return edited


@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS.keys())
def test_a_hand_edit_to_any_agency_is_refused(local: LocalPartnership, edit: Edit, tmp_path: Path) -> None:
    keys = load_broker_keys(local.broker_keys_dir)
    verify_access_changes(load_registry(local.registry_file), keys.verify_keys)  # as provisioned: signed
    edited = _hand_edit(local, edit, tmp_path)
    with pytest.raises(RegistryError, match=r"differs from what signed change #\d+ left") as refused:
        verify_access_changes(edited, keys.verify_keys)
    assert "edited by hand" in str(refused.value)


def test_agencies_with_no_signed_change_are_refused(local: LocalPartnership) -> None:
    keys = load_broker_keys(local.broker_keys_dir)
    bare = load_registry(local.registry_file).model_copy(update={"grants": {}, "access_changes": ()})
    with pytest.raises(RegistryError, match="lists agencies but records no signed change") as refused:
        verify_access_changes(bare, keys.verify_keys)
    assert "cli adopt" in str(refused.value), "a registry from before that granted nothing is adopted"
    verify_access_changes(_adopt(bare, keys), keys.verify_keys)
    granting = bare.model_copy(update={"grants": {HOUSING: ("practitioner",)}})
    with pytest.raises(RegistryError, match="grants roles but records no signed change") as refused:
        verify_access_changes(granting, keys.verify_keys)
    assert "adopt" not in str(refused.value), "adopt would refuse it: not a way out"


def test_no_agency_may_take_the_partnerships_name(local: LocalPartnership) -> None:
    """The log files the registry's revisions under it, for partnership-wide eyes only."""
    registry = load_registry(local.registry_file)
    csc = registry.agencies[CSC]
    with pytest.raises(RegistryError, match="reserved for the partnership as a whole"):
        register_agency(
            registry,
            agency_id="partnership",
            name="Not an agency (fictional)",
            agency_type="csc_front_door",
            jwt_key=csc.jwt_keys[0],
            encryption_key=csc.current_encryption_key,
            now=datetime.now(UTC),
        )


def test_a_name_with_quotes_and_markup_is_quoted_and_printed(tmp_path: Path) -> None:
    """A name is the operator's text: quoted one way in the log, and never read as the console's markup."""
    runner = CliRunner()
    reg, keys_dir, broker = str(tmp_path / "registry.json"), str(tmp_path / "keys"), str(tmp_path / "broker")
    name = 'Brackenford "Families [/] First" (fictional)'
    for args in (
        ["init-broker-keys", "--out", broker],
        ["generate-keys", "--agency", CSC, "--out", keys_dir],
        [
            *("register", "--registry", reg, "--agency", CSC, "--name", name, "--type", "csc_front_door"),
            *("--keys", keys_dir, "--partnership", "brackenford-lscp", "--by", "ops-admin-07", "--broker-keys", broker),
        ],
        ["access", "--registry", reg],
        ["list", "--registry", reg],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args[0], result.output, result.exception)
    (change,) = load_registry(Path(reg)).access_changes
    assert change.detail is not None and change.detail.endswith(
        'csc_front_door "Brackenford \\"Families [/] First\\" (fictional)"'
    )


def test_registration_and_rotation_are_signed_and_name_the_keys_they_added(local: LocalPartnership) -> None:
    registry = load_registry(local.registry_file)
    by_action = [(c.action, c.agency_id) for c in registry.access_changes if c.action in ("register", "rotate")]
    assert by_action == [("register", CSC), ("register", HOUSING), ("rotate", CSC)]
    housing, csc = registry.agencies[HOUSING], registry.agencies[CSC]
    registered = next(c for c in registry.access_changes if (c.action, c.agency_id) == ("register", HOUSING))
    rotated = registry.access_changes[-1]
    for change, agency in ((registered, housing), (rotated, csc)):
        said = change.describe()
        assert agency.jwt_keys[0].kid in said and agency.current_encryption_key.kid in said, said
        assert agency.name in said
    assert f"registered {HOUSING}" in registered.describe()
    assert f"rotated the keys of {CSC}" in rotated.describe()
    draft = change_draft(registered)
    assert (draft.outcome, draft.sender_agency, draft.actor_role) == ("agency_registered", HOUSING, "operator")
    assert change_draft(rotated).outcome == "keys_rotated"


def test_the_api_names_every_outcome_the_access_log_writes() -> None:
    written = {access_log.REFUSED, access_log.REVISION, access_log.WENT_BACK, *access_log.CHANGE_OUTCOMES.values()}
    # A case search's and a shredding's own entries, which the access log lists when asked for them.
    assert written | {case_review.SEARCHED, "shredded"} == set(ACCESS_OUTCOMES)


def _grants_only_change(
    number: int, previous: str | None, access: str, key: ed25519.Ed25519PrivateKey, key_id: str
) -> AccessChange:
    """A change as signed before the agencies came under the chain: `covers` and `detail` absent."""
    unsigned = AccessChange.model_validate(
        {
            "number": number,
            "action": "grant",
            "agency_id": HOUSING,
            "role": "practitioner",
            "by": "ops-admin-07",
            "at": "2026-11-02T09:30:00Z",
            "access": access,
            "previous": previous,
            "key_id": key_id,
            "signature": "",
        }
    )
    signature = base64.urlsafe_b64encode(key.sign(unsigned.signed_bytes())).rstrip(b"=").decode()
    return unsigned.model_copy(update={"signature": signature})


def test_a_change_signed_before_keeps_its_bytes() -> None:
    """Old signatures verify only if the new fields leave an old change's signed bytes as they were."""
    key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    change = _grants_only_change(1, None, "ab" * 32, key, "broker-2026")
    assert change.signed_bytes() == (
        b'{"access":"' + b"ab" * 32 + b'","action":"grant","agency_id":"housing-brackenford","at":'
        b'"2026-11-02T09:30:00Z","by":"ops-admin-07","key_id":"broker-2026","number":1,"office":null,'
        b'"previous":null,"role":"practitioner"}'
    )
    reread = AccessChange.model_validate_json(canonical_json(change.model_dump(mode="json")))
    assert reread.covers == "access" and reread.detail is None
    key.public_key().verify(base64.urlsafe_b64decode(change.signature + "=="), reread.signed_bytes())


def _as_written_before(local: LocalPartnership) -> Registry:
    """The provisioned registry as an older version wrote it: its grant signed over the grants alone."""
    keys = load_broker_keys(local.broker_keys_dir)
    old = load_registry(local.registry_file).model_copy(update={"access_changes": ()})
    change = _grants_only_change(1, None, old.access_digest, keys.signing_key, keys.signing_key_id)
    save_registry(old.model_copy(update={"access_changes": (change,)}), local.registry_file)
    return load_registry(local.registry_file)


def test_a_registry_from_before_is_refused_until_adopted(local: LocalPartnership) -> None:
    keys = load_broker_keys(local.broker_keys_dir)
    before = _as_written_before(local)
    with pytest.raises(RegistryError, match="no signed change vouches for the registry's agencies") as refused:
        verify_access_changes(before, keys.verify_keys)
    assert "partnership.cli adopt" in str(refused.value), "names the way out"

    runner = CliRunner()
    args = ["adopt", "--registry", str(local.registry_file), "--by", "ops-admin-07"]
    args += ["--broker-keys", str(local.broker_keys_dir)]
    shown = runner.invoke(app, args)
    assert shown.exit_code == 0, shown.output
    assert load_registry(local.registry_file) == before, "without --revision nothing is signed"
    for agency in before.agencies.values():  # every key is shown, not only the current ones
        for kid in [k.kid for k in agency.jwt_keys] + [k.kid for k in agency.encryption_keys]:
            assert kid in shown.stdout
    assert f"--revision {before.revision}" in shown.stderr
    assert f"{HOUSING}: " in shown.stdout and "  may assert: agency_system, practitioner" in shown.stdout
    stale = runner.invoke(app, [*args, "--revision", "0" * 64])
    assert stale.exit_code != 0 and "look again" in str(stale.exception)

    signed = runner.invoke(app, [*args, "--revision", before.revision])
    assert signed.exit_code == 0, signed.output
    adopted = load_registry(local.registry_file)
    verify_access_changes(adopted, keys.verify_keys)
    last = adopted.access_changes[-1]
    assert (last.action, last.agency_id, last.covers) == ("adopt", "partnership", "registry")
    assert last.detail is not None and before.revision in last.detail
    assert change_draft(last).outcome == "registry_adopted"
    assert adopted.access_changes[0] == before.access_changes[0], "the old change is kept as it was"

    again = runner.invoke(app, [*args, "--revision", adopted.revision])
    assert again.exit_code != 0
    assert "nothing to adopt" in str(again.exception)


def test_an_old_tools_change_over_a_covered_registry_is_refused_and_not_adoptable(
    local: LocalPartnership, tmp_path: Path
) -> None:
    """An operator on the previous CLI grants on top of a hand-added key: that CLI checked grants only."""
    keys = load_broker_keys(local.broker_keys_dir)
    edited = _hand_edit(local, _new_jwt_key, tmp_path)
    last = edited.access_changes[-1]
    old_tool = _grants_only_change(
        last.number + 1, last.digest(), edited.access_digest, keys.signing_key, keys.signing_key_id
    )
    mixed = edited.model_copy(update={"access_changes": (*edited.access_changes, old_tool)})
    with pytest.raises(RegistryError, match="signed by a tool from before") as refused:
        verify_access_changes(mixed, keys.verify_keys)
    assert "adopt" not in str(refused.value), "not a way out here"
    with pytest.raises(RegistryError, match="cannot be adopted again"):
        _adopt(mixed, keys)


def _adopt(registry: Registry, keys: BrokerKeys) -> Registry:
    return adopt_registry(
        registry,
        revision=registry.revision,
        keys=keys.verify_keys,
        by="ops-admin-07",
        signing_key=keys.signing_key,
        key_id=keys.signing_key_id,
        now=datetime.now(UTC),
    )


@pytest.mark.parametrize("edit", [_new_jwt_key, _retype], ids=["a token key", "a type"])
def test_adopt_does_not_sign_a_hand_edit_made_since_the_chain_covered_agencies(
    local: LocalPartnership, edit: Edit, tmp_path: Path
) -> None:
    keys = load_broker_keys(local.broker_keys_dir)
    edited = _hand_edit(local, edit, tmp_path)
    with pytest.raises(RegistryError, match="edited by hand"):
        _adopt(edited, keys)


def test_register_and_rotate_will_not_sign_on_top_of_a_hand_edit(local: LocalPartnership, tmp_path: Path) -> None:
    _hand_edit(local, _retype, tmp_path)
    keys_dir = tmp_path / "csc-keys"
    runner = CliRunner()
    base = ["--registry", str(local.registry_file), "--by", "ops-admin-07", "--broker-keys", str(local.broker_keys_dir)]
    rotated = runner.invoke(app, ["rotate", *base, "--agency", CSC, "--keys", str(keys_dir)])
    assert rotated.exit_code != 0 and "edited by hand" in str(rotated.exception)
    assert not keys_dir.exists(), "no keys are made for a rotation that is refused"
    runner.invoke(app, ["generate-keys", "--agency", "yot-brackenford", "--out", str(tmp_path / "yot")])
    registered = runner.invoke(
        app,
        [
            *("register", *base, "--agency", "yot-brackenford", "--name", "Brackenford YOT (fictional)"),
            *("--type", "yos", "--keys", str(tmp_path / "yot")),
        ],
    )
    assert registered.exit_code != 0 and "edited by hand" in str(registered.exception)
    assert "yot-brackenford" not in load_registry(local.registry_file).agencies


@pytest.mark.stack
async def test_a_gateway_and_a_worker_refuse_to_start_on_a_hand_edited_key(
    gateway_factory: GatewayFactory, partnership: LocalPartnership, tmp_path: Path, sqlite_url: str
) -> None:
    path = tmp_path / "registry.json"
    path.write_bytes(partnership.registry_file.read_bytes())
    data = json.loads(path.read_bytes())
    forged = generate_agency_keys(tmp_path / "forged", agency_id="police-fenmere", now=datetime.now(UTC))
    jwt_key, _ = public_parts(forged, datetime.now(UTC))
    data["agencies"]["police-fenmere"]["jwt_keys"].insert(0, jwt_key.model_dump(mode="json"))
    save_registry(Registry.model_validate(data), path)
    with pytest.raises(RegistryError, match="edited by hand"):
        await gateway_factory(registry_file=path, registry_poll_seconds=0)
    settings: BrokerSettings = gateway_settings(partnership, sqlite_url, registry_file=path)
    with pytest.raises(RegistryError, match="edited by hand"):
        await run_worker(settings)


def _with_forged_key(registry: Registry, agency_id: str, root: Path) -> Registry:
    forged = generate_agency_keys(root / "forged", agency_id=agency_id, now=datetime.now(UTC))
    jwt_key, _ = public_parts(forged, datetime.now(UTC))
    data = registry.model_dump(mode="json")
    data["agencies"][agency_id]["jwt_keys"].insert(0, jwt_key.model_dump(mode="json"))
    return Registry.model_validate(data)


@pytest.mark.stack
async def test_a_chain_cut_back_and_adopted_is_refused_by_the_log_that_saw_it(
    gateway_factory: GatewayFactory, partnership: LocalPartnership, tmp_path: Path
) -> None:
    """Adopt signs what it is shown; a file stripped of its chain and grants, a key added, is shown
    as a registry from before. The decision log remembers the changes it lacks."""
    path = tmp_path / "registry.json"
    path.write_bytes(partnership.registry_file.read_bytes())
    await gateway_factory(registry_file=path, registry_poll_seconds=0)  # logs every change
    stripped = load_registry(path).model_copy(update={"grants": {}, "office_holders": (), "access_changes": ()})
    forged = _with_forged_key(stripped, "police-fenmere", tmp_path)
    save_registry(forged, path)
    with pytest.raises(RegistryError, match=r"lacks \d+ signed access change") as refused:
        await gateway_factory(registry_file=path, registry_poll_seconds=0)
    assert "adopt" not in str(refused.value), "the log names it a cut copy: no way out through adopt"
    keys = load_broker_keys(partnership.broker_keys_dir)
    save_registry(_adopt(forged, keys), path)  # an operator adopts it all the same
    with pytest.raises(RegistryError, match=r"lacks \d+ signed access change"):
        await gateway_factory(registry_file=path, registry_poll_seconds=0)
