"""Agency token verification: every refusal, and replay refusal on a real SQLite database file."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import hmac
import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from sqlalchemy import Engine
from sqlmodel import Session, create_engine, select

import audit
from broker.admission import replay
from broker.admission.replay import SeenToken, TokenBurner, purge_seen_tokens, remember_jti
from broker.admission.tokens import Caller, verify_token
from broker.db.tables import BrokerTable
from broker.errors import (
    AlgorithmMismatch,
    AuthError,
    BadTokenSignature,
    DisallowedAlgorithm,
    InvalidClaim,
    LifetimeTooLong,
    MalformedToken,
    MissingClaim,
    ReplayError,
    RoleNotGranted,
    TokenExpired,
    TokenNotYetValid,
    UnknownIssuer,
    UnknownKey,
    WrongAudience,
)
from broker.partnership.cli import issue_token, public_parts
from broker.partnership.grants import change_access
from broker.partnership.keys import AgencyKeys, generate_agency_keys
from broker.partnership.registry import Registry, register_agency, rotate_agency_keys

AUD = "safeguarding-broker"
SCHOOL = "brackenford-primary"
POLICE = "fernhill-police"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def school_keys(tmp_path_factory: pytest.TempPathFactory) -> AgencyKeys:
    return generate_agency_keys(tmp_path_factory.mktemp("school"), agency_id=SCHOOL, now=NOW)


@pytest.fixture(scope="module")
def police_keys(tmp_path_factory: pytest.TempPathFactory) -> AgencyKeys:
    return generate_agency_keys(tmp_path_factory.mktemp("police"), agency_id=POLICE, now=NOW, alg="ES256")


@pytest.fixture(scope="module")
def registry(school_keys: AgencyKeys, police_keys: AgencyKeys) -> Registry:
    """Both agencies registered; each granted `dsl`, and the school's IG lead is the partnership's."""
    reg = Registry(partnership_id="brackenford-lscp")
    for agency_id, keys, kind in ((SCHOOL, school_keys, "education_school"), (POLICE, police_keys, "police")):
        jwt_key, enc_key = public_parts(keys, NOW)
        reg = register_agency(
            reg,
            agency_id=agency_id,
            name=f"{agency_id} (fictional)",
            agency_type=kind,
            jwt_key=jwt_key,
            encryption_key=enc_key,
            now=NOW,
        )
    key = ed25519.Ed25519PrivateKey.generate()
    for agency_id, role in ((SCHOOL, "dsl"), (POLICE, "dsl"), (SCHOOL, "ig_lead")):
        reg = change_access(
            reg,
            action="grant",
            agency_id=agency_id,
            role=role,
            by="ops-admin-01",
            signing_key=key,
            key_id="test-key",
            now=NOW,
        )
    return change_access(
        reg,
        action="appoint",
        agency_id=SCHOOL,
        office="partnership_ig_lead",
        by="ops-admin-01",
        signing_key=key,
        key_id="test-key",
        now=NOW,
    )


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": SCHOOL,
        "aud": AUD,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": f"jti-{time.monotonic_ns()}",
        "role": "dsl",
        "sub": "staff-0001",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(keys: AgencyKeys, claims: dict[str, Any], **header: Any) -> str:
    key = keys.current_jwt_key
    return jwt.encode(claims, key.private_key, algorithm=key.alg, headers={"kid": key.kid, **header})


def _raw_token(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    return ".".join([part(json.dumps(header).encode()), part(json.dumps(claims).encode()), part(signature)])


def _dsl(keys: AgencyKeys, **claims: Any) -> str:
    """A DSL's token: the role both test agencies were granted, naming the person."""
    return issue_token(keys, role="dsl", audience=AUD, subject="staff-0001", **claims)


def _verify(token: str, registry: Registry, **kwargs: Any) -> Caller:
    return verify_token(token, registry=registry, audience=AUD, **kwargs)


# --- accepted ------------------------------------------------------------------------------------


