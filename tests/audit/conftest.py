"""Fixtures for the decision-log tests: a migrated database on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

# pytest's prepend import mode puts tests/ on sys.path, where the tests/audit directory would shadow
# the real `audit` package as a namespace package. Put the repository root first. (Remove once
# pyproject's pytest options set `pythonpath = ["."]`.)
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import pytest  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from sqlalchemy import Engine  # noqa: E402

from audit import EntryDraft, Signer, create_engine_for, pseudonymise, upgrade  # noqa: E402

# Fixed test-only material: never a real key, never a real child.
SIGNING_SEED = bytes(range(32))
OTHER_SEED = bytes(range(1, 33))
PSEUDONYM_SECRET = b"test-only-pseudonym-secret-0123456789"
ORIGIN = "test.broker.invalid/decision-log"
EPOCH = datetime(2025, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)

DraftFactory = Callable[..., EntryDraft]


def _pg_available() -> bool:
    return bool(os.environ.get("SGB_PG_URL")) or bool(os.environ.get("CI"))


# PostgreSQL is the stack's: `-m "not stack"` deselects those cases rather than skipping them.
@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.stack)])
def db_url(request: pytest.FixtureRequest) -> str:
    """A fresh, empty database URL on each backend (PostgreSQL skipped only outside CI without SGB_PG_URL)."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    if not _pg_available():
        pytest.skip("SGB_PG_URL is not set (start the stack with `make stack`)")
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated engine for ``db_url``."""
    engine = create_engine_for(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    """A migrated SQLite engine, for tests of backend-independent behaviour."""
    engine = create_engine_for(sqlite_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def signer() -> Signer:
    return Signer(ORIGIN, Ed25519PrivateKey.from_private_bytes(SIGNING_SEED))


@pytest.fixture
def other_signer() -> Signer:
    return Signer(ORIGIN, Ed25519PrivateKey.from_private_bytes(OTHER_SEED))


@pytest.fixture
def clock() -> Callable[[], datetime]:
    """A deterministic clock that ticks one second per reading."""
    ticks = count()
    return lambda: EPOCH + timedelta(seconds=next(ticks))


@pytest.fixture
def make_draft() -> DraftFactory:
    """Build a plausible draft; override any field by keyword."""

    def factory(**overrides: Any) -> EntryDraft:
        values: dict[str, Any] = {
            "notification_id": "ntf-0001",
            "delivery_id": "ntf-0001.csc-fictional",
            "kind": "decided",
            "outcome": "share_minimised",
            "sender_agency": "school-fictional-academy",
            "sender_role": "dsl",
            "recipient_agency": "csc-fictional",
            "message_type": "SAFEGUARDING_REFERRAL",
            "reasons": [{"rule": "GR6", "message": "Only necessary, proportionate fields are shared."}],
            "lawful_basis": "children_act_1989_s47",
            "consent_state": "not_sought_risk_of_harm",
            "fields_released": ["concern.category", "concern.summary"],
            "projection_digest": "ab" * 32,
            "policy_revision": "bundle-rev-42",
            "decision_id": "opa-dec-0001",
            "subjects": [pseudonymise(PSEUDONYM_SECRET, "subject-ref-fictional-1")],
        }
        values.update(overrides)
        return EntryDraft(**values)

    return factory


def autocheckpoint_pages(engine: Engine) -> int:
    """SQLite's WAL auto-checkpoint threshold on one of `engine`'s connections (0: never in a commit)."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        pages: int = cursor.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        cursor.close()
        return pages
    finally:
        connection.close()
