"""How the benchmark's Markdown tables write a number and lay out their rows."""

from __future__ import annotations

from typing import Any

# The order of the databases in every table.
BACKENDS = ("sqlite", "postgresql")


def fmt(value: Any, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, float | int):
        return f"{value:,.{digits}f}"
    return str(value)


def markdown(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
