"""Agency tokens: verify a JWT against the registry, and refuse a token's second use.

A token is accepted only if, in this order: its header names an allowed algorithm (EdDSA or
ES256: never `none`, HS* or RS*) and a `kid`; its `iss` is a registered agency holding that kid
for that algorithm (a key is only ever used with the algorithm of its own type, which shuts out
algorithm confusion such as HS256 keyed with a public key); the signature verifies; `aud` is this
broker; `exp`, `iat` (and `nbf` if present) hold, within a small leeway; it lives no longer than
the maximum; `role` is one of the closed set and one the registry granted the issuing agency
(`RoleNotGranted` otherwise: an agency can sign any claim, so a role is granted, never claimed);
and a person's token (any role but `agency_system`) names the person in `sub`, so every log entry
can say who acted. A token bound to one notification body (`notification_digest`: an authoriser's
`Authorisation-Token`, `broker.admission.authorisation`) is evidence for that body only, never a
bearer credential, so it is refused everywhere else. The replay check (`broker.admission.replay`)
runs after verification, so unauthenticated garbage never reaches the database.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from jwt.exceptions import InvalidJTIError, InvalidSubjectError

from broker.errors import (
    AlgorithmMismatch,
    AuthError,
    BadTokenSignature,
    DisallowedAlgorithm,
    InvalidClaim,
    LifetimeTooLong,
    MalformedToken,
    MissingClaim,
    RoleNotGranted,
    TokenExpired,
    TokenNotYetValid,
    UnknownIssuer,
    UnknownKey,
    WrongAudience,
)
from broker.partnership.registry import Agency, JwtVerificationKey, Registry
from broker.partnership.roles import AGENCY_SYSTEM, ROLES
from schemas.common import as_ref

ALLOWED_ALGORITHMS = frozenset({"EdDSA", "ES256"})
REQUIRED_CLAIMS = ("iss", "aud", "exp", "iat", "jti")
DEFAULT_LEEWAY = timedelta(seconds=30)
DEFAULT_MAX_LIFETIME = timedelta(minutes=10)
MAX_TOKEN_CHARS = 8192
# The claim that binds an authoriser's token to one request body (broker.admission.authorisation).
BODY_BOUND_CLAIM = "notification_digest"
# The claims of an agency's signed delivery receipt (consumers/receipt.py): a receipt is signed like an
# API token (same issuer, audience, role), so without this check one read off the receipts topic
# would sign its holder in as the agency's system until it expired.
RECEIPT_CLAIMS = ("kind", "delivery_id")
_JTI = re.compile(r"^[\x21-\x7e]{1,128}$")  # printable ASCII, so the replay key stays a plain string
# A subject becomes the actor of log entries, so it has the log's identifier shape.
_SUBJECT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$")
# A role's shape: a claimed role that no registry grants is logged (the log's identifier), so it has one.
_ROLE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

# pyjwt's errors, most specific first (InvalidSignatureError is a DecodeError, so it comes earlier).
_PYJWT_ERRORS: tuple[tuple[type[jwt.PyJWTError], type[AuthError]], ...] = (
    (jwt.InvalidSignatureError, BadTokenSignature),
    (jwt.ExpiredSignatureError, TokenExpired),
    (jwt.ImmatureSignatureError, TokenNotYetValid),
    (jwt.InvalidAudienceError, WrongAudience),
    (jwt.InvalidIssuerError, UnknownIssuer),
    (jwt.MissingRequiredClaimError, MissingClaim),
    (jwt.InvalidAlgorithmError, DisallowedAlgorithm),
    (jwt.InvalidIssuedAtError, InvalidClaim),
    (InvalidJTIError, InvalidClaim),
    (InvalidSubjectError, InvalidClaim),
    (jwt.PyJWTError, MalformedToken),
)


@dataclass(frozen=True)
class Caller:
    """Who is calling, as proven by a verified token."""

    agency_id: str
    agency_type: str
    role: str
    subject: str | None
    jti: str
    key_id: str
    issued_at: datetime
    expires_at: datetime
    # The partnership office (broker.partnership.roles.OFFICES) the registry gives this role at this agency.
    office: str | None = None

    @property
    def actor(self) -> str:
        """Who acted, as the log records it: the person's `sub`, or `agency_system@<agency>` for a system."""
        return self.subject or f"{self.role}@{self.agency_id}"

    @property
    def user_ref(self) -> str | None:
        """The `sender.user_ref` this person sends as: their `sub` in a reference's characters (64 at
        most); None for an agency system, which names the person it posts for."""
        if self.role == AGENCY_SYSTEM or self.subject is None:
            return None
        return as_ref(self.subject)


