"""The SQL an engine sends while a block runs, for tests that assert what reaches the database."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event


@dataclass(frozen=True)
class Statement:
    """One statement as the driver got it, and how many parameter sets went with it."""

    sql: str
    rows: int

    @property
    def verb(self) -> str:
        """`INSERT`, `SELECT`, `BEGIN`...: the statement's first word, upper case."""
        words = self.sql.split(maxsplit=1)
        return words[0].upper() if words else ""

    def names(self, table: str) -> bool:
        return table in self.sql


@contextlib.contextmanager
def sent(engine: Engine) -> Iterator[list[Statement]]:
    """Every statement `engine` sends inside the block, in order. SQLite's BEGIN goes through
    SQLAlchemy (`audit.engine`'s begin hook), so it shows here; PostgreSQL's is the driver's own."""
    seen: list[Statement] = []

    def record(_conn: Any, _cursor: Any, statement: str, params: Any, _context: Any, many: bool) -> None:
        rows = len(params) if many and isinstance(params, Sequence) else 1
        seen.append(Statement(statement, rows))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
