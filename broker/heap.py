"""The interpreter's cyclic garbage collector, kept off what a process built at start.

Both long-running processes settle it once started: the gateway (`broker.lifespan`) and the
worker (`broker.worker`). In the worker a full collection (70-90 ms) that fell inside the relay's
marking transaction held the log's chain head that long, and every gateway commit waited on it.
"""

from __future__ import annotations

import gc

_settled = False


def settle() -> None:
    """Keep the cyclic GC off the start-up heap and out of the request path (once per process).

    Measured at saturation: full (generation 2) collections re-walked every module, pydantic schema
    and SQLAlchemy structure about once a second for ~110 ms each, with the event loop stopped, and
    GC took ~15% of the gateway's CPU. `gc.freeze()` moves what start-up built (alive now, after a
    collection) out of the collector's view; a larger generation-0 threshold means fewer, cheaper
    passes over each request's short-lived objects. Nothing is leaked: garbage made later is
    collected as before.
    """
    global _settled
    if _settled:
        return
    _settled = True
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
