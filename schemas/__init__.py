"""The shared contract, pure data: every side of the broker reads the same models (README, Code map).

Its modules are imported by name (`schemas.notifications`, `schemas.envelope`, ...); exported here is
the one check an agency's consumer makes of what it opens: `validate_projection`. Loaded on first use
(PEP 562), not with the package: the check builds on every notification model, which a command that
reads only the envelope or the log (`python -m audit verify`) never needs.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ProjectionInvalid", "validate_projection"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from schemas import projection

        return getattr(projection, name)
    raise AttributeError(f"module 'schemas' has no attribute {name!r}")