def test_eddsa_token_gives_the_caller(registry: Registry, school_keys: AgencyKeys) -> None:
    token = issue_token(school_keys, role="dsl", audience=AUD, subject="staff-0042", jti="j-1")
    caller = _verify(token, registry)
    assert (caller.agency_id, caller.agency_type, caller.role) == (SCHOOL, "education_school", "dsl")
    assert (caller.subject, caller.jti) == ("staff-0042", "j-1")
    assert caller.key_id == school_keys.current_jwt_key.kid
    assert caller.expires_at - caller.issued_at == timedelta(minutes=5)


def test_es256_token_is_accepted(registry: Registry, police_keys: AgencyKeys) -> None:
    caller = _verify(issue_token(police_keys, role="agency_system", audience=AUD), registry)
    assert (caller.agency_id, caller.subject, caller.actor) == (POLICE, None, f"agency_system@{POLICE}")


def test_a_role_the_agency_was_not_granted_is_refused_with_what_it_claimed(
    registry: Registry, police_keys: AgencyKeys
) -> None:
    token = issue_token(police_keys, role="ig_lead", audience=AUD, subject="staff-0009", jti="j-ig")
    with pytest.raises(RoleNotGranted) as refused:
        _verify(token, registry)
    assert refused.value.reason == "role_not_granted"
    assert (refused.value.agency_id, refused.value.role, refused.value.subject, refused.value.jti) == (
        POLICE,
        "ig_lead",
        "staff-0009",
        "j-ig",
    )


def test_the_office_comes_from_the_registry_not_the_token(registry: Registry, school_keys: AgencyKeys) -> None:
    caller = _verify(_sign(school_keys, _claims(role="ig_lead", office="partnership_caldicott_guardian")), registry)
    assert caller.office == "partnership_ig_lead"
    assert _verify(_sign(school_keys, _claims()), registry).office is None


def test_a_persons_token_must_name_the_person(registry: Registry, school_keys: AgencyKeys) -> None:
    with pytest.raises(MissingClaim, match="sub"):
        _verify(_sign(school_keys, _claims(sub=None)), registry)
    with pytest.raises(InvalidClaim, match="identifier"):
        _verify(_sign(school_keys, _claims(sub="Pat Example <pat@example.invalid>")), registry)


def test_expiry_within_leeway_is_accepted(registry: Registry, school_keys: AgencyKeys) -> None:
    now = int(time.time())
    _verify(_sign(school_keys, _claims(iat=now - 200, nbf=None, exp=now - 10)), registry)


# --- refused -------------------------------------------------------------------------------------


def test_alg_none_is_refused(registry: Registry, school_keys: AgencyKeys) -> None:
    token = _raw_token({"alg": "none", "kid": school_keys.current_jwt_key.kid}, _claims())
    with pytest.raises(DisallowedAlgorithm):
        _verify(token, registry)


def test_hs256_keyed_with_the_public_key_is_refused(registry: Registry, school_keys: AgencyKeys) -> None:
    public_pem = school_keys.current_jwt_key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "kid": school_keys.current_jwt_key.kid, "typ": "JWT"}
    unsigned = _raw_token(header, _claims()).rsplit(".", 1)[0]
    mac = hmac.new(public_pem, unsigned.encode(), hashlib.sha256).digest()
    with pytest.raises(DisallowedAlgorithm):
        _verify(_raw_token(header, _claims(), mac), registry)


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES384", "HS512", "ed25519", ""])
def test_other_algorithms_are_refused(registry: Registry, school_keys: AgencyKeys, alg: str) -> None:
    token = _raw_token({"alg": alg, "kid": school_keys.current_jwt_key.kid}, _claims(), b"x" * 64)
    with pytest.raises(DisallowedAlgorithm):
        _verify(token, registry)


def test_alg_that_does_not_match_the_key_type_is_refused(registry: Registry, school_keys: AgencyKeys) -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode(_claims(), other, algorithm="ES256", headers={"kid": school_keys.current_jwt_key.kid})
    with pytest.raises(AlgorithmMismatch):
        _verify(token, registry)


