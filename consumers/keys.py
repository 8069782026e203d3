"""What one agency's consumer holds: its token key, decryption keys and witness key, the broker's public keys.

The key directory and signing history formats, key ids and the 0600 check are
`transport.keyfiles`'; this picks what a consumer needs and reports any problem as a
`ConfigurationError` (the consumer refuses to start).

A running consumer holds its keys in a `KeyringHolder`, which takes a rotation up without a restart
(`python -m broker.partnership.cli rotate` writes the new keys, then replaces the manifest): new
decryption keys at once, a new token and witness key once the gateway has had time to register them.

Broker public keys (given to every agency by the operator), either:

    signing-history.json   the broker's signing history, or the broker key directory that holds it
    or a PEM file          one or more `-----BEGIN PUBLIC KEY-----` Ed25519 blocks

Only the history says when each key was retired, so only with it are a retired key's late signatures
refused (`consumers.broker_keys`); a PEM file's keys verify for ever, and the consumer says so at start.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from consumers.broker_keys import DEFAULT_ALLOWANCE, DEFAULT_WINDOW, BrokerKey, BrokerKeyring
from consumers.errors import ConfigurationError
from transport import keyfiles
from transport.kem import RecipientPrivateKey
from transport.keyfiles import AgencyJwtKey, AgencyWitnessKey

log = logging.getLogger("consumers.keys")

_PEM_BLOCK = re.compile(rb"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.DOTALL)


@dataclass(frozen=True)
class AgencyKeyring:
    """What an agency's consumer holds: its token key, every decryption key it still has, its witness key."""

    agency_id: str
    # The current token key only: receipts and the gateway API's tokens are signed with it.
    jwt_key: AgencyJwtKey
    # kid -> key (X25519 or hybrid), current and older: an envelope sealed before a rotation still opens.
    decryption_keys: dict[str, RecipientPrivateKey] = field(repr=False)
    # The current witness key (cosigns checkpoints); None for a directory made before witnessing.
    witness_key: AgencyWitnessKey | None = None


@contextlib.contextmanager
def _configuration_errors() -> Iterator[None]:
    # One error tree per package: a bad key file is a configuration the operator must fix.
    try:
        yield
    except keyfiles.KeyFileError as exc:
        raise ConfigurationError(str(exc)) from exc


def load_agency_keyring(directory: Path, *, agency_id: str) -> AgencyKeyring:
    """Load the agency's current token key and all its decryption keys from its key directory."""
    with _configuration_errors():
        manifest = keyfiles.read_agency_manifest(directory, agency_id=agency_id)
        jwt_entries, enc_entries = keyfiles.manifest_entries(directory, manifest)
        jwt_key = keyfiles.load_jwt_key(directory, jwt_entries[0])
        decryption = {e["kid"]: keyfiles.load_encryption_key(directory, e).private_key for e in enc_entries}
        witness_entries = keyfiles.witness_entries(directory, manifest)
        witness = keyfiles.load_witness_key(directory, witness_entries[0]) if witness_entries else None
    return AgencyKeyring(agency_id=agency_id, jwt_key=jwt_key, decryption_keys=decryption, witness_key=witness)


