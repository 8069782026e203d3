"""Errors of the gateway and relay; the HTTP layer maps them to responses in one place.

BrokerError
├── AuthError                  the caller's token is not acceptable (HTTP 401 with `reason`)
│   ├── MalformedToken         not a parseable JWT, or a claim of the wrong type
│   ├── DisallowedAlgorithm    alg is not EdDSA or ES256 (none, HS*, RS*, ...)
│   ├── AlgorithmMismatch      alg does not match the registered key's algorithm
│   ├── UnknownIssuer          iss is not a registered agency
│   ├── UnknownKey             kid is not (or no longer) a key of that agency
│   ├── BadTokenSignature      the signature does not verify
│   ├── TokenExpired           exp has passed
│   ├── TokenNotYetValid       nbf or iat is in the future
│   ├── WrongAudience          aud is not this broker
│   ├── MissingClaim           a required claim is absent
│   ├── InvalidClaim           role outside the closed set, lifetime too long, ...
│   ├── RoleNotGranted         a role the registry did not grant the token's agency (logged)
│   └── ReplayError            this token id (jti) was already used
├── SettingsInvalid            an SGB_ setting is missing or not valid (the message names each)
├── KeyFileError               key material missing, unreadable, or readable by others
├── RegistryError              the agency registry is missing, invalid, or asked for the impossible
├── AnchorRefused              the decision log's anchor file (SGB_ANCHOR_FILE) refuses this start
│   ├── LogBehindAnchor        the log no longer extends the checkpoint the file holds
│   └── AnchorFileInvalid      the file cannot be read, or no broker key signed it
├── ReviewInvalid              a review decision or filter is malformed (422)
├── ReleaseRefused             a held share only the sender can put right: refuse it, or send again (409)
├── UnsupportedMediaType       a body not declared `Content-Type: application/json` (415)
├── NotificationExists         a notification under this id was already decided (409)
├── CorrectionIncomplete       a correction's new notification went out, its recall of the first did not (503)
├── SignInRequired             a web page without a live session (redirect to sign-in)
└── CsrfRejected               a form post without the session's anti-forgery token (403)
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar


class BrokerError(Exception):
    """Base of every error the broker raises on purpose."""

    # Whether trying the same thing again later may succeed (aiokafka-style behaviour flag).
    retriable: ClassVar[bool] = False


class AuthError(BrokerError):
    """A token was refused; `reason` is a stable code the HTTP layer returns with the 401."""

    reason: ClassVar[str] = "invalid_token"

    def __init__(self, detail: str = "") -> None:
        super().__init__(f"{self.reason}: {detail}" if detail else self.reason)
        self.detail = detail


class MalformedToken(AuthError):
    reason = "malformed_token"


class DisallowedAlgorithm(AuthError):
    reason = "disallowed_algorithm"


class AlgorithmMismatch(AuthError):
    reason = "algorithm_mismatch"


class UnknownIssuer(AuthError):
    reason = "unknown_issuer"


class UnknownKey(AuthError):
    reason = "unknown_key"


class BadTokenSignature(AuthError):
    reason = "bad_signature"


class TokenExpired(AuthError):
    reason = "expired"


class TokenNotYetValid(AuthError):
    reason = "not_yet_valid"


class WrongAudience(AuthError):
    reason = "wrong_audience"


class MissingClaim(AuthError):
    reason = "missing_claim"


class InvalidClaim(AuthError):
    reason = "invalid_claim"


class LifetimeTooLong(InvalidClaim):
    """A token made to live longer than the broker accepts: its own reason, so the person holding a
    sign-in link is told to ask for a new one, not that their agency did not issue it."""

    reason = "lifetime_too_long"

    def __init__(self, detail: str, *, limit: timedelta) -> None:
        super().__init__(detail)
        self.limit = limit  # the holder is told it: the issuer, not the broker, chooses how long a link lasts


class RoleNotGranted(AuthError):
    """A validly signed token asserting a role the registry did not grant its agency.

    Carries what the token claimed (agency, role, subject, jti) so the refusal can be logged:
    the signature proves the agency issued it, so this is evidence, not noise.
    """

    reason = "role_not_granted"

    def __init__(self, detail: str, *, agency_id: str, role: str, subject: str | None, jti: str) -> None:
        super().__init__(detail)
        self.agency_id, self.role, self.subject, self.jti = agency_id, role, subject, jti


class ScrapeRefused(AuthError):
    """A /metrics scrape without the configured bearer token."""

    reason = "metrics_token"


class ReplayError(AuthError):
    reason = "replayed"


class SettingsInvalid(BrokerError):
    """An `SGB_` setting is missing or not valid; the message names each one, in one line."""


class KeyFileError(BrokerError):
    """Key material could not be loaded safely; the message says which file and what to do."""


class RegistryError(BrokerError):
    """The agency registry could not be read, written or changed as asked."""


class AnchorRefused(BrokerError):
    """The anchor file kept beside the gateway (`broker.db.anchor`) stops it from starting; `path` names it."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


