"""Defects from the consumers review (findings 1, 4, 7 and 9c) that these tests pin.

1. The webhook sink, and the gateway client, followed HTTP redirects: a 302 to a login page counted as
   delivered, and a 307/308 re-sent the decrypted payload to wherever `Location` pointed.
4. The directory sink never fsynced its directory, so a crash could undo a delivery (or a withdrawal)
   that the ledger, the receipt and the committed offset already reported.
7. The SQLite and directory sinks ignored their own tombstones: a withdrawn delivery read again with a
   lost ledger went back into the inbox.
9c. An `OSError` from checking whether the file exists escaped the directory sink as a bare `OSError`
   instead of a `SinkError`.

Redirects are served by real loopback aiohttp servers; nothing of aiohttp is mocked.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from consumers.errors import DeliveryWithdrawn, GatewayUnavailable, SinkError
from consumers.gateway import GatewayClient
from consumers.sinks import DirectorySink, SqliteInboxSink
from consumers.webhook import WebhookSink
from tests.consumers.test_sinks import _delivery, _notice, _wal

Seen = list[tuple[str, str, bytes]]


@contextlib.asynccontextmanager
async def _serve(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def elsewhere() -> AsyncIterator[tuple[str, Seen]]:
    """Another origin a redirect points at, answering 200 to anything; records what reaches it."""
    seen: Seen = []

    async def record(request: web.Request) -> web.Response:
        seen.append((request.method, request.path, await request.read()))
        return web.Response(status=200, text="{}", content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    async with _serve(app) as url:
        yield url, seen


async def test_a_302_to_a_login_page_is_not_a_delivery() -> None:
    """An SSO proxy with an expired token answers 302 /login; its 200 login page is not the case system."""
    logins: list[str] = []

    async def case(request: web.Request) -> web.Response:
        raise web.HTTPFound("/login")

    async def login(request: web.Request) -> web.Response:
        logins.append(request.method)
        return web.Response(status=200, text="<form>sign in</form>")

    app = web.Application()
    app.router.add_post("/cases", case)
    app.router.add_get("/login", login)
    async with _serve(app) as url:
        with pytest.raises(SinkError, match="302"):
            await WebhookSink(f"{url}/cases", attempts=2).deliver(_delivery(1))
    assert logins == [], "the redirect was followed"


@pytest.mark.parametrize("redirect", [web.HTTPTemporaryRedirect, web.HTTPPermanentRedirect])
async def test_a_307_or_308_does_not_re_post_the_payload_elsewhere(
    redirect: type[web.HTTPMove], elsewhere: tuple[str, Seen]
) -> None:
    other, seen = elsewhere

    async def case(request: web.Request) -> web.Response:
        raise redirect(f"{other}/collect")

    app = web.Application()
    app.router.add_post("/cases", case)
    async with _serve(app) as url:
        with pytest.raises(SinkError, match="redirect"):
            await WebhookSink(f"{url}/cases", attempts=2).deliver(_delivery(1))
    assert seen == [], "the decrypted payload went to another origin"


async def test_a_redirected_withdrawal_is_not_reported_done(elsewhere: tuple[str, Seen]) -> None:
    other, seen = elsewhere

    async def case(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(f"{other}/cases/{request.match_info['delivery']}")

    app = web.Application()
    app.router.add_delete("/cases/{delivery}", case)
    async with _serve(app) as url:
        with pytest.raises(SinkError, match="redirect"):
            await WebhookSink(f"{url}/cases", attempts=2).withdraw(_notice(1))
    assert seen == [], "the DELETE was sent to another origin"


async def test_a_redirect_is_never_a_gateway_answer(elsewhere: tuple[str, Seen]) -> None:
    other, seen = elsewhere

    async def proof(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"{other}{request.path_qs}")

    async def cosign(request: web.Request) -> web.Response:
        raise web.HTTPPermanentRedirect(f"{other}{request.path}")

    app = web.Application()
    app.router.add_get("/v1/log/proof", proof)
    app.router.add_post("/v1/log/cosignatures", cosign)
    async with _serve(app) as url:
        client = GatewayClient(base_url=url, token=lambda: "fictional-token")
        with pytest.raises(GatewayUnavailable) as asked:
            await client.consistency(1, 2)
        assert (asked.value.status, asked.value.code) == (302, None)
        with pytest.raises(GatewayUnavailable) as posted:
            await client.cosign(2, "\u2014 csc-example " + "A" * 102 + "==\n")
        assert (posted.value.status, posted.value.code) == (308, None)
    assert seen == [], "a redirect was followed"


Synced = list[tuple[bool, int, list[str]]]


@pytest.fixture
def synced(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Synced:
    """Every fsync under `tmp_path/out`: whether of a directory, the inode, and the directory's listing then."""
    calls: Synced = []
    real = os.fsync
    out = tmp_path / "out"

    def spy(fd: int) -> None:
        info = os.fstat(fd)
        calls.append((stat.S_ISDIR(info.st_mode), info.st_ino, sorted(os.listdir(out))))
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    return calls