def test_unknown_and_missing_kid(registry: Registry, school_keys: AgencyKeys) -> None:
    with pytest.raises(UnknownKey, match="no key"):
        _verify(_sign(school_keys, _claims(), kid="0123456789abcdef"), registry)
    token = jwt.encode(_claims(), school_keys.current_jwt_key.private_key, algorithm="EdDSA")
    with pytest.raises(UnknownKey, match="no kid"):
        _verify(token, registry)


def test_unknown_issuer(registry: Registry, school_keys: AgencyKeys) -> None:
    with pytest.raises(UnknownIssuer):
        _verify(_sign(school_keys, _claims(iss="nowhere-agency")), registry)


def test_token_claiming_another_agency_is_refused(
    registry: Registry, school_keys: AgencyKeys, police_keys: AgencyKeys
) -> None:
    # The school's key under the police's name: the police have no such kid.
    with pytest.raises(UnknownKey):
        _verify(_sign(school_keys, _claims(iss=POLICE)), registry)
    # The police's kid, signed by someone else's P-256 key.
    forged = jwt.encode(
        _claims(iss=POLICE),
        ec.generate_private_key(ec.SECP256R1()),
        algorithm="ES256",
        headers={"kid": police_keys.current_jwt_key.kid},
    )
    with pytest.raises(BadTokenSignature):
        _verify(forged, registry)


def test_tampered_claims_break_the_signature(registry: Registry, school_keys: AgencyKeys) -> None:
    header, _, signature = _sign(school_keys, _claims(role="dsl")).split(".")
    body = base64.urlsafe_b64encode(json.dumps(_claims(role="ig_lead")).encode()).rstrip(b"=").decode()
    with pytest.raises(BadTokenSignature):
        _verify(f"{header}.{body}.{signature}", registry)


def test_expired(registry: Registry, school_keys: AgencyKeys) -> None:
    now = int(time.time())
    with pytest.raises(TokenExpired):
        _verify(_sign(school_keys, _claims(iat=now - 400, nbf=None, exp=now - 100)), registry)


@pytest.mark.parametrize("claim", ["nbf", "iat"])
def test_not_yet_valid(registry: Registry, school_keys: AgencyKeys, claim: str) -> None:
    now = int(time.time())
    claims = _claims(**{claim: now + 120}, exp=now + 400)
    with pytest.raises(TokenNotYetValid):
        _verify(_sign(school_keys, claims), registry)


@pytest.mark.parametrize("aud", ["another-broker", [AUD, "another-broker"], [AUD]])
def test_wrong_audience(registry: Registry, school_keys: AgencyKeys, aud: Any) -> None:
    with pytest.raises(WrongAudience):
        _verify(_sign(school_keys, _claims(aud=aud)), registry)


@pytest.mark.parametrize("claim", ["iss", "aud", "exp", "iat", "jti", "role"])
def test_missing_claim(registry: Registry, school_keys: AgencyKeys, claim: str) -> None:
    with pytest.raises(MissingClaim):
        _verify(_sign(school_keys, _claims(**{claim: None})), registry)


@pytest.mark.parametrize(
    "changes",
    [{"role": "Head Teacher"}, {"role": ["dsl"]}, {"jti": 17}, {"jti": "has space"}, {"sub": 5}],
    ids=["role-not-a-code", "role-list", "jti-int", "jti-space", "sub-int"],
)
def test_invalid_claims(registry: Registry, school_keys: AgencyKeys, changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidClaim):
        _verify(_sign(school_keys, _claims(**changes)), registry)


@pytest.mark.parametrize("role", ["headteacher", "partnership_ig_lead", "superuser"])
def test_a_role_no_registry_grants_is_refused_as_not_granted_with_what_it_claimed(
    registry: Registry, school_keys: AgencyKeys, role: str
) -> None:
    # Refused as an invalid claim, it was never logged: a signed claim to an office's name or a superuser is
    # what an IG lead looks for in the access log (readers of the demo, session 58).
    with pytest.raises(RoleNotGranted, match="none the broker knows") as refused:
        _verify(_sign(school_keys, _claims(role=role, sub="staff-0077", jti="j-unknown")), registry)
    assert (refused.value.agency_id, refused.value.role, refused.value.subject) == (SCHOOL, role, "staff-0077")


