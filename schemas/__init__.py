"""The shared contract, pure data: every side of the broker reads the same models (README, Code map).

Its modules are imported by name (`schemas.notifications`, `schemas.envelope`, ...); exported here is
the one check an agency's consumer makes of what it opens: `validate_projection`.
"""

from schemas.projection import ProjectionInvalid, validate_projection

__all__ = ["ProjectionInvalid", "validate_projection"]
