"""The decision log's anchor outlives the gateway process in a file (`SGB_ANCHOR_FILE`, `broker/db/anchor.py`).

The anchor (the largest checkpoint a gateway signed) used to live in memory only: an insider with the
database who cut the log's tail, deleted the checkpoints with it and restarted the gateway left a
process that anchored itself to the shorter log. The file is on storage the database's administrators
cannot reach; a start on a log that no longer extends it is refused, naming the file.

Each test has its own SQLite database and anchor file in a temporary directory; the insider works on
the database directly (triggers dropped, rows deleted), as `tests/audit/tampering.py` does.
"""

from __future__ import annotations

import concurrent.futures
import fcntl
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, text
from sqlmodel import Session

import audit
from audit.note import sign_note
from broker.app import create_app
from broker.db import verification
from broker.db.anchor import BEHIND, INVALID, AnchorFile
from broker.db.log import DecisionLog
from broker.errors import AnchorFileInvalid, LogBehindAnchor
from broker.metrics import Metrics
from broker.partnership.keys import load_broker_keys, rotate_broker_signing_key
from devstack.partnership import LocalPartnership
from tests.audit import conftest as log_fixtures
from tests.audit.conftest import DraftFactory
from tests.audit.tampering import drop_triggers, fork, rewrite_entries, truncate
from tests.broker.conftest import gateway_settings

signer, other_signer, make_draft, clock = (
    log_fixtures.signer,
    log_fixtures.other_signer,
    log_fixtures.make_draft,
    log_fixtures.clock,
)

SIZE = 5  # entries the honest gateway logged and filed before the insider came


@pytest.fixture
def anchor_path(tmp_path: Path) -> Path:
    return tmp_path / "gateway-state" / "log-anchor"  # its directory made by the first write


async def _append(decision_log: DecisionLog, make_draft: DraftFactory, count: int, *, start: int = 0) -> None:
    for i in range(start, start + count):
        await decision_log.append([make_draft(delivery_id=f"ntf-0001.d{i}")])
    decision_log.refresh_checkpoint()


async def _logged_and_filed(url: str, signer: audit.Signer, anchor_path: Path, make_draft: DraftFactory) -> None:
    """An honest gateway's lifetime: SIZE entries logged, their checkpoint signed and filed."""
    async with DecisionLog.opened(url, signer=signer, anchor_file=anchor_path) as decision_log:
        await _append(decision_log, make_draft, SIZE)
    assert _filed(anchor_path, signer).size == SIZE


def _filed(path: Path, *signers: audit.Signer) -> audit.Checkpoint:
    kept = AnchorFile(path, verify_keys=[s.public_key for s in signers]).read()
    assert kept is not None, f"nothing filed at {path}"
    return kept


def _as_insider(url: str, tamper: Callable[[Engine], None]) -> None:
    engine = audit.create_engine_for(url)
    try:
        drop_triggers(engine)
        tamper(engine)
    finally:
        engine.dispose()


# --- (a) the file is written, and grows with the log ---------------------------------------------------


async def test_the_anchor_file_is_written_and_grows_with_the_log(
    sqlite_url: str, signer: audit.Signer, make_draft: DraftFactory, anchor_path: Path
) -> None:
    async with DecisionLog.opened(sqlite_url, signer=signer, anchor_file=anchor_path) as decision_log:
        await _append(decision_log, make_draft, 2)
        first = _filed(anchor_path, signer)
        assert first.size == 2 and decision_log.anchor is not None
        assert anchor_path.read_text(encoding="utf-8") == decision_log.anchor.note, "the note as signed, whole"
        await _append(decision_log, make_draft, 3, start=2)
        assert _filed(anchor_path, signer).size == SIZE
        decision_log.refresh_checkpoint()  # nothing new: the same checkpoint, nothing rewritten
        assert _filed(anchor_path, signer).size == SIZE
    leftovers = sorted(p.name for p in anchor_path.parent.iterdir())
    assert leftovers == [anchor_path.name, f"{anchor_path.name}.lock"], "no temporary file is left behind"


async def test_without_the_setting_no_file_is_written(
    sqlite_url: str, signer: audit.Signer, make_draft: DraftFactory, anchor_path: Path
) -> None:
    async with DecisionLog.opened(sqlite_url, signer=signer) as decision_log:
        await _append(decision_log, make_draft, 2)
    assert not anchor_path.parent.exists()