def test_lifetime_over_the_maximum(registry: Registry, school_keys: AgencyKeys) -> None:
    now = int(time.time())
    token = _sign(school_keys, _claims(iat=now, exp=now + 601))
    with pytest.raises(LifetimeTooLong, match="at most 600") as refused:
        _verify(token, registry)
    assert refused.value.reason == "lifetime_too_long"
    _verify(token, registry, max_lifetime=timedelta(minutes=11))


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "x" * 9000], ids=["empty", "word", "parts", "huge"])
def test_malformed(registry: Registry, token: str) -> None:
    with pytest.raises(MalformedToken):
        _verify(token, registry)


def test_critical_header_extension_is_refused(registry: Registry, school_keys: AgencyKeys) -> None:
    with pytest.raises(MalformedToken, match="critical"):
        _verify(_sign(school_keys, _claims(), crit=["b64"], b64=False), registry)


def test_rotated_out_key_works_only_during_grace(registry: Registry, school_keys: AgencyKeys, tmp_path: Path) -> None:
    fresh = generate_agency_keys(tmp_path, agency_id=SCHOOL, now=NOW)
    jwt_key, enc_key = public_parts(fresh, NOW)
    now = datetime.now(UTC)
    in_grace = rotate_agency_keys(registry, agency_id=SCHOOL, jwt_key=jwt_key, encryption_key=enc_key, now=now)
    _verify(_sign(school_keys, _claims()), in_grace)
    _verify(_sign(fresh, _claims()), in_grace)
    revoked = rotate_agency_keys(
        registry,
        agency_id=SCHOOL,
        jwt_key=jwt_key,
        encryption_key=enc_key,
        now=now - timedelta(seconds=1),
        grace=timedelta(0),
    )
    with pytest.raises(UnknownKey, match="rotated out"):
        _verify(_sign(school_keys, _claims()), revoked)


def test_every_refusal_is_an_auth_error_with_a_reason() -> None:
    import broker.errors as errors

    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, AuthError)]
    reasons = [c.reason for c in classes if c is not AuthError]
    assert len(reasons) == len(set(reasons)) == 15


# --- replay --------------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.stack)])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A database holding the replay table: a SQLite file, and the stack's PostgreSQL when it runs."""
    if request.param == "sqlite":
        url = str(request.getfixturevalue("sqlite_url"))
    elif os.environ.get("SGB_PG_URL") or os.environ.get("CI"):
        url = str(request.getfixturevalue("postgres_url"))
    else:
        pytest.skip("SGB_PG_URL is not set (start the stack with `make stack`)")
    engine = create_engine(url)
    BrokerTable.metadata.create_all(engine, tables=[BrokerTable.metadata.tables["seen_token"]])
    yield engine
    engine.dispose()


def test_a_token_is_accepted_once(engine: Engine, registry: Registry, school_keys: AgencyKeys) -> None:
    token = _dsl(school_keys)
    with Session(engine) as session:
        remember_jti(session, _verify(token, registry))
        session.commit()
    # A second worker with its own connection sees the committed row.
    other_worker = create_engine(engine.url.render_as_string(hide_password=False))
    try:
        with Session(other_worker) as session, pytest.raises(ReplayError):
            remember_jti(session, _verify(token, registry))
    finally:
        other_worker.dispose()


def test_replay_leaves_the_session_usable(engine: Engine, registry: Registry, school_keys: AgencyKeys) -> None:
    first = _verify(_dsl(school_keys, jti="same"), registry)
    with Session(engine) as session:
        remember_jti(session, first)
        with pytest.raises(ReplayError):
            remember_jti(session, first)
        remember_jti(session, _verify(_dsl(school_keys), registry))
        session.commit()
        assert len(session.exec(select(SeenToken)).all()) == 2


