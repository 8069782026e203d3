"""Replay refusal: a token id is used once, across every gateway worker and host.

The primary key of `seen_token` makes a second use fail in any worker; `TokenBurner` commits the
token ids of requests admitted together in one transaction (group commit).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import Column, DateTime, Engine, Table, delete, insert
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Field, Session

from broker.admission.tokens import DEFAULT_LEEWAY, Caller
from broker.db.tables import BrokerTable
from broker.errors import ReplayError


class SeenToken(BrokerTable, table=True):
    """A token id already used; the primary key makes a second use fail in any worker."""

    __tablename__ = "seen_token"

    jti: str = Field(primary_key=True, max_length=200)  # "<iss>:<jti>"
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))


_SEEN_TOKEN: Table = SeenToken.__table__  # type: ignore[attr-defined]


def replay_key(caller: Caller) -> str:
    """Return the database key of a token: jti is unique per issuer, not across agencies."""
    return f"{caller.agency_id}:{caller.jti}"


def remember_jti(session: Session, caller: Caller, *, leeway: timedelta = DEFAULT_LEEWAY) -> None:
    """Record a verified token's jti, or raise `ReplayError` if any worker recorded it before.

    Runs in a savepoint, so a replay leaves the caller's transaction usable. The caller commits;
    commit promptly (ideally in its own short transaction at admission) so other workers see it.
    The row outlives the token by the leeway, after which the token is refused as expired anyway.
    """
    row = SeenToken(jti=replay_key(caller), expires_at=caller.expires_at + leeway)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:
        raise ReplayError(f"jti {caller.jti!r} was already used") from exc


def purge_seen_tokens(session: Session, *, now: datetime) -> int:
    """Delete replay records of tokens that can no longer verify; return how many. Caller commits."""
    statement = delete(SeenToken).where(SeenToken.expires_at < now)  # type: ignore[arg-type]
    return int(session.exec(statement).rowcount)


class TokenBurner:
    """Group commit for token ids: requests admitted together burn their jtis in one transaction.

    Each jti is still committed before its request goes on (``burn`` returns after the commit), and
    each is inserted under its own SAVEPOINT (`remember_jti`), so a replayed jti fails only its own
    request. What changes is that concurrent admissions share one BEGIN IMMEDIATE/COMMIT and one
    worker-thread hop instead of taking SQLite's write lock once each.
    """

    def __init__(self, engine: Engine, *, max_batch: int = 500) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._waiting: list[tuple[Caller, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None

    async def burn(self, caller: Caller) -> None:
        """Record `caller`'s jti (committed on return), or raise ReplayError if it was used before."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((caller, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="jti-burner")
        await future

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[: self._max_batch], self._waiting[self._max_batch :]
            try:
                outcomes = await asyncio.to_thread(self._commit, [caller for caller, _ in batch])
            except Exception as exc:  # the commit itself failed: every request in the batch fails
                outcomes = [exc] * len(batch)
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():
                    continue
                if outcome is None:
                    future.set_result(None)
                else:
                    future.set_exception(outcome)

    def _commit(self, callers: list[Caller]) -> list[Exception | None]:
        # Fast path: one multi-row insert. Any conflict (a replay, or the same jti twice in this
        # batch) rolls it back and the batch is redone one SAVEPOINT per token, so only it fails.
        # A Core insert: the ORM's unit of work cost more than the insert itself.
        rows = [{"jti": replay_key(c), "expires_at": c.expires_at + DEFAULT_LEEWAY} for c in callers]
        try:
            with self._engine.begin() as connection:
                connection.execute(insert(_SEEN_TOKEN), rows)
            return [None] * len(callers)
        except SQLAlchemyError:
            pass
        outcomes: list[Exception | None] = []
        with Session(self._engine) as session:
            for caller in callers:
                try:
                    remember_jti(session, caller)
                    outcomes.append(None)
                except Exception as exc:  # ReplayError (its savepoint rolled back) or a database error
                    outcomes.append(exc)
            session.commit()
        return outcomes
