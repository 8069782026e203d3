"""The interpreter of a long-running process, settled once started: its cyclic garbage collector kept
off what start-up built, and the GIL handed between threads every millisecond.

Both long-running processes settle it: the gateway (`broker.lifespan`) and the worker
(`broker.worker`). Each commits the decision log from a thread while its event loop runs Python, and
whatever delays that thread's commit also holds the log's chain head, so every other commit waits:
in the worker a full collection (70-90 ms) inside the relay's marking transaction did.
"""

from __future__ import annotations

import gc
import sys

# How long a thread may keep the GIL while another waits for it (CPython's default is 5 ms). A commit
# thread takes the GIL back after each database call; with the event loop busy it waited up to 5 ms
# each time, with the chain head locked. Measured at 50 notifications a second on SQLite, six runs of
# each alternating: median p99 53 ms at 5 ms, 36 ms at 1 ms, with the same median (issue #17).
SWITCH_INTERVAL_SECONDS = 0.001

_settled = False


def settle() -> None:
    """Keep the cyclic GC off the start-up heap and out of the request path, and let threads waiting
    for the GIL have it sooner (once per process).

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
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
