"""Listener: PostgreSQL tells the relay when an outbox row is waiting, so it need not keep asking.

Migration b0005 makes every newly waiting outbox row `NOTIFY sgb_outbox` when its transaction
commits. The listener holds one connection that `LISTEN`s on that channel and sets the relay's
wake-up event for each notification, so a delivery leaves as soon as its decision commits, from
whichever gateway process committed it. While it listens, the relay polls only as a fallback
(`relay_idle_poll_seconds`); without it (SQLite, or the connection lost) the relay polls at
`relay_poll_seconds` as before, so a lost notification only delays a delivery, never loses it.
"""

from __future__ import annotations

import asyncio
import logging

import psycopg
from sqlalchemy import URL

from transport.supervisor import supervise

log = logging.getLogger("broker.delivery.listener")

CHANNEL = "sgb_outbox"
_WAIT_SECONDS = 1.0
# How its connection shows in pg_stat_activity.
APPLICATION_NAME = "sgb-outbox-listener"


def conninfo(url: URL) -> str:
    """The SQLAlchemy URL of the gateway's database, as libpq reads it."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class OutboxListener:
    def __init__(
        self, *, url: URL, wake: asyncio.Event, retry_seconds: float = 5.0, check_seconds: float = 10.0
    ) -> None:
        self._conninfo = conninfo(url)
        self._wake = wake
        self._retry = retry_seconds
        # A connection that died without closing is noticed by asking it something this often.
        self._checks_every = max(1, round(check_seconds / _WAIT_SECONDS))
        self.listening = False

    async def run(self, stop: asyncio.Event) -> None:
        """Listen until `stop`, connecting again after any failure (the relay polls meanwhile)."""
        lost = (psycopg.Error, OSError)
        await supervise(
            lambda: self._listen(stop),
            stop=stop,
            name="outbox listener (the relay polls meanwhile)",
            log=log,
            retry_on=lost,
            wait_initial=self._retry,
            wait_max=self._retry,
            away=lost,
            waiting_for="PostgreSQL",
        )

    async def _listen(self, stop: asyncio.Event) -> None:
        connect = psycopg.AsyncConnection.connect(self._conninfo, autocommit=True, application_name=APPLICATION_NAME)
        try:
            async with await connect as connection:
                await connection.execute(f"LISTEN {CHANNEL}")
                self.listening = True
                # Rows may have committed while nobody listened: the relay looks once now.
                self._wake.set()
                waits = 0
                while not stop.is_set():
                    # Short waits, so a stop is seen within one of them.
                    async for _ in connection.notifies(timeout=_WAIT_SECONDS):
                        self._wake.set()
                    waits += 1
                    if waits % self._checks_every == 0:
                        await connection.execute("SELECT 1")
        finally:
            self.listening = False
