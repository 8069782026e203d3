"""A steady load of notifications with the client behaviour the README asks of agency systems.

Each notification carries an `Idempotency-Key`. A transport failure (the gateway died mid-request)
is always retried with the same key and a fresh token, because the first attempt may have been
recorded. A clear refusal (503 with Retry-After) is retried too, except for "one-shot" senders
(every third notification), which give up at once: those prove a failed request leaves nothing.
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

CLEAR_503 = frozenset({"policy_unavailable", "log_unavailable", "log_busy"})


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

    @property
    def notification_id(self) -> str:
        return str(self.notification["notification_id"])

    @property
    def sender(self) -> str:
        return str(self.notification["sender"]["agency_id"])


class Load:
    """Posts `rate` new notifications a second from a thread until `stop()`; retries as above."""

    def __init__(self, site: Site, *, rate: float = 3.0) -> None:
        self.site = site
        self.rate = rate
        self.sent: list[Sent] = []
        self._source: Iterator[dict[str, Any]] = site.notifications()
        self._halt = threading.Event()
        self._new = threading.Event()
        self._new.set()
        self._thread = threading.Thread(target=self._run, name="fault-load", daemon=True)
        self._client = httpx.Client(timeout=15)

    def start(self) -> None:
        self._thread.start()

    def stop_new(self) -> None:
        """Send no new notifications; keep retrying the pending ones."""
        self._new.clear()

    def drain(self, timeout: float) -> None:
        self.stop_new()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(s.state == "pending" for s in self.sent):
            time.sleep(0.2)
        self._halt.set()
        self._thread.join(timeout=30)
        self._client.close()

    def _run(self) -> None:
        interval = 1.0 / self.rate
        while not self._halt.is_set():
            started = time.monotonic()
            for sent in [s for s in self.sent if s.state == "pending" and s.next_try <= started][:3]:
                self._post(sent)
            if self._new.is_set():
                sent = Sent(next(self._source), str(uuid.uuid4()), one_shot=len(self.sent) % 3 == 2)
                self.sent.append(sent)
                self._post(sent)
            self._halt.wait(max(0.0, interval - (time.monotonic() - started)))

    def _post(self, sent: Sent) -> None:
        try:
            headers = {"Authorization": f"Bearer {self.site.token(sent.sender)}", "Idempotency-Key": sent.key}
            response = self._client.post(f"{self.site.url}/v1/notifications", json=sent.notification, headers=headers)
        except httpx.TransportError as exc:
            sent.attempts.append(Attempt(None, error=type(exc).__name__))
            sent.next_try = time.monotonic() + 0.5
            return
        try:
            body = response.json()
        except ValueError:
            body = response.text
        sent.attempts.append(Attempt(response.status_code, body=body, retry_after=response.headers.get("Retry-After")))
        if response.status_code in (200, 202):
            sent.receipt, sent.state = body, "accepted"
        elif response.status_code == 503 and not sent.one_shot:
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
