"""How many notifications one gateway process decides at once; the next is refused at once.

Past saturation every extra request only waits: each one waits longer, agency systems time out and
send again, and the gateway spends its time on answers nobody reads (the issue #17 bench saw 200/s
offered to a gateway that decides ~55/s accept 5/s). A full gateway answers 503 with Retry-After
straight away, before the body is read or a token checked, so those it admits are answered fast and
the rest retry (safely: with the same Idempotency-Key a retry never decides twice). Nothing is decided,
recorded or shared for a refused request; the 503 tells a practitioner with an urgent concern to phone.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from broker.errors import Overloaded


class Capacity:
    """A count of the notifications being decided, with a ceiling (`SGB_MAX_IN_FLIGHT`)."""

    def __init__(self, ceiling: int) -> None:
        if ceiling < 1:
            raise ValueError("a gateway must admit at least one notification at a time")
        self.ceiling = ceiling
        self.in_flight = 0

    @contextlib.contextmanager
    def admit(self) -> Iterator[None]:
        """Hold one place while deciding; `Overloaded` if every place is taken (one event loop: no lock)."""
        if self.in_flight >= self.ceiling:
            raise Overloaded(f"this gateway is deciding {self.ceiling} notifications already; send again shortly")
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1