def verify_token(
    token: str,
    *,
    registry: Registry,
    audience: str,
    max_lifetime: timedelta = DEFAULT_MAX_LIFETIME,
    leeway: timedelta = DEFAULT_LEEWAY,
    body_bound: bool = False,
    receipt: bool = False,
) -> Caller:
    """Verify an agency JWT and return its caller; raise an `AuthError` subclass otherwise.

    `body_bound`: the token is an `Authorisation-Token`, checked against one body by its caller; any
    other use refuses a token that carries the body-binding claim. `receipt`: the token is a delivery
    receipt, read by the receipt recorder; any other use refuses a token with a receipt's claims.
    """
    if len(token) > MAX_TOKEN_CHARS:
        raise MalformedToken("token too large")
    header, payload = _unverified(token)
    alg, kid = _checked_header(header)
    agency = _issuer(payload, registry)
    key = _key(agency, kid, alg)
    claims = _decode(token, key, audience=audience, issuer=agency.id, leeway=leeway)
    if BODY_BOUND_CLAIM in claims and not body_bound:
        # A manager's token handed to a sender to attach to one notification would otherwise let
        # whoever holds it act as that manager (answer the authorisation queue, sign in) until it expires.
        raise InvalidClaim(f"a token with {BODY_BOUND_CLAIM} authorises one notification and is not a bearer token")
    if not receipt and (named := [claim for claim in RECEIPT_CLAIMS if claim in claims]):
        raise InvalidClaim(f"a token with {named[0]} is a delivery receipt and is not a bearer token")
    caller = _caller(claims, agency, key, max_lifetime)
    if caller.role not in registry.granted_roles(agency.id):
        raise RoleNotGranted(
            f"the registry does not grant the role {caller.role!r} to {agency.id!r}",
            agency_id=agency.id,
            role=caller.role,
            subject=caller.subject,
            jti=caller.jti,
        )
    return replace(caller, office=registry.office_of(agency.id, caller.role))