class KeyringHolder:
    """The agency's keyring as its key directory holds it now, so that a rotation needs no restart.

    The rotation tool writes the new key files first and replaces the manifest last, atomically: a
    manifest whose inode, size or mtime changed means a whole new keyring. It is looked at no more
    than once every `check_seconds`, when a key is asked for, and at once on `reload()` (a record
    sealed to a key the consumer does not hold). New decryption and witness keys are used at once (the
    gateway takes a cosignature by the agency's current witness key only, so a cosignature refused in
    the seconds before it reloads the registry is posted again on a later checkpoint). A new token key
    (receipts, the gateway API's tokens) only `settle_seconds` after the manifest was written, by the
    wall clock and its mtime, however long the consumer was idle: the gateway and its worker take the
    registry's new keys up every few seconds (SGB_REGISTRY_POLL_SECONDS), a receipt signed with a key
    they do not know yet is dropped for good, and the old key stays valid for the rotation's grace
    period (restart the consumer after a rotation with `--grace-minutes 0`). A manifest that does not
    load leaves the keys in use.
    """

    def __init__(
        self,
        directory: Path,
        *,
        agency_id: str,
        check_seconds: float = 1.0,
        settle_seconds: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._directory, self._agency_id = directory, agency_id
        self._check_seconds, self._settle_seconds, self._clock = check_seconds, settle_seconds, clock
        self._wall = wall
        self._stamp = self._stat()
        self._newest = load_agency_keyring(directory, agency_id=agency_id)
        self._signing = self._newest
        self._next_check = clock()
        self._changed_at = self._stamp[0] / 1e9  # when the manifest was written (wall clock)

    @property
    def newest(self) -> AgencyKeyring:
        """The keyring the directory held when last looked at (decryption keys come from this one)."""
        self._check()
        return self._newest

    def decryption_keys(self) -> dict[str, RecipientPrivateKey]:
        return self.newest.decryption_keys

    def reload(self) -> dict[str, RecipientPrivateKey]:
        """Load the directory now, changed or not, and return its decryption keys; raises `ConfigurationError`."""
        stamp = self._stat()
        self._take(load_agency_keyring(self._directory, agency_id=self._agency_id), stamp)
        return self._newest.decryption_keys

    def jwt_key(self) -> AgencyJwtKey:
        """The token key to sign with now (the receipt signer's and the witness's API token source)."""
        return self._settled().jwt_key

    def witness_key(self) -> AgencyWitnessKey:
        """The witness key to cosign with now: the directory's newest."""
        key = self.newest.witness_key
        if key is None:
            raise ConfigurationError(f"{self._directory} no longer holds a witness key: restore it and start again")
        return key

    def _settled(self) -> AgencyKeyring:
        self._check()
        if self._signing is not self._newest and self._wall() - self._changed_at >= self._settle_seconds:
            self._signing = self._newest
            log.info("signing with the agency's rotated token key %s", self._signing.jwt_key.kid)
        return self._signing

    def _check(self) -> None:
        now = self._clock()
        if now < self._next_check:
            return
        self._next_check = now + self._check_seconds
        stamp = self._stat()
        if stamp == self._stamp:
            return
        try:
            keyring = load_agency_keyring(self._directory, agency_id=self._agency_id)
        except ConfigurationError as exc:
            # Not tried again until the manifest changes (or a record needs a key): one warning, not one a second.
            self._stamp = stamp
            log.warning("the agency's key directory changed but does not load; the keys in use stay: %s", exc)
            return
        self._take(keyring, stamp)

    def _take(self, keyring: AgencyKeyring, stamp: tuple[int, int, int]) -> None:
        self._stamp = stamp
        if _kids(keyring) == _kids(self._newest):
            return
        self._newest, self._changed_at = keyring, stamp[0] / 1e9
        if _kids(keyring) == _kids(self._signing):
            self._signing = keyring  # a rotation undone (the registry was not saved): back at once
        log.info("the agency's key directory changed: %d decryption keys", len(keyring.decryption_keys))

    def _stat(self) -> tuple[int, int, int]:
        try:
            st = (self._directory / keyfiles.AGENCY_MANIFEST).stat()
        except OSError:
            return (0, 0, 0)
        return (st.st_mtime_ns, st.st_size, st.st_ino)


def _kids(keyring: AgencyKeyring) -> tuple[str, tuple[str, ...], str | None]:
    witness = keyring.witness_key.kid if keyring.witness_key is not None else None
    return keyring.jwt_key.kid, tuple(sorted(keyring.decryption_keys)), witness


def load_broker_public_keys(
    path: Path, *, allowance: timedelta = DEFAULT_ALLOWANCE, window: timedelta = DEFAULT_WINDOW
) -> BrokerKeyring:
    """Return the broker's keys (kid -> Ed25519 public key) from a signing history, PEM file or key directory.

    From a history each key but the newest is retired when the next newer one was created, and its
    late signatures are refused by `allowance` and `window` (`consumers.broker_keys`).
    """
    if path.is_dir():
        path = path / keyfiles.SIGNING_HISTORY
    if path.suffix == ".json":
        keys = _from_history(path)
    else:
        keys = [BrokerKey(keyfiles.key_id(k), k) for k in _from_pem(path)]
        if keys:
            log.warning(
                "%s is a PEM key file, which says nothing of when a broker key was retired: a retired key's "
                "signatures cannot be refused; give the consumer the broker's signing-history.json instead",
                path,
            )
    if not keys:
        raise ConfigurationError(f"{path} holds no broker public key")
    return BrokerKeyring(keys, allowance=allowance, window=window)


def _from_history(path: Path) -> list[BrokerKey]:
    with _configuration_errors():
        history = keyfiles.read_dated_signing_history(path)
    # Newest first: each key was retired when the one listed before it was created.
    retired = [None, *(entry.created_at for entry in history)]
    return [BrokerKey(e.kid, e.public_key, retired_at) for e, retired_at in zip(history, retired, strict=False)]


def _from_pem(path: Path) -> list[ed25519.Ed25519PublicKey]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read broker public keys from {path}: {exc}") from exc
    keys = []
    for block in _PEM_BLOCK.findall(data):
        try:
            key = serialization.load_pem_public_key(block)
        except ValueError as exc:
            raise ConfigurationError(f"{path} holds an unreadable public key") from exc
        if not isinstance(key, ed25519.Ed25519PublicKey):
            raise ConfigurationError(f"{path} holds a key that is not Ed25519")
        keys.append(key)
    return keys
