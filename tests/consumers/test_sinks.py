"""Sinks hand a delivery to the agency's system once, whatever the redeliveries."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from consumers.errors import SinkError
from consumers.sinks import Delivery, DirectorySink, SqliteInboxSink, WebhookSink


def _delivery(n: int = 1) -> Delivery:
    return Delivery(
        delivery_id=f"d-{n}",
        notification_id=f"n-{n}",
        message_type="M01",
        sender_agency="school-example",
        recipient_agency="csc-example",
        payload={"concern_summary": "Fictional concern for Test Child Alpha"},
        schema_version="1",
        envelope_digest="sha256:" + "0" * 64,
        sealed_at="2026-01-05T09:00:00Z",
    )


async def test_sqlite_inbox_delivers_once(tmp_path: Path) -> None:
    sink = SqliteInboxSink(tmp_path / "inbox.db")
    assert await sink.deliver(_delivery(1)) is True
    assert await sink.deliver(_delivery(1)) is False
    assert await sink.deliver(_delivery(2)) is True
    assert sink.delivery_ids() == ["d-1", "d-2"]


async def test_directory_sink_writes_one_file_per_delivery(tmp_path: Path) -> None:
    sink = DirectorySink(tmp_path / "out")
    assert await sink.deliver(_delivery(1)) is True
    assert await sink.deliver(_delivery(1)) is False
    written = json.loads((tmp_path / "out" / "d-1.json").read_text())
    assert written["payload"] == _delivery(1).payload
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["d-1.json"]


@pytest.fixture
async def case_system(unused_tcp_port: int) -> AsyncIterator[tuple[str, list[tuple[str, dict[str, object]]]]]:
    """A stand-in for an agency's case system (which we do not run): fails once, then accepts."""
    received: list[tuple[str, dict[str, object]]] = []
    failures = {"left": 1}

    async def handle(request: web.Request) -> web.Response:
        if failures["left"]:
            failures["left"] -= 1
            return web.Response(status=503)
        received.append((request.headers["Idempotency-Key"], await request.json()))
        return web.Response(status=201)

    app = web.Application()
    app.router.add_post("/cases", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    try:
        yield f"http://127.0.0.1:{unused_tcp_port}/cases", received
    finally:
        await runner.cleanup()


async def test_webhook_retries_and_sends_the_delivery_id_as_idempotency_key(
    case_system: tuple[str, list[tuple[str, dict[str, object]]]],
) -> None:
    url, received = case_system
    assert await WebhookSink(url, attempts=3).deliver(_delivery(7)) is True
    assert received == [("d-7", _delivery(7).as_json())]


async def test_webhook_gives_up_with_a_sink_error(unused_tcp_port: int) -> None:
    sink = WebhookSink(f"http://127.0.0.1:{unused_tcp_port}/nothing-listens", attempts=2, timeout=1)
    with pytest.raises(SinkError):
        await sink.deliver(_delivery(1))
