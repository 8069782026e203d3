"""What the database is asked per request: statements by kind and table, and transaction ends.

`python -m bench.inproc --statements` counts while its measured requests run. Costs that are round
trips (PostgreSQL: a statement, a commit) rather than CPU show only as a count; this makes the count
a number instead of a reading of the code.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from sqlalchemy import Engine, event

_TABLE = re.compile(r'\b(?:INTO|FROM|UPDATE|JOIN)\s+"?([A-Za-z_][A-Za-z0-9_.]*)', re.IGNORECASE)


def kind(statement: str) -> str:
    """`INSERT INTO outbox (...) VALUES ...` as `INSERT outbox`: the verb and the tables it names."""
    words = statement.split(maxsplit=1)
    if not words:
        return "(empty)"
    tables = dict.fromkeys(_TABLE.findall(statement))
    return " ".join([words[0].upper(), *tables])


class StatementCount:
    """Counts every statement, commit and rollback on every SQLAlchemy engine while `counting` is set."""

    def __init__(self) -> None:
        self.statements: Counter[str] = Counter()
        self.commits = 0
        self.rollbacks = 0
        self.counting = False

    def install(self) -> None:
        event.listen(Engine, "before_cursor_execute", self._statement)
        event.listen(Engine, "commit", self._commit)
        event.listen(Engine, "rollback", self._rollback)

    def remove(self) -> None:
        event.remove(Engine, "before_cursor_execute", self._statement)
        event.remove(Engine, "commit", self._commit)
        event.remove(Engine, "rollback", self._rollback)

    def per_request(self, requests: int) -> dict[str, Any]:
        """The counts divided by `requests`, most frequent statement kind first."""
        n = max(requests, 1)
        return {
            "statements": round(sum(self.statements.values()) / n, 2),
            "commits": round(self.commits / n, 2),
            "rollbacks": round(self.rollbacks / n, 2),
            "by_kind": {name: round(count / n, 2) for name, count in self.statements.most_common()},
        }

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if self.counting:
            self.statements[kind(statement)] += 1

    def _commit(self, _conn: Any) -> None:
        if self.counting:
            self.commits += 1

    def _rollback(self, _conn: Any) -> None:
        if self.counting:
            self.rollbacks += 1
