"""Registry changes reach running processes: poll the file, check the new revision, hand it on.

Operators change the registry with the partnership CLI (a new agency, a rotated or revoked key, a
role granted or revoked); the file is replaced atomically. Each gateway and worker polls it every
few seconds. A new file is used only if it loads, belongs to the same partnership, and a
change signed with the broker's key vouches for all of it, agencies, keys and grants
(`verify_access_changes`), exactly what start-up demands; otherwise the running registry stays and
the refusal is logged, so a hand-edited or half-copied file never widens access. A new revision is
given to every listener in order (the gateway's: its own state, the policy engine's data, the
sealer, the receipt ingester, the log).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ed25519

from broker.errors import RegistryError
from broker.partnership.changes import signed_with_current, verify_access_changes
from broker.partnership.registry import Registry, load_registry

log = logging.getLogger("broker.registry")

Listener = Callable[[Registry], Awaitable[None]]
_Stamp = tuple[int, int, int]


class RegistryWatch:
    """The registry in force in this process, replaced when its file changes and the change checks out."""

    def __init__(
        self,
        *,
        path: Path,
        current: Registry,
        verify_keys: Sequence[tuple[str, ed25519.Ed25519PublicKey]],
        listeners: Sequence[Listener] = (),
        on_refused: Callable[[], None] | None = None,
    ) -> None:
        self.path = path
        self.current = current
        self._verify_keys = list(verify_keys)
        self._listeners = list(listeners)
        self._on_refused = on_refused
        self._stamp = self._stat()

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def check(self) -> bool:
        """Take a changed file into use; True when a new revision was handed on."""
        stamp = self._stat()
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        try:
            candidate = await asyncio.to_thread(self._load)
        except (RegistryError, OSError) as exc:  # unreadable is refused like invalid: counted, not skipped
            log.error("registry change refused; the running registry stays: %s", exc)
            if self._on_refused is not None:
                self._on_refused()
            return False
        if candidate.revision == self.current.revision:
            return False
        try:
            for listener in self._listeners:
                await listener(candidate)
        except Exception:
            self._stamp = (0, 0, 0)  # not taken into use: the next round tries the same file again
            raise
        self.current = candidate
        log.info("registry revision %s in use", candidate.revision[:16])
        return True

    async def keep_watching(self, stop: asyncio.Event, *, every: float) -> None:
        """Check every `every` seconds until `stop`; a failing listener is retried on the next change."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every)
            try:
                await self.check()
            except Exception:  # the next round tries again; serving never stops for it
                log.exception("registry watch failed")

    def _load(self) -> Registry:
        candidate = load_registry(self.path)
        if candidate.partnership_id != self.current.partnership_id:
            raise RegistryError(
                f"the file is for partnership {candidate.partnership_id!r}, this process serves "
                f"{self.current.partnership_id!r}"
            )
        verify_access_changes(candidate, self._verify_keys)
        _refuse_going_back(self.current, candidate)
        signed_with_current(candidate.access_changes[len(self.current.access_changes) :], self._verify_keys[0][0])
        return candidate

    def _stat(self) -> _Stamp:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return (0, 0, 0)
        return (st.st_mtime_ns, st.st_size, st.st_ino)


def _refuse_going_back(current: Registry, candidate: Registry) -> None:
    """Refuse a file that undoes what the running registry already holds.

    Every change in an older copy of the registry is genuinely signed and chained, so signatures
    alone accept a file restored from before a revocation; the watch must also see that the new
    chain continues the running one, and that no token key retired here is usable again there.
    """
    held = current.access_changes
    if candidate.access_changes[: len(held)] != held:
        raise RegistryError(
            f"the file's {len(candidate.access_changes)} signed access changes do not continue the "
            f"{len(held)} in force (an older or another copy?); to go back on purpose, name its revision in "
            "SGB_REGISTRY_ACCEPT_REVISION and restart"
        )
    for agency_id, agency in current.agencies.items():
        replacement = candidate.agency(agency_id)
        for key in agency.jwt_keys:
            if key.not_after is None or replacement is None:
                continue  # a key still in force, or an agency removed altogether: nothing is widened
            again = replacement.jwt_key(key.kid)
            if again is not None and (again.not_after is None or again.not_after > key.not_after):
                raise RegistryError(
                    f"token key {key.kid} of {agency_id!r} was retired at {key.not_after.isoformat()}; "
                    "the file makes it usable again"
                )
