"""The webhook sink: the agency's case system, over HTTP.

The case system takes a POST of each delivery, with the delivery id as the idempotency key, and a
DELETE `<url>/<delivery_id>` carrying the tombstone of a recall. The agreement it keeps:

- 2xx: taken; 409: it already holds this delivery, so a redelivery after a crash is not a duplicate;
- after a DELETE it keeps the tombstone, and answers a later POST of that delivery with the tombstone as
  the body, under 410 Gone (or 409, as some systems answer any repeat of a key). Either way the sink
  raises `DeliveryWithdrawn`, and the consumer does not receipt the delivery as delivered;
- a DELETE answered 404 finds nothing to remove; 410 is a delivery recalled before, and counts only
  with that delivery's tombstone as the body (a retired endpoint's bare 410 would have every recall
  confirmed while the case system still held the payload);
- redirects are never followed.

What a failed POST does to the partition behind it (the consumer delivers each partition in order):

- 5xx, 429, a dropped connection or a timeout: tried again here a few times, then `SinkError`; the
  consumer rewinds and tries the record again a second later, until the case system takes it;
- 400, 413, 415, 422: `SinkRejected`, a refusal of this record's content (malformed for this system,
  too large, a media type or a field it does not take) that no retry can change. The consumer parks it
  on its dead-letter topic (`sink_refused`, the status only), sends no `delivered` receipt, commits and
  goes on with the records behind it;
- every other answer, 3xx, 401, 403, 404, 405, a bare 410 and any 4xx not listed above: `SinkError`,
  retried like an outage. These say the URL or credential is wrong (a moved or retired endpoint, an
  expired token, a login redirect), which refuses every record alike: parked, they would empty the
  inbox onto the dead-letter topic within seconds; held, nothing is lost while the operator fixes the
  configuration. A bare 410 is one of these: on a POST it says the endpoint is gone (a record the
  case system removed comes back with its tombstone, above).
"""

from __future__ import annotations

from typing import Any, Final

import aiohttp
import stamina

from consumers.errors import DeliveryWithdrawn, SinkError, SinkRejected
from consumers.sinks import Delivery, known_kind, tombstone
from schemas.notice import Notice

# The case system's refusals of one record's content (see the module's docstring for the others).
REFUSED_FOR_GOOD: Final = frozenset({400, 413, 415, 422})


class _Transient(Exception):
    """A failure another attempt may mend: the case system busy or down, a dropped connection, a timeout."""


class WebhookSink:
    """POSTs to the agency's case system, retrying; the delivery id is the idempotency key."""

    def __init__(self, url: str, *, attempts: int = 5, timeout: float = 10.0, token: str | None = None) -> None:
        self._url = url
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        # Bounded by attempts, not by time: 0.2 s doubling to 5 s, so five attempts take about 3 s. A
        # caller, not the `@stamina.retry` decorator: the decorator's retry log line carries the repr of
        # the call's arguments, here the decrypted delivery and the bearer token; a caller's carries none.
        self._retrying = stamina.AsyncRetryingCaller(
            attempts=attempts, timeout=None, wait_initial=0.2, wait_max=5.0, wait_jitter=0.1
        ).on(_Transient)

    async def deliver(self, delivery: Delivery) -> bool:
        headers = {**self._headers, "Idempotency-Key": delivery.delivery_id}
        async with aiohttp.ClientSession(timeout=self._timeout) as session:
            try:
                return await self._retrying(self._post, session, delivery, headers)
            except _Transient as exc:
                raise SinkError(f"webhook did not accept delivery: {exc}") from exc

    async def withdraw(self, notice: Notice) -> bool:
        """DELETE `<url>/<delivery_id>` with the tombstone as the body; 404 means it was not there."""
        url = f"{self._url.rstrip('/')}/{notice.delivery_id}"
        headers = {**self._headers, "Idempotency-Key": notice.notice_id}
        async with aiohttp.ClientSession(timeout=self._timeout) as session:
            try:
                return await self._retrying(self._delete, session, url, notice, headers)
            except _Transient as exc:
                raise SinkError(f"webhook did not accept withdrawal: {exc}") from exc

    async def _post(self, session: aiohttp.ClientSession, delivery: Delivery, headers: dict[str, str]) -> bool:
        try:
            async with session.post(
                self._url, json=delivery.as_json(), headers=headers, allow_redirects=False
            ) as response:
                if response.status < 300:
                    return True
                if response.status in (409, 410):
                    # Either answer may carry the tombstone of this very delivery: a recall.
                    await _refuse_if_recalled(response, delivery.delivery_id)
                if response.status == 409:
                    return False  # the receiving system already has it
                if response.status in REFUSED_FOR_GOOD:
                    raise SinkRejected(delivery.delivery_id, _failure(response.status))
                if response.status < 500 and response.status != 429:
                    raise SinkError(f"webhook did not accept delivery: {_failure(response.status)}")
                raise _Transient(_failure(response.status))
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _Transient(type(exc).__name__) from exc

    async def _delete(self, session: aiohttp.ClientSession, url: str, notice: Notice, headers: dict[str, str]) -> bool:
        # Every other answer is tried again: a recall the case system has not confirmed is not done.
        try:
            async with session.delete(url, json=tombstone(notice), headers=headers, allow_redirects=False) as response:
                if response.status < 300 or response.status == 404:
                    return response.status < 300
                if response.status == 410 and await _tombstone_of(response, notice.delivery_id) is not None:
                    return False  # recalled before: the case system keeps its tombstone
                raise _Transient(_failure(response.status))
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _Transient(type(exc).__name__) from exc


async def _refuse_if_recalled(response: aiohttp.ClientResponse, delivery_id: str) -> None:
    """Raise `DeliveryWithdrawn` if a 409 or 410 carries the case system's tombstone of this delivery.

    A bare 410 (a retired endpoint, a proxy's page) stays a failure: read as a recall, it would have
    every delivery committed and skipped. A bare 409 stays a repeat of a delivery the system holds.
    """
    body = await _tombstone_of(response, delivery_id)
    if body is not None:
        raise DeliveryWithdrawn(delivery_id, known_kind(body.get("kind")))


async def _tombstone_of(response: aiohttp.ClientResponse, delivery_id: str) -> dict[str, Any] | None:
    """The answer's body if it is the case system's tombstone of this very delivery, else None."""
    try:
        body = await response.json(content_type=None)
    except (ValueError, aiohttp.ClientError):
        return None
    return body if isinstance(body, dict) and body.get("delivery_id") == delivery_id else None


def _failure(status: int) -> str:
    # Redirects are never followed: a 302 to a login page is not the case system taking the delivery,
    # and a 307/308 would re-send the decrypted payload to wherever `Location` points, http or not.
    return f"HTTP {status} redirect, not followed" if 300 <= status < 400 else f"HTTP {status}"