async def test_a_delivered_file_is_durable_before_deliver_returns(tmp_path: Path, synced: Synced) -> None:
    out = tmp_path / "out"
    sink = DirectorySink(out)
    assert await sink.deliver(_delivery(1)) is True
    written, directory = (out / "d-1.json").stat().st_ino, out.stat().st_ino
    assert synced == [(False, written, ["d-1.partial"]), (True, directory, ["d-1.json"])]
    # A retry after a failed directory sync finds the file, and still makes its entry durable.
    assert await sink.deliver(_delivery(1)) is False
    assert synced[-1] == (True, directory, ["d-1.json"])


async def test_a_withdrawal_is_durable_before_withdraw_returns(tmp_path: Path, synced: Synced) -> None:
    out = tmp_path / "out"
    sink = DirectorySink(out)
    await sink.deliver(_delivery(1))
    synced.clear()
    assert await sink.withdraw(_notice(1, kind="erasure")) is True
    marker, directory = (out / "d-1.withdrawn.json").stat().st_ino, out.stat().st_ino
    assert synced == [
        (False, marker, ["d-1.json", "d-1.withdrawn.json"]),  # the tombstone is on disk before the file goes
        (True, directory, ["d-1.withdrawn.json"]),
    ]


async def test_the_sqlite_inbox_does_not_take_back_a_delivery_it_holds_a_tombstone_for(tmp_path: Path) -> None:
    path = tmp_path / "inbox.db"
    sink = SqliteInboxSink(path)
    await sink.deliver(_delivery(1))
    await sink.withdraw(_notice(1, kind="erasure"))
    await sink.withdraw(_notice(2))  # a withdrawal that arrived before its delivery
    # The ledger lost, the topic re-read from the start: both deliveries arrive again, and are refused.
    for n in (1, 2):
        with pytest.raises(DeliveryWithdrawn):
            await sink.deliver(_delivery(n))
    assert sink.delivery_ids() == []
    assert b"Test Child Alpha" not in path.read_bytes() + _wal(path)
    assert await sink.deliver(_delivery(3)) is True, "a delivery never withdrawn still goes in"


async def test_the_directory_sink_does_not_take_back_a_delivery_it_holds_a_tombstone_for(tmp_path: Path) -> None:
    out = tmp_path / "out"
    sink = DirectorySink(out)
    await sink.deliver(_delivery(1))
    await sink.withdraw(_notice(1, kind="erasure"))
    await sink.withdraw(_notice(2))
    for n in (1, 2):
        with pytest.raises(DeliveryWithdrawn):
            await sink.deliver(_delivery(n))
    assert sorted(p.name for p in out.iterdir()) == ["d-1.withdrawn.json", "d-2.withdrawn.json"]


async def test_an_error_checking_for_the_file_is_a_sink_error(tmp_path: Path) -> None:
    """Any OSError from the existence check (here a name the file system refuses: ENAMETOOLONG) is a
    SinkError, which the consumer retries, not an error that tears the whole consumer down."""
    sink = DirectorySink(tmp_path / "out")
    with pytest.raises(SinkError, match="directory write failed"):
        await sink.deliver(dataclasses.replace(_delivery(1), delivery_id="d-" + "x" * 300))


async def test_the_inbox_tombstone_says_erasure_once_an_erasure_follows_a_withdrawal(tmp_path: Path) -> None:
    """The agency's system reads the tombstone to know what to do with its own copies: an erasure that
    followed a withdrawal must not be shown as a withdrawal (and a later withdrawal must not undo it)."""
    sink = SqliteInboxSink(tmp_path / "inbox.db")
    await sink.deliver(_delivery(1))
    await sink.withdraw(_notice(1))
    await sink.withdraw(_notice(1, kind="erasure", notice_id="notice-erase-1", reason="court_order"))
    await sink.withdraw(_notice(1, notice_id="notice-late-1"))
    (tombstone,) = sink.withdrawn()
    assert (tombstone["kind"], tombstone["reason"], tombstone["notice_id"]) == (
        "erasure",
        "court_order",
        "notice-erase-1",
    )
