"""The broker's public keys as a consumer trusts them: each with when it was retired, and for how long.

The broker's signing history lists its keys newest first; a key is retired when the next newer one
was created (its `created_at`). Every key of the history still verifies, since records signed before
a rotation are still on the way, but a retired key's private half may end up in other hands, so what
it signs is not trusted for ever. A signature by a retired key is refused (`BrokerKeyring.refusal`):

1. when the record's own signed time (an envelope's `sealed_at`, a notice's `issued_at`, a
   checkpoint's `time`, each covered by the signature) is later than the retirement plus `allowance`
   (clock skew, and the gateway and worker signing with the old key until restarted on the new one);
2. whatever its signed time, once the key was retired longer ago than `window`: a record cannot
   legitimately still be unread after the inbox's retention. Only this rule stops a holder of the old
   key who backdates the signed time to before the retirement.

A bare PEM file carries no history, so no retirement is known and its keys verify for ever
(`consumers.keys.load_broker_public_keys` warns at start). The keyring is also the plain
kid -> public key mapping `transport.sealing` and `transport.notice` verify with.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from transport.keyfiles import aware_time

# The settings' defaults (consumers.settings): tests and tools that build a keyring directly enforce too.
DEFAULT_ALLOWANCE: Final = timedelta(hours=72)
DEFAULT_WINDOW: Final = timedelta(days=30)


@dataclass(frozen=True)
class BrokerKey:
    """One broker signing key; `retired_at` None: the current key, or one whose retirement is not known."""

    kid: str
    key: Ed25519PublicKey = field(repr=False)
    retired_at: datetime | None = None


def _now() -> datetime:
    return datetime.now(UTC)


class BrokerKeyring(Mapping[str, Ed25519PublicKey]):
    """kid -> broker public key, and the rule that refuses a retired key's signature (module docstring)."""

    def __init__(
        self,
        keys: Iterable[BrokerKey],
        *,
        allowance: timedelta = DEFAULT_ALLOWANCE,
        window: timedelta = DEFAULT_WINDOW,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._keys = {key.kid: key for key in keys}
        self.allowance, self.window = allowance, window
        self._clock = clock

    @classmethod
    def of(cls, keys: BrokerKeyring | Mapping[str, Ed25519PublicKey]) -> BrokerKeyring:
        """`keys` itself, or a plain kid -> key mapping as a keyring of keys whose retirement is not known."""
        if isinstance(keys, BrokerKeyring):
            return keys
        return cls(BrokerKey(kid, key) for kid, key in keys.items())

    def __getitem__(self, kid: str) -> Ed25519PublicKey:
        return self._keys[kid].key

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def entries(self) -> tuple[BrokerKey, ...]:
        return tuple(self._keys.values())

    def refusal(self, kid: str, signed_at: str) -> str | None:
        """Why a record whose signature by `kid` verified, signed at `signed_at`, is refused; None: it is not.

        Call it only once the signature verified: a forgery is a bad signature, whatever key it names.
        """
        entry = self._keys.get(kid)
        if entry is None or entry.retired_at is None:
            return None
        retired = f"broker key {kid} was retired at {_text(entry.retired_at)}, when the history's next key was made"
        if self._clock() - entry.retired_at > self.window:
            return (
                f"signed by a retired key: {retired}, more than {_days(self.window)} ago; a record cannot "
                "legitimately still be unread after the inbox's retention (CONSUMER_RETIRED_KEY_WINDOW_DAYS)"
            )
        moment = aware_time(signed_at)  # None: refused, fail closed
        if moment is None or moment > entry.retired_at + self.allowance:
            return (
                f"signed by a retired key: {retired}, but the record says it was signed at {signed_at}, "
                f"more than {_hours(self.allowance)} later; whoever still holds a retired key must not sign "
                "new records (CONSUMER_RETIRED_KEY_ALLOWANCE_HOURS)"
            )
        return None


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _days(span: timedelta) -> str:
    return f"{span / timedelta(days=1):g} days"


def _hours(span: timedelta) -> str:
    return f"{span / timedelta(hours=1):g} hours"
