"""Sinks hand a delivery to the agency's system once, whatever the redeliveries."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from consumers.errors import SinkError
from consumers.sinks import Delivery, DirectorySink, SqliteInboxSink
from consumers.webhook import WebhookSink
from schemas.notice import Notice
from tests.consumers.conftest import DECIDED_BY


def _delivery(n: int = 1) -> Delivery:
    return Delivery(
        decided_by=DECIDED_BY,
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


async def test_a_retry_is_logged_without_the_payload_or_the_token(
    case_system: tuple[str, list[tuple[str, dict[str, object]]]], caplog: pytest.LogCaptureFixture
) -> None:
    url, received = case_system
    token = "case-system-token-Zq81"
    with caplog.at_level(logging.DEBUG):
        assert await WebhookSink(url, attempts=3, token=token).deliver(_delivery(8)) is True
    retries = [r for r in caplog.records if r.getMessage() == "stamina.retry_scheduled"]
    assert len(retries) == 1, "the 503 was retried once, and the retry logged"
    logged = repr([vars(r) for r in caplog.records])
    assert "HTTP 503" in logged, "the log says why it retried"
    for secret in ("Test Child Alpha", token):
        assert secret not in logged
    assert len(received) == 1


async def test_webhook_gives_up_with_a_sink_error(unused_tcp_port: int) -> None:
    sink = WebhookSink(f"http://127.0.0.1:{unused_tcp_port}/nothing-listens", attempts=2, timeout=1)
    with pytest.raises(SinkError):
        await sink.deliver(_delivery(1))


async def test_every_sink_leads_with_the_deciding_finding(tmp_path: Path) -> None:
    inbox = SqliteInboxSink(tmp_path / "inbox.db")
    await inbox.deliver(_delivery(1))
    (row,) = inbox.rows()
    assert next(iter(row)) == "decided_by"
    assert row["decided_by"] == [{"rule": "GR4", "message": DECIDED_BY[0].message, "effect": "share"}]
    await DirectorySink(tmp_path / "out").deliver(_delivery(1))
    written = json.loads((tmp_path / "out" / "d-1.json").read_text())
    assert next(iter(written)) == "decided_by"
    assert list(written["decided_by"][0]) == ["rule", "message", "effect"]
    assert next(iter(_delivery(1).as_json())) == "decided_by"  # the webhook's body


async def test_an_inbox_made_before_decided_by_gains_the_column(tmp_path: Path) -> None:
    path = tmp_path / "inbox.db"
    with sqlite3.connect(path) as conn:
        conn.execute(OLD_INBOX)
        conn.execute(
            "INSERT INTO inbox VALUES ('d-0', 'n-0', 'M01', '1', 'school-example', 'sha256:00', "
            "'2026-01-05T09:00:00Z', '{}', '2026-01-05T09:00:01Z')"
        )
    path.chmod(0o600)  # as the refusal of an inbox others can read tells the operator of an old one
    sink = SqliteInboxSink(path)
    assert await sink.deliver(_delivery(1)) is True
    assert [row["decided_by"] for row in sink.rows()] == [[], [DECIDED_BY[0].model_dump()]]


# The inbox table as consumers created it before deliveries carried their deciding findings.
OLD_INBOX = """
CREATE TABLE inbox (
    delivery_id TEXT PRIMARY KEY, notification_id TEXT NOT NULL, message_type TEXT NOT NULL,
    schema_version TEXT NOT NULL, sender_agency TEXT NOT NULL, envelope_digest TEXT NOT NULL,
    sealed_at TEXT NOT NULL, body TEXT NOT NULL,
    received_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)"""


def _notice(n: int = 1, **overrides: str) -> Notice:
    values = {
        "kind": "withdrawal",
        "notice_id": f"notice-{n}",
        "delivery_id": f"d-{n}",
        "notification_id": f"n-{n}",
        "recipient_agency": "csc-example",
        "reason": "malicious",
        "issued_at": "2026-01-06T09:00:00Z",
        "signing_key_id": "broker-test",
        **overrides,
    }
    return Notice(**values)  # type: ignore[arg-type]


async def test_sqlite_inbox_withdraws_with_a_tombstone_and_overwrites_the_payload(tmp_path: Path) -> None:
    path = tmp_path / "inbox.db"
    sink = SqliteInboxSink(path)
    await sink.deliver(_delivery(1))
    await sink.deliver(_delivery(2))
    assert b"Test Child Alpha" in path.read_bytes() + _wal(path)
    assert await sink.withdraw(_notice(1)) is True
    assert await sink.withdraw(_notice(1)) is False, "a repeated notice removes nothing more"
    assert await sink.withdraw(_notice(3)) is False, "a notice for a delivery that never came leaves a tombstone only"
    assert sink.delivery_ids() == ["d-2"]
    assert [(t["delivery_id"], t["kind"], t["reason"]) for t in sink.withdrawn()] == [
        ("d-1", "withdrawal", "malicious"),
        ("d-3", "withdrawal", "malicious"),
    ]
    await sink.withdraw(_notice(2, kind="correction", reason="superseded", superseded_by="n-9"))
    assert sink.withdrawn()[-1]["superseded_by"] == "n-9"
    # secure_delete plus a truncating checkpoint: the removed payloads are not left in free pages or the WAL.
    assert b"Test Child Alpha" not in path.read_bytes() + _wal(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM inbox").fetchone() == (0,)


def _wal(path: Path) -> bytes:
    wal = path.with_name(path.name + "-wal")
    return wal.read_bytes() if wal.exists() else b""


async def test_directory_sink_removes_the_file_and_leaves_a_tombstone(tmp_path: Path) -> None:
    sink = DirectorySink(tmp_path / "out")
    await sink.deliver(_delivery(1))
    assert await sink.withdraw(_notice(1, kind="erasure")) is True
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["d-1.withdrawn.json"]
    tombstone = json.loads((tmp_path / "out" / "d-1.withdrawn.json").read_text())
    assert (tombstone["kind"], tombstone["notification_id"]) == ("erasure", "n-1")
    assert "payload" not in tombstone


async def test_webhook_withdrawal_is_a_delete_of_the_delivery(unused_tcp_port: int) -> None:
    deleted: list[tuple[str, str, dict[str, object]]] = []

    async def handle(request: web.Request) -> web.Response:
        deleted.append((request.match_info["delivery"], request.headers["Idempotency-Key"], await request.json()))
        return web.Response(status=204 if request.match_info["delivery"] == "d-1" else 404)

    app = web.Application()
    app.router.add_delete("/cases/{delivery}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    try:
        sink = WebhookSink(f"http://127.0.0.1:{unused_tcp_port}/cases", attempts=2)
        assert await sink.withdraw(_notice(1)) is True
        assert await sink.withdraw(_notice(2)) is False, "404: the case system never had it"
    finally:
        await runner.cleanup()
    assert [(d, key, body["reason"]) for d, key, body in deleted] == [
        ("d-1", "notice-1", "malicious"),
        ("d-2", "notice-2", "malicious"),
    ]
