"""The collector settled once a process has started (`broker.heap.settle`), in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

_PROBE = """
import gc, json
from broker import heap
before = gc.get_freeze_count(), gc.get_threshold()
heap.settle()
frozen = gc.get_freeze_count()
heap.settle()  # a second call changes nothing
print(json.dumps([before, frozen, gc.get_freeze_count(), gc.get_threshold()]))
"""


def test_settling_freezes_what_start_up_built_and_raises_the_young_threshold_once() -> None:
    done = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, cwd=REPO, check=True)
    (frozen_before, threshold_before), frozen, frozen_again, threshold = json.loads(done.stdout)
    assert frozen_before == 0 and threshold_before[0] < 20_000
    assert frozen > 1_000, "the start-up heap was not moved out of the collector's view"
    assert frozen_again == frozen
    assert threshold == [20_000, 20, 20]