def test_jti_is_scoped_to_the_issuer(
    engine: Engine, registry: Registry, school_keys: AgencyKeys, police_keys: AgencyKeys
) -> None:
    with Session(engine) as session:
        remember_jti(session, _verify(_dsl(school_keys, jti="x"), registry))
        remember_jti(session, _verify(_dsl(police_keys, jti="x"), registry))
        session.commit()
        keys = sorted(row.jti for row in session.exec(select(SeenToken)))
    assert keys == [f"{SCHOOL}:x", f"{POLICE}:x"]


def test_purge_removes_only_expired_rows(engine: Engine, registry: Registry, school_keys: AgencyKeys) -> None:
    caller = _verify(_dsl(school_keys), registry)
    with Session(engine) as session:
        remember_jti(session, caller)
        session.commit()
        assert purge_seen_tokens(session, now=caller.expires_at) == 0
        session.commit()
        assert purge_seen_tokens(session, now=caller.expires_at + timedelta(minutes=1)) == 1
        session.commit()
        assert session.exec(select(SeenToken)).all() == []


async def test_a_burn_batch_with_a_replay_in_it_refuses_the_replay_alone(
    engine: Engine, registry: Registry, school_keys: AgencyKeys
) -> None:
    # The batch's one insert fails on the replay and must leave nothing behind, or the tokens
    # before the replay would be refused too when each is then tried alone.
    gateway_engine = audit.create_engine_for(engine.url.render_as_string(hide_password=False))
    burner = TokenBurner(gateway_engine)
    used = _verify(_dsl(school_keys, jti="used-once"), registry)
    await burner.burn(used)
    fresh = [_verify(_dsl(school_keys), registry) for _ in range(3)]

    outcomes = await asyncio.gather(
        *(burner.burn(c) for c in [fresh[0], used, fresh[1], fresh[2]]), return_exceptions=True
    )

    assert [type(outcome).__name__ for outcome in outcomes] == ["NoneType", "ReplayError", "NoneType", "NoneType"]
    again = await asyncio.gather(*(burner.burn(c) for c in fresh), return_exceptions=True)
    assert all(isinstance(outcome, ReplayError) for outcome in again)
    gateway_engine.dispose()


async def test_a_claimed_token_is_refused_here_at_once_and_elsewhere_once_committed(
    engine: Engine, registry: Registry, school_keys: AgencyKeys
) -> None:
    gateway_engine = audit.create_engine_for(engine.url.render_as_string(hide_password=False))
    here, elsewhere = TokenBurner(gateway_engine), TokenBurner(gateway_engine)
    caller = _verify(_dsl(school_keys), registry)
    here.claim(caller)
    with pytest.raises(ReplayError):
        here.claim(caller)
    with pytest.raises(ReplayError):
        await here.burn(caller)  # another route in the same worker
    await elsewhere.burn(_verify(_dsl(school_keys), registry))  # committing needs no claim of this token

    await here.burn_claimed(caller)

    with pytest.raises(ReplayError):
        await elsewhere.burn(caller)
    with pytest.raises(ReplayError):
        await elsewhere.burn_claimed(caller)
    gateway_engine.dispose()


def test_claims_of_expired_tokens_are_forgotten(
    engine: Engine, registry: Registry, school_keys: AgencyKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(replay, "_CLAIMS_BEFORE_PURGE", 2)
    burner = TokenBurner(engine)
    past = datetime.now(UTC) - timedelta(hours=1)
    expired = [dataclasses.replace(_verify(_dsl(school_keys), registry), expires_at=past) for _ in range(2)]
    live = _verify(_dsl(school_keys), registry)
    for caller in expired:
        burner.claim(caller)

    burner.claim(live)  # over the limit: the expired claims go, the live one stays

    burner.claim(expired[0])
    with pytest.raises(ReplayError):
        burner.claim(live)
