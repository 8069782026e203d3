"""A withdrawal from the SQLite inbox is only reported done once the payload has left the disk."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from consumers.errors import SinkError
from consumers.sinks import SqliteInboxSink
from tests.consumers.test_sinks import _delivery, _notice, _wal


async def test_a_withdrawal_a_reader_keeps_in_the_wal_is_not_reported_done(tmp_path: Path) -> None:
    """The agency's system reading the inbox holds an older snapshot: the checkpoint cannot clear the
    WAL, whose frames still hold the payload, so the sink must fail (the consumer retries, sending no
    receipt) rather than let a `withdrawn` receipt confirm an erasure that did not happen."""
    path = tmp_path / "inbox.db"
    sink = SqliteInboxSink(path, busy_seconds=0.2)
    await sink.deliver(_delivery(1))
    reader = sqlite3.connect(path)
    try:
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM inbox").fetchone() == (1,)
        with pytest.raises(SinkError, match="WAL"):
            await sink.withdraw(_notice(1))
        assert b"Test Child Alpha" in path.read_bytes() + _wal(path)
    finally:
        reader.close()
    # The reader gone, the consumer's retry completes the removal.
    assert await sink.withdraw(_notice(1)) is False, "removed from the table by the first attempt"
    assert b"Test Child Alpha" not in path.read_bytes() + _wal(path)
    assert sink.delivery_ids() == [] and [t["delivery_id"] for t in sink.withdrawn()] == ["d-1"]