def _unverified(token: str) -> tuple[dict[str, Any], bytes]:
    """The header and the raw claims, from one parse: pyjwt checks every character of every segment
    in pure Python, so each parse of a token cost more than verifying its signature; the verifying
    decode below is then the only other one."""
    try:
        parts = jwt.api_jws.decode_complete(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        # Refused either way; a header that parses alone gives the reason (e.g. a critical extension).
        with contextlib.suppress(jwt.PyJWTError):
            _checked_header(jwt.get_unverified_header(token))
        raise MalformedToken("not a JWT") from exc
    return parts["header"], parts["payload"]


def _shown(value: object) -> str:
    """A token's value, quoted in a refusal only if it has an identifier's shape: refusals of an
    Authorisation-Token are logged, and the log never holds free text a sender chose (a name, say)."""
    return repr(value) if isinstance(value, str) and _SUBJECT.fullmatch(value) else "(not an identifier)"


def _checked_header(header: dict[str, Any]) -> tuple[str, str]:
    alg, kid = header.get("alg"), header.get("kid")
    if alg not in ALLOWED_ALGORITHMS:
        raise DisallowedAlgorithm(f"alg {_shown(alg)} is not allowed; use EdDSA or ES256")
    # We understand no JWS extensions, so a critical one must be refused (RFC 7515 §4.1.11).
    if "crit" in header:
        raise MalformedToken("critical header extensions are not supported")
    if not isinstance(kid, str) or not kid:
        raise UnknownKey("the header has no kid")
    return str(alg), kid


def _issuer(payload: bytes, registry: Registry) -> Agency:
    # Read before verifying only to choose the key; the signature check below covers `iss`.
    try:
        claims = json.loads(payload)
    except (ValueError, RecursionError) as exc:
        raise MalformedToken("claims are not a JSON object") from exc
    if not isinstance(claims, dict):
        raise MalformedToken("claims are not a JSON object")
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise MissingClaim("iss")
    agency = registry.agency(issuer)
    if agency is None:
        raise UnknownIssuer(f"{_shown(issuer)} is not a registered agency")
    return agency


def _key(agency: Agency, kid: str, alg: str) -> JwtVerificationKey:
    key = agency.jwt_key(kid)
    if key is None:
        raise UnknownKey(f"agency {agency.id!r} has no key {_shown(kid)}")
    if key.alg != alg:
        raise AlgorithmMismatch(f"key {_shown(kid)} is an {key.alg} key, the token says {alg}")
    if not key.usable_at(datetime.now(UTC)):
        raise UnknownKey(f"key {_shown(kid)} was rotated out")
    return key


def _decode(token: str, key: JwtVerificationKey, *, audience: str, issuer: str, leeway: timedelta) -> dict[str, Any]:
    try:
        return jwt.decode(
            token,
            key=key.public_key(),
            algorithms=[key.alg],
            audience=audience,
            issuer=issuer,
            leeway=leeway,
            options={"require": list(REQUIRED_CLAIMS), "strict_aud": True},
        )
    except jwt.PyJWTError as exc:
        raise _translated(exc) from exc


def _translated(exc: jwt.PyJWTError) -> AuthError:
    for pyjwt_error, auth_error in _PYJWT_ERRORS:
        if isinstance(exc, pyjwt_error):
            return auth_error(str(exc))
    raise AssertionError("unreachable: PyJWTError is mapped")  # pragma: no cover


def _caller(claims: dict[str, Any], agency: Agency, key: JwtVerificationKey, max_lifetime: timedelta) -> Caller:
    role, jti, subject = claims.get("role"), claims["jti"], claims.get("sub")
    if role is None:
        raise MissingClaim("role")
    if not isinstance(role, str) or not _ROLE.fullmatch(role):
        raise InvalidClaim(f"role {_shown(role)} is not one of {sorted(ROLES)}")
    if not isinstance(jti, str) or not _JTI.fullmatch(jti):
        raise InvalidClaim("jti must be 1-128 printable ASCII characters")
    if subject is not None and (not isinstance(subject, str) or not _SUBJECT.fullmatch(subject)):
        raise InvalidClaim("sub must be an identifier: 1-128 of A-Z a-z 0-9 . _ : @ / + = -")
    if role not in ROLES:
        # Validly signed, so the agency issued it: a role no registry can grant ("superuser", an office's
        # name) is a claim past what it was granted, and its IG lead must see it, as any other such claim.
        raise RoleNotGranted(
            f"the role {role!r} is none the broker knows, so the registry does not grant it to {agency.id!r}",
            agency_id=agency.id,
            role=role,
            subject=subject,
            jti=jti,
        )
    if subject is None and role != AGENCY_SYSTEM:
        raise MissingClaim(f"sub: a {role}'s token must name the person acting")
    if role != AGENCY_SYSTEM and subject is not None and subject.startswith(f"{AGENCY_SYSTEM}@"):
        # The log names an agency's system `agency_system@<agency>` (Caller.actor): a person holding
        # that name would read, as their "own", everything their agency's systems sent.
        raise InvalidClaim(f"sub {subject!r} is the name the log gives an agency system, not a person")
    issued_at, expires_at = _instant(claims["iat"], "iat"), _instant(claims["exp"], "exp")
    # A long-lived token is a long-lived stolen token; the cap keeps theft windows short.
    if expires_at <= issued_at:
        raise InvalidClaim("exp must be after iat")
    if expires_at - issued_at > max_lifetime:
        raise LifetimeTooLong(f"exp - iat must be at most {int(max_lifetime.total_seconds())} s", limit=max_lifetime)
    return Caller(
        agency_id=agency.id,
        agency_type=agency.type,
        role=role,
        subject=subject,
        jti=jti,
        key_id=key.kid,
        issued_at=issued_at,
        expires_at=expires_at,
    )


def _instant(value: object, claim: str) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidClaim(f"{claim} must be a NumericDate")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        # pyjwt accepts any integer `exp` in the future; one past year 9999 (or time_t) is still a
        # refusal of the token (401), never a crash of the request (500).
        raise InvalidClaim(f"{claim} is out of range") from exc