class LogBehindAnchor(AnchorRefused):
    """The decision log is shorter than the anchor file's checkpoint, or differs from it at its size."""

    def __init__(self, message: str, *, path: str, anchor_size: int, log_size: int) -> None:
        super().__init__(message, path=path)
        self.anchor_size, self.log_size = anchor_size, log_size


class AnchorFileInvalid(AnchorRefused):
    """The anchor file cannot be read, or is not a checkpoint any of the broker's keys signed."""


# --- the sharing flow (HTTP mapping in broker/api/errors.py) ------------------------------------


class PolicyUnavailable(BrokerError):
    """OPA could not give a decision (down, slow, erroring, undefined): no share, nothing written."""

    retriable = True


class LogUnavailable(BrokerError):
    """The decision log could not be written: no share, since nothing may go out unrecorded."""

    retriable = True


class Overloaded(BrokerError):
    """The gateway is deciding as many notifications as it admits at once: nothing decided, try again."""

    retriable = True


class InvalidNotification(BrokerError):
    """The body is not a valid notification; `errors` name each bad field by its path."""

    def __init__(self, errors: list[dict[str, object]]) -> None:
        super().__init__("invalid notification")
        self.errors = errors


class PayloadTooLarge(BrokerError):
    """The body is over the configured size limit."""


class UnsupportedMediaType(BrokerError):
    """The body is declared as something other than JSON (or not declared at all)."""


class Forbidden(BrokerError):
    """The caller is authenticated but may not do this (e.g. post as another agency)."""


class NotFound(BrokerError):
    """Nothing the caller may see exists under that id (never says whether it exists for others)."""


class OutOfReach(NotFound):
    """A 404 for an item beyond the caller's reach, or none at all: the same answer either way, but
    an attempt an IG lead must be able to see (an insider trying decision numbers or another agency's
    held share), so the access log keeps it (broker.api.errors.denial), and says which it was: an
    insider reaching for real items is another matter from one mistyping a number."""

    def __init__(self, message: str, *, exists: bool | None = None) -> None:
        super().__init__(message)
        self.exists = exists

    @property
    def logged(self) -> str:
        """The refusal as the access log keeps it: what the caller was told, and what they were not."""
        if self.exists is None:
            return str(self)
        return f"{self} ({'it exists, beyond their reach' if self.exists else 'none exists'})"


class IdempotencyConflict(BrokerError):
    """The Idempotency-Key was already used with a different body, or a correction reuses one that
    corrected another notification or that sent a notification (such a key corrects nothing)."""


class NotificationExists(BrokerError):
    """A notification under this id was already decided; a new notification needs a new id."""


class AlreadyWithdrawn(BrokerError):
    """The notification was already withdrawn or corrected: a second recall changes nothing."""


class AlreadyShredded(AlreadyWithdrawn):
    """The notification's case was shredded: its recipients were told to erase it, and a withdrawal or
    correction would overwrite that with a lesser state (or, a correction, send its content again)."""


class CorrectionIncomplete(BrokerError):
    """A correction's new notification was decided and sent, but the first one's withdrawal was not
    recorded: unlike every other 503, something was shared, and the first still stands."""

    retriable = True


class SharedInAnotherCase(BrokerError):
    """A case shredding named a person who has no case of their own: what was shared about them went
    inside notifications routed by another child (a sibling, an adult named in a child's referral), so
    only that child's case, or a withdrawal of those notifications, can make it unreadable."""


class HeldDeliveryGone(BrokerError):
    """The held delivery was already released, refused or expired."""


# --- review and audit (broker/review/queues.py, broker/ui/) ---------------------------------------------


class ReviewInvalid(BrokerError):
    """A review decision, filter or form value is missing or malformed; `errors` name each field."""

    def __init__(self, detail: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.errors = errors or {}


class ReleaseRefused(BrokerError):
    """A release asked for where the deciding finding needs what only the sender can supply (consent,
    a lawful basis): the answer can only be to refuse, or for the sender to send again with it."""


class SignInRequired(BrokerError):
    """A web page was asked for without a live session (the UI sends the browser to sign in)."""


class CsrfRejected(BrokerError):
    """A form post did not carry this session's anti-forgery token."""