# --- (b) a restart on a log cut short (or forked) is refused, naming the file ----------------------------


def _cut_rows_only(engine: Engine) -> None:
    """The crude insider: delete the tail entries and the checkpoints covering them, nothing else."""
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_entry WHERE seq >= 2"))
        connection.execute(text("DELETE FROM audit_checkpoint WHERE tree_size > 2"))


def _cut_and_rewound(engine: Engine) -> None:
    """The careful insider: the chain head rewound too, so the shorter log agrees with itself."""
    truncate(engine, keep=2)


@pytest.mark.parametrize("tamper", [_cut_rows_only, _cut_and_rewound], ids=["rows-deleted", "head-rewound"])
async def test_a_restart_on_a_log_cut_short_is_refused_naming_the_file(
    sqlite_url: str,
    signer: audit.Signer,
    make_draft: DraftFactory,
    anchor_path: Path,
    tamper: Callable[[Engine], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    await _logged_and_filed(sqlite_url, signer, anchor_path, make_draft)
    _as_insider(sqlite_url, tamper)
    with caplog.at_level(logging.ERROR, logger="broker.db.anchor"), pytest.raises(LogBehindAnchor) as refused:
        async with DecisionLog.opened(sqlite_url, signer=signer, anchor_file=anchor_path):
            pytest.fail("a gateway started on a log cut below its anchor file")
    said = str(refused.value)
    assert str(anchor_path) in said, said
    assert f"the anchor is of {SIZE} entries and the log is shorter (the log's size: 2)" in said, said
    assert (refused.value.anchor_size, refused.value.log_size, refused.value.path) == (SIZE, 2, str(anchor_path))
    (event,) = [r for r in caplog.records if getattr(r, "status", None) == BEHIND]
    assert str(anchor_path) in event.getMessage() and getattr(event, "count", None) == 2
    assert _filed(anchor_path, signer).size == SIZE, "a refused start leaves the file as it was"
    if tamper is _cut_and_rewound:
        # What the file adds: without it the same restart anchors itself to the shorter log, which verifies.
        async with DecisionLog.opened(sqlite_url, signer=signer) as forgetful:
            assert forgetful.anchor is not None and forgetful.anchor.size == 2
            assert verification.verify(forgetful, Metrics(), anchor=forgetful.anchor)


async def test_a_restart_on_another_history_of_the_same_size_is_refused(
    sqlite_url: str,
    signer: audit.Signer,
    make_draft: DraftFactory,
    anchor_path: Path,
    clock: Callable[[], datetime],
) -> None:
    await _logged_and_filed(sqlite_url, signer, anchor_path, make_draft)
    others = [make_draft(delivery_id=f"ntf-0001.d{i}", outcome="no_share") for i in range(2, SIZE)]
    _as_insider(sqlite_url, lambda engine: fork(engine, 2, others, clock))
    with pytest.raises(LogBehindAnchor, match=f"another chain head at size {SIZE}") as refused:
        async with DecisionLog.opened(sqlite_url, signer=signer, anchor_file=anchor_path):
            pytest.fail("a gateway started on a fork of its anchor")
    assert (refused.value.anchor_size, refused.value.log_size) == (SIZE, SIZE)


async def test_a_restart_on_a_history_rewritten_below_the_anchor_is_refused(
    sqlite_url: str, signer: audit.Signer, make_draft: DraftFactory, anchor_path: Path
) -> None:
    await _logged_and_filed(sqlite_url, signer, anchor_path, make_draft)
    _as_insider(
        sqlite_url, lambda engine: rewrite_entries(engine, {1: {"outcome": "no_share"}}, keep_checkpoints_upto=0)
    )
    with pytest.raises(LogBehindAnchor, match=str(anchor_path)):
        async with DecisionLog.opened(sqlite_url, signer=signer, anchor_file=anchor_path):
            pytest.fail("a gateway started on a log rewritten below its anchor")


async def test_a_running_gateway_does_not_move_its_anchor_onto_a_fork(
    sqlite_url: str,
    signer: audit.Signer,
    make_draft: DraftFactory,
    anchor_path: Path,
    clock: Callable[[], datetime],
) -> None:
    """A fork longer than the anchor, signed by the running gateway, must neither become the anchor nor be filed."""
    async with DecisionLog.opened(sqlite_url, signer=signer, anchor_file=anchor_path) as decision_log:
        await _append(decision_log, make_draft, SIZE)
        others = [make_draft(delivery_id=f"ntf-0002.d{i}") for i in range(2, SIZE + 3)]
        _as_insider(sqlite_url, lambda engine: fork(engine, 2, others, clock))
        decision_log.refresh_checkpoint()  # signs the forked log of SIZE + 3 entries
        assert decision_log.anchor is not None and decision_log.anchor.size == SIZE
        assert not verification.verify(decision_log, Metrics(), anchor=decision_log.anchor)
    assert _filed(anchor_path, signer).size == SIZE


# --- (c) a restart on an intact log starts from the file, and keeps the larger anchor --------------------


async def test_a_restart_on_an_intact_log_starts_from_the_filed_anchor(
    sqlite_url: str, signer: audit.Signer, make_draft: DraftFactory, anchor_path: Path
) -> None:
    await _logged_and_filed(sqlite_url, signer, anchor_path, make_draft)
    async with DecisionLog.opened(sqlite_url, signer=signer, anchor_file=anchor_path) as again:
        assert again.anchor is not None and again.anchor.size == SIZE
        assert verification.verify(again, Metrics(), anchor=again.anchor)
        await _append(again, make_draft, 2, start=SIZE)
        assert again.anchor.size == SIZE + 2
    assert _filed(anchor_path, signer).size == SIZE + 2


async def test_a_filed_anchor_signed_before_a_key_rotation_is_kept_after_it(
    sqlite_url: str,
    signer: audit.Signer,
    other_signer: audit.Signer,
    make_draft: DraftFactory,
    anchor_path: Path,
) -> None:
    """After a rotation, nothing new logged: the process's own key signed nothing, so without the file
    it has no anchor at all; the file's checkpoint, signed with the retired key, is kept instead."""
    await _logged_and_filed(sqlite_url, signer, anchor_path, make_draft)
    history = (other_signer.public_key, signer.public_key)
    async with DecisionLog.opened(sqlite_url, signer=other_signer, verify_keys=history) as forgetful:
        assert forgetful.anchor is None
    opened = DecisionLog.opened(sqlite_url, signer=other_signer, verify_keys=history, anchor_file=anchor_path)
    async with opened as rotated:
        assert rotated.anchor is not None and rotated.anchor.size == SIZE
        await _append(rotated, make_draft, 1, start=SIZE)
        assert rotated.anchor.size == SIZE + 1
    assert _filed(anchor_path, other_signer).size == SIZE + 1, "filed under the new key"
    with pytest.raises(AnchorFileInvalid):  # a key that is not the broker's history is not trusted
        AnchorFile(anchor_path, verify_keys=[signer.public_key]).read()


async def test_a_larger_filed_anchor_is_not_lowered_by_a_process_that_signed_less(
    sqlite_url: str, signer: audit.Signer, make_draft: DraftFactory, anchor_path: Path
) -> None:
    """Two gateway processes of one log: the one that saw less never lowers what the other filed."""
    async with DecisionLog.opened(sqlite_url, signer=signer, anchor_file=anchor_path) as behind:
        async with DecisionLog.opened(sqlite_url, signer=signer, anchor_file=anchor_path) as ahead:
            await _append(ahead, make_draft, SIZE)
        await behind.append([make_draft(delivery_id="ntf-0003.d0")])
        behind.refresh_checkpoint()
        assert behind.anchor is not None and behind.anchor.size == SIZE + 1
    assert _filed(anchor_path, signer).size == SIZE + 1


# --- (d) a forged, garbled or unreadable file refuses the start -----------------------------------------


def _stranger_note() -> str:
    """A well-formed checkpoint for a larger log, signed by a key the broker never held."""
    stranger = audit.Signer(log_fixtures.ORIGIN, Ed25519PrivateKey.from_private_bytes(bytes(range(7, 39))))
    body = audit.Checkpoint.body(stranger.origin, 9_999, b"\x01" * 32, "2025-03-04T05:06:07.000000Z", b"\x02" * 32)
    return sign_note(body, stranger.origin, stranger.key)


def _resized(note: str) -> str:
    """A genuine note whose size line was edited: the signature no longer covers it."""
    origin, size, rest = note.split("\n", 2)
    return f"{origin}\n{int(size) + 100}\n{rest}"


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (lambda path, note: path.write_text(_stranger_note()), "no checkpoint signed by any of the broker's keys"),
        (lambda path, note: path.write_text(_resized(note)), "no checkpoint signed by any of the broker's keys"),
        (lambda path, note: path.write_text("not a checkpoint\n"), "no checkpoint signed by any of the broker's keys"),
        (lambda path, note: path.write_bytes(b""), "no checkpoint signed by any of the broker's keys"),
        (lambda path, note: path.write_bytes(b"\xff\xfe" + note.encode()), "no checkpoint signed"),
        (lambda path, note: path.write_text(note[: len(note) // 2]), "no checkpoint signed"),
        (lambda path, note: (path.unlink(), path.mkdir()), "cannot be read"),
    ],
    ids=["forged", "size-edited", "garbled", "empty", "not-utf8", "half-written", "unreadable"],
)
async def test_an_anchor_file_that_cannot_be_trusted_refuses_the_start(
    sqlite_url: str,
    signer: audit.Signer,
    make_draft: DraftFactory,
    anchor_path: Path,
    damage: Callable[[Path, str], object],
    said: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await _logged_and_filed(sqlite_url, signer, anchor_path, make_draft)
    damage(anchor_path, anchor_path.read_text())
    with caplog.at_level(logging.ERROR, logger="broker.db.anchor"), pytest.raises(AnchorFileInvalid) as refused:
        async with DecisionLog.opened(sqlite_url, signer=signer, anchor_file=anchor_path):
            pytest.fail("a gateway started on an anchor file no broker key signed")
    assert str(anchor_path) in str(refused.value) and said in str(refused.value), str(refused.value)
    assert refused.value.path == str(anchor_path)
    assert [r for r in caplog.records if getattr(r, "status", None) == INVALID], "no structured refusal logged"


async def test_a_running_gateway_never_overwrites_a_damaged_anchor_file(
    sqlite_url: str, signer: audit.Signer, make_draft: DraftFactory, anchor_path: Path
) -> None:
    """Damage found while running is evidence: the file stays as found, and the round fails (counted)."""
    async with DecisionLog.opened(sqlite_url, signer=signer, anchor_file=anchor_path) as decision_log:
        await _append(decision_log, make_draft, 2)
        anchor_path.write_text("not a checkpoint\n")
        await decision_log.append([make_draft(delivery_id="ntf-0004.d0")])
        with pytest.raises(AnchorFileInvalid):
            decision_log.refresh_checkpoint()
        assert anchor_path.read_text() == "not a checkpoint\n"
        assert decision_log.anchor is not None and decision_log.anchor.size == 3, "the anchor in memory still grew"


# --- (e) writers sharing the file never lower it -------------------------------------------------------


# One gateway process filing checkpoints in its own order: a process of its own, importing only the
# anchor file's module (the test module would take seconds to import in each).
_WRITER = """
import json, sys
from pathlib import Path
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
import audit
from broker.db.anchor import AnchorFile
path, notes = sys.argv[1], json.loads(Path(sys.argv[2]).read_text())
anchor = AnchorFile(Path(path), verify_keys=[Ed25519PublicKey.from_public_bytes(bytes.fromhex(sys.argv[3]))])
for note in notes:
    anchor.keep(audit.Checkpoint.parse(note, verify_with=None))
"""


async def test_writers_sharing_the_file_never_lower_it(
    sqlite_url: str, signer: audit.Signer, make_draft: DraftFactory, anchor_path: Path, tmp_path: Path
) -> None:
    notes: list[str] = []
    async with DecisionLog.opened(sqlite_url, signer=signer) as decision_log:
        for i in range(40):
            await _append(decision_log, make_draft, 1, start=i)
            assert decision_log.checkpoint_note is not None
            notes.append(decision_log.checkpoint_note)
    anchor_path.parent.mkdir(parents=True)
    key = signer.public_key.public_bytes_raw().hex()
    writers = []
    for name, order in (("ascending", notes), ("descending", notes[::-1]), ("interleaved", notes[1::2] + notes[::2])):
        orders = tmp_path / f"{name}.json"
        orders.write_text(json.dumps(order))
        writers.append(subprocess.Popen([sys.executable, "-c", _WRITER, str(anchor_path), str(orders), key]))
    watcher = AnchorFile(anchor_path, verify_keys=[signer.public_key])
    seen: list[int] = []
    while any(writer.poll() is None for writer in writers):
        kept = watcher.read()  # always a whole note: the file is only ever replaced by rename
        if kept is not None:
            seen.append(kept.size)
        time.sleep(0.001)  # pacing only: leave the writers the CPU
    assert [writer.wait() for writer in writers] == [0, 0, 0]
    seen.append(_filed(anchor_path, signer).size)
    assert seen == sorted(seen), "the filed anchor went back"
    assert seen[-1] == len(notes), "the largest checkpoint is the one kept"


def _stored_checkpoint(url: str, size: int) -> audit.Checkpoint:
    engine = audit.create_engine_for(url)
    try:
        with Session(engine) as session:
            return audit.checkpoint_at(session, size)
    finally:
        engine.dispose()


def _someone_waits_for(lock: Path) -> bool:
    """Whether a flock on `lock` is waited for (Linux lists waiters in /proc/locks with "->")."""
    inode = f":{lock.stat().st_ino} "
    return any("->" in line and inode in line for line in Path("/proc/locks").read_text().splitlines())


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="needs Linux's /proc/locks to see a waiting writer")
async def test_a_writer_waits_for_the_lock_and_reads_what_the_holder_filed(
    sqlite_url: str, signer: audit.Signer, make_draft: DraftFactory, anchor_path: Path
) -> None:
    """The re-read happens inside the lock: what another writer filed while holding it is never overwritten."""
    async with DecisionLog.opened(sqlite_url, signer=signer, anchor_file=anchor_path) as decision_log:
        await _append(decision_log, make_draft, 2)
        await _append(decision_log, make_draft, SIZE - 2, start=2)
    larger, smaller = anchor_path.read_text(), _stored_checkpoint(sqlite_url, 2)
    lock = anchor_path.with_name(anchor_path.name + ".lock")
    writer = AnchorFile(anchor_path, verify_keys=[signer.public_key])
    anchor_path.unlink()  # the file as it was before anyone filed SIZE
    pool = concurrent.futures.ThreadPoolExecutor(1)
    holder = os.open(lock, os.O_RDWR)
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        filing = pool.submit(writer.keep, smaller)
        deadline = time.monotonic() + 60
        while not _someone_waits_for(lock):
            assert time.monotonic() < deadline and not filing.done(), "the writer did not wait for the lock"
            time.sleep(0.01)
        anchor_path.write_text(larger)  # another gateway files SIZE while holding the lock
    finally:
        os.close(holder)  # releases the lock, whatever happened, so the writer can finish
        pool.shutdown(wait=True)
    assert filing.result().size == SIZE
    assert _filed(anchor_path, signer).size == SIZE, "the waiting writer lowered the file"


# --- the gateway's own start (lifespan) ----------------------------------------------------------------


@pytest.mark.stack
async def test_a_gateway_refuses_to_start_on_a_log_cut_below_its_anchor_file(
    partnership: LocalPartnership, sqlite_url: str, tmp_path: Path
) -> None:
    keys_dir = tmp_path / "broker-keys"
    shutil.copytree(partnership.broker_keys_dir, keys_dir)
    anchor_path = tmp_path / "anchor" / "log-anchor"
    settings = gateway_settings(
        partnership,
        sqlite_url,
        keys_dir=keys_dir,
        anchor_file=anchor_path,
        run_relay_in_gateway=False,
        registry_poll_seconds=0,
        log_verify_seconds=0,
    )
    first = create_app(settings)
    async with first.router.lifespan_context(first):
        decision_log: DecisionLog = first.state.decision_log
        decision_log.refresh_checkpoint()  # the registry's entries, logged as it started
        logged = _filed(anchor_path, decision_log.signer).size
        assert logged > 0
    rotate_broker_signing_key(keys_dir, now=datetime.now(UTC))
    verify_keys = [key for _, key in load_broker_keys(keys_dir).verify_keys]
    assert AnchorFile(anchor_path, verify_keys=verify_keys).read() is not None

    _as_insider(sqlite_url, lambda engine: truncate(engine, keep=0))
    second = create_app(settings)
    with pytest.raises(LogBehindAnchor) as refused:
        async with second.router.lifespan_context(second):
            pytest.fail("the gateway started on a log cut below its anchor file")
    assert str(anchor_path) in str(refused.value)
    assert f"the anchor is of {logged} entries" in str(refused.value)
