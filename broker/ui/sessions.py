"""Web sessions: an agency-issued token is exchanged once for a short server-side session.

The browser holds only a random session id in a Secure, HttpOnly, SameSite=Strict cookie. The
database holds its SHA-256, so a copy of the table cannot be replayed as a cookie. Each session has
its own anti-forgery token for forms. Sessions end when idle, at a hard limit, or on sign-out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from fastapi import Request, Response
from sqlalchemy import Engine, delete
from sqlmodel import Field, Session, col

from broker.admission.replay import SeenToken, remember_jti, replay_key
from broker.admission.tokens import Caller
from broker.db.tables import BrokerTable
from broker.errors import CsrfRejected, SignInRequired
from broker.partnership import grants
from broker.partnership.registry import Registry
from broker.review.access import Viewer
from broker.settings import BrokerSettings

SECURE_COOKIE = "__Host-sgb_session"  # __Host-: Secure, Path=/, no Domain; no subdomain can set it
PLAIN_COOKIE = "sgb_session"
SIGNIN_CSRF_COOKIE = "sgb_signin_csrf"


class UiSession(BrokerTable, table=True):
    """One signed-in person; found by the digest of the cookie value, never by the value itself."""

    __tablename__ = "ui_session"

    id_digest: str = Field(primary_key=True)
    agency_id: str
    agency_type: str
    role: str
    user: str
    jti: str
    key_id: str
    csrf_token: str
    created_at: datetime
    expires_at: datetime = Field(index=True)
    hard_expiry: datetime

    def viewer(self, registry: Registry) -> Viewer:
        """Who is signed in, with the office the registry in use gives them now.

        `SignInRequired` once the registry no longer admits what opened the session: the agency is
        gone, the role was revoked (even if granted back since), or the token key was rotated out
        (an agency rotating with no grace says the old key may be in other hands; a session it
        opened must not outlive it by hours).
        """
        agency = registry.agency(self.agency_id)
        key = agency.jwt_key(self.key_id) if agency is not None else None
        if key is None or not key.usable_at(_now()):
            raise SignInRequired("the key that signed you in was rotated out; sign in again")
        if self.role not in registry.granted_roles(self.agency_id):
            raise SignInRequired("your role is no longer granted to your agency")
        opened = self.created_at if self.created_at.tzinfo else self.created_at.replace(tzinfo=UTC)
        taken = grants.taken_since(registry, self.agency_id, self.role, opened)
        if taken is not None:
            said = f"your access changed since you signed in (change #{taken.number}: {taken.action}); sign in again"
            raise SignInRequired(said)
        return Viewer(
            self.agency_id, self.agency_type, self.role, self.user, registry.office_of(self.agency_id, self.role)
        )

    def caller(self) -> Caller:
        """The caller the sharing flow sees for a form submission (the token that opened the session)."""
        return Caller(
            agency_id=self.agency_id,
            agency_type=self.agency_type,
            role=self.role,
            subject=self.user,
            jti=self.jti,
            key_id=self.key_id,
            issued_at=self.created_at,
            expires_at=self.expires_at,
        )


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def cookie_name(settings: BrokerSettings) -> str:
    return SECURE_COOKIE if settings.ui_cookie_secure else PLAIN_COOKIE


def open_session(engine: Engine, settings: BrokerSettings, caller: Caller, response: Response) -> UiSession:
    """Store a new session for a verified caller (whose jti is already burned) and set its cookie."""
    value, now = secrets.token_urlsafe(32), _now()
    hard = now + timedelta(hours=settings.ui_session_max_hours)
    row = UiSession(
        id_digest=_digest(value),
        agency_id=caller.agency_id,
        agency_type=caller.agency_type,
        role=caller.role,
        user=caller.actor,
        jti=caller.jti,
        key_id=caller.key_id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=min(hard, now + timedelta(minutes=settings.ui_session_idle_minutes)),
        hard_expiry=hard,
    )
    with Session(engine, expire_on_commit=False) as session:
        session.execute(delete(UiSession).where(col(UiSession.hard_expiry) < now))  # housekeeping
        session.add(row)
        session.commit()
    response.set_cookie(
        cookie_name(settings),
        value,
        httponly=True,
        secure=settings.ui_cookie_secure,
        samesite="strict",
        path="/",
        # No Max-Age: the cookie ends with the browser, so closing a shared browser without signing
        # out does not hand the next person this session; the server enforces idle and hard limits.
    )
    return row


def current(engine: Engine, settings: BrokerSettings, request: Request) -> UiSession:
    """The live session of this request, its idle time renewed; SignInRequired when there is none."""
    value = request.cookies.get(cookie_name(settings))
    if not value:
        raise SignInRequired("sign in first")
    now = _now()
    with Session(engine, expire_on_commit=False) as session:
        row = session.get(UiSession, _digest(value))
        if row is None or row.expires_at <= now:
            raise SignInRequired("the session has ended")
        row.expires_at = min(row.hard_expiry, now + timedelta(minutes=settings.ui_session_idle_minutes))
        session.add(row)
        session.commit()
        return row


def close_session(engine: Engine, settings: BrokerSettings, request: Request, response: Response) -> None:
    end_current(engine, settings, request)
    forget(settings, response)


def end_current(engine: Engine, settings: BrokerSettings, request: Request) -> None:
    """End the session this browser holds, if any, on the server."""
    value = request.cookies.get(cookie_name(settings))
    if value:
        with Session(engine) as session:
            session.execute(delete(UiSession).where(col(UiSession.id_digest) == _digest(value)))
            session.commit()


def forget(settings: BrokerSettings, response: Response) -> None:
    """Clear the session cookie in the browser."""
    response.delete_cookie(
        cookie_name(settings), path="/", secure=settings.ui_cookie_secure, httponly=True, samesite="strict"
    )


def check_csrf(row: UiSession, submitted: object) -> None:
    """Refuse a form post that does not carry this session's token (constant-time compare)."""
    if not isinstance(submitted, str) or not hmac.compare_digest(submitted, row.csrf_token):
        raise CsrfRejected("the form has expired or did not come from this site; reload and try again")


def check_signin_csrf(request: Request, submitted: object) -> None:
    # Before a session exists: double-submit cookie, so another site cannot sign a browser in.
    cookie = request.cookies.get(SIGNIN_CSRF_COOKIE)
    if not cookie or not isinstance(submitted, str) or not hmac.compare_digest(cookie, submitted):
        raise CsrfRejected("the sign-in form has expired; reload the page and try again")


def token_used(engine: Engine, caller: Caller) -> bool:
    """Whether a sign-in token has opened a session (or authorised a call) already."""
    with Session(engine) as db:
        return db.get(SeenToken, replay_key(caller)) is not None


def burn(engine: Engine, caller: Caller) -> None:
    # A token opens at most one session, exactly as it authorises at most one API call.
    with Session(engine) as db:
        remember_jti(db, caller)
        db.commit()
