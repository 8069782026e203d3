"""An authoriser's signed token: the only authorisation a notification can carry as evidence.

Golden rule 4 and the partnership's sign-off rules hold some shares until a line manager or named
professional agrees. A sender who types an `authorisation` block into the body has only said that
someone agreed; the log could not show who. So the block counts only when the request also carries
`Authorisation-Token`: a JWT signed with the sending agency's key (the same keys, algorithms and
checks as the bearer token), for a person whose role the registry granted and the access table lets
authorise, who is not the sender, and whose `notification_digest` claim is `sha256:<hex>` of the
exact request body. Without it the decision stays held and the authoriser answers from the queue.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

import jwt

from broker.admission.tokens import BODY_BOUND_CLAIM, Caller, verify_token
from broker.errors import AuthError, InvalidNotification
from broker.partnership.registry import Registry
from broker.partnership.roles import a_role
from broker.review import access
from schemas.notifications import Notification

HEADER: Final = "Authorisation-Token"
DIGEST_CLAIM: Final = BODY_BOUND_CLAIM


@dataclass(frozen=True)
class Authoriser:
    """Who authorised a notification, as their own token proves."""

    role: str
    subject: str
    agency_id: str


@dataclass(frozen=True)
class AuthorisationCheck:
    """The `Authorisation-Token` a request carried, and how to check it once the body is parsed."""

    token: str
    registry: Registry
    audience: str
    max_lifetime: timedelta

    def verify(self, *, body: bytes, notification: Notification, sender: Caller) -> Authoriser:
        return verify_authorisation(
            self.token,
            body=body,
            notification=notification,
            sender=sender,
            registry=self.registry,
            audience=self.audience,
            max_lifetime=self.max_lifetime,
        )


def body_digest(body: bytes) -> str:
    """The value an authoriser's token binds: `sha256:` and the hex digest of the request body."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


def verify_authorisation(
    token: str,
    *,
    body: bytes,
    notification: Notification,
    sender: Caller,
    registry: Registry,
    audience: str,
    max_lifetime: timedelta,
) -> Authoriser:
    """The authoriser proven by `token` for this body, or a 422 naming what is wrong."""
    try:
        person = verify_token(token, registry=registry, audience=audience, max_lifetime=max_lifetime, body_bound=True)
    except AuthError as exc:
        # Its code, not its detail: the refusal is logged, and a detail can quote what the token says
        # (an `alg` or `iss` holding a child's name), unverified.
        raise _refused(f"the authoriser's token was refused: {exc.reason}") from exc
    if person.agency_id != sender.agency_id:
        raise _refused(f"the authoriser must be of the sending agency, {sender.agency_id}")
    if not access.Viewer.from_caller(person).may(access.Action.AUTHORISE):
        raise _refused(f"{a_role(person.role)} may not authorise sharing (see the access table)")
    # The sender is the token's person, or the person the body names (`sender.user_ref`: an agency
    # system posting for a practitioner), and golden rule 4 asks someone else's agreement.
    # The body names people as references (`as_ref` of their `sub`), so the authoriser is compared so too.
    if person.subject is None or person.user_ref in (sender.user_ref, notification.sender.user_ref):
        raise _refused("the authoriser must be a named person other than the sender")
    if _claim(token, DIGEST_CLAIM) != body_digest(body):
        raise _refused(f"its {DIGEST_CLAIM} must be {body_digest(body)[:15]}…, the digest of this request body")
    _check_block(notification, person)
    return Authoriser(role=person.role, subject=person.subject, agency_id=person.agency_id)


def _check_block(notification: Notification, person: Caller) -> None:
    """The body says who authorised and why; it must name the person whose token came with it."""
    block = notification.authorisation
    if block is None:
        raise InvalidNotification(
            [{"loc": ["authorisation"], "type": "missing", "msg": f"required with {HEADER}: the reason given"}]
        )
    if block.authoriser_role.value != person.role:
        raise InvalidNotification(
            [
                {
                    "loc": ["authorisation", "authoriser_role"],
                    "type": "authoriser_mismatch",
                    "msg": f"must be {person.role}, the role of the {HEADER}",
                }
            ]
        )
    if block.authoriser_ref != person.user_ref:
        raise InvalidNotification(
            [
                {
                    "loc": ["authorisation", "authoriser_ref"],
                    "type": "authoriser_mismatch",
                    "msg": f"must be the subject of the {HEADER}, any @ / + = in it as -",
                }
            ]
        )


def _claim(token: str, name: str) -> object:
    # The signature was verified just before; this only reads one more claim of the same token.
    return jwt.decode(token, options={"verify_signature": False}).get(name)


def _refused(message: str) -> InvalidNotification:
    return InvalidNotification([{"loc": ["header", HEADER], "type": "authorisation_token", "msg": message}])
