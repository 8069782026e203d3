"""A steady load of notifications with the client behaviour the README asks of agency systems.

Each notification carries an `Idempotency-Key`. A transport failure (the gateway died mid-request)
is always retried with the same key and a fresh token, because the first attempt may have been
recorded. A clear refusal (503 with Retry-After) is retried too, except for "one-shot" senders
(every third notification), which give up at once: those prove a failed request leaves nothing.

With several gateways (`site.urls`), `threads` senders post at once; each notification goes first to
its sender's gateway and every retry to the next one, as a load balancer fails over. A "twin" (every
`twins_every`-th) is posted to two gateways at the same moment under one key: one decision must come
of it, and both answers must name the same deliveries.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from faults.harness import Site

CLEAR_503 = frozenset({"policy_unavailable", "log_unavailable", "log_busy", "busy"})


@dataclass
class Attempt:
    status: int | None
    error: str | None = None
    body: Any = None
    retry_after: str | None = None


@dataclass
class Sent:
    notification: dict[str, Any]
    key: str
    one_shot: bool
    attempts: list[Attempt] = field(default_factory=list)
    receipt: dict[str, Any] | None = None
    state: str = "pending"  # accepted | failed | pending
    next_try: float = 0.0
    owner: int = 0  # the sender thread that posts (and retries) it
    twin: list[Attempt] = field(default_factory=list)  # the same request, sent to another gateway at once

    @property
    def notification_id(self) -> str:
        return str(self.notification["notification_id"])

    @property
    def sender(self) -> str:
        return str(self.notification["sender"]["agency_id"])


class Load:
    """Posts `rate` new notifications a second from `threads` threads until `stop()`; retries as above."""

    def __init__(self, site: Site, *, rate: float = 3.0, threads: int = 1, twins_every: int = 0) -> None:
        self.site = site
        self.rate = rate
        self.twins_every = twins_every
        self.sent: list[Sent] = []
        self._source: Iterator[dict[str, Any]] = site.notifications()
        self._lock = threading.Lock()  # guards `_source` and `sent`'s numbering
        self._halt = threading.Event()
        self._new = threading.Event()
        self._new.set()
        self._threads = [
            threading.Thread(target=self._run, args=(i, threads), name=f"fault-load-{i}", daemon=True)
            for i in range(threads)
        ]
        self._twins: list[threading.Thread] = []

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop_new(self) -> None:
        """Send no new notifications; keep retrying the pending ones."""
        self._new.clear()

    def drain(self, timeout: float) -> None:
        self.stop_new()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(s.state == "pending" for s in self.sent):
            time.sleep(0.2)
        self._halt.set()
        for thread in [*self._threads, *self._twins]:
            thread.join(timeout=30)

    def _run(self, index: int, threads: int) -> None:
        interval = threads / self.rate
        with httpx.Client(timeout=15) as client:
            while not self._halt.is_set():
                started = time.monotonic()
                mine = [s for s in self.sent if s.owner == index and s.state == "pending" and s.next_try <= started]
                for sent in mine[:3]:
                    self._post(client, sent)
                if self._new.is_set():
                    self._post(client, self._next(index))
                self._halt.wait(max(0.0, interval - (time.monotonic() - started)))

    def _next(self, owner: int) -> Sent:
        with self._lock:
            number = len(self.sent)
            twin = len(self.site.urls) > 1 and self.twins_every > 0 and number % self.twins_every == 1
            # A twin is never one-shot: its other half may be accepted while this one gives up.
            sent = Sent(next(self._source), str(uuid.uuid4()), one_shot=number % 3 == 2 and not twin, owner=owner)
            self.sent.append(sent)
        if twin:
            other = threading.Thread(target=self._send_twin, args=(sent,), daemon=True)
            self._twins.append(other)
            other.start()
        return sent

    def _send_twin(self, sent: Sent) -> None:
        url = self.site.urls[(sent.owner + 1) % len(self.site.urls)]
        with httpx.Client(timeout=15) as client:
            sent.twin.append(self._attempt(client, url, sent))

    def _attempt(self, client: httpx.Client, url: str, sent: Sent) -> Attempt:
        try:
            headers = {"Authorization": f"Bearer {self.site.token(sent.sender)}", "Idempotency-Key": sent.key}
            response = client.post(f"{url}/v1/notifications", json=sent.notification, headers=headers)
        except httpx.TransportError as exc:
            return Attempt(None, error=type(exc).__name__)
        try:
            body = response.json()
        except ValueError:
            body = response.text
        return Attempt(response.status_code, body=body, retry_after=response.headers.get("Retry-After"))

    def _post(self, client: httpx.Client, sent: Sent) -> None:
        urls = self.site.urls
        attempt = self._attempt(client, urls[(sent.owner + len(sent.attempts)) % len(urls)], sent)
        sent.attempts.append(attempt)
        if attempt.status in (200, 202):
            sent.receipt, sent.state = attempt.body, "accepted"
        elif attempt.status is None or (attempt.status == 503 and not sent.one_shot):
            sent.next_try = time.monotonic() + 0.5
        else:
            sent.state = "failed"

    def counts(self) -> dict[str, int]:
        attempts = [a for s in self.sent for a in s.attempts]
        return {
            "notifications": len(self.sent),
            "accepted": sum(s.state == "accepted" for s in self.sent),
            "failed_clearly": sum(s.state == "failed" for s in self.sent),
            "pending": sum(s.state == "pending" for s in self.sent),
            "attempts": len(attempts),
            "http_503": sum(a.status == 503 for a in attempts),
            "transport_errors": sum(a.status is None for a in attempts),
            "idempotent_replays": sum(a.status == 200 for a in attempts),
            "twins": sum(bool(s.twin) for s in self.sent),
        }


def unclear(attempt: Attempt) -> str | None:
    """Why an HTTP failure was not a clear error, or None if it was."""
    if attempt.status is None or attempt.status in (200, 202):
        return None
    body = attempt.body if isinstance(attempt.body, dict) else {}
    if not body.get("error") or not body.get("detail"):
        return f"HTTP {attempt.status} without an error code and detail: {str(attempt.body)[:200]}"
    if attempt.status == 503:
        if body["error"] not in CLEAR_503 or not attempt.retry_after or not body.get("urgent"):
            return f"503 without Retry-After/urgent route or with an unknown code: {body}"
        return None
    return f"unexpected HTTP {attempt.status}: {body}"
