"""The interpreter settled once a process has started (`broker.interpreter.settle`), in a fresh one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

_PROBE = """
import gc, json, sys
from broker import interpreter
before = gc.get_freeze_count(), gc.get_threshold(), sys.getswitchinterval()
interpreter.settle()
frozen = gc.get_freeze_count()
interpreter.settle()  # a second call changes nothing
print(json.dumps([before, frozen, gc.get_freeze_count(), gc.get_threshold(), sys.getswitchinterval()]))
"""


def test_settling_freezes_the_start_up_heap_raises_the_young_threshold_and_shortens_the_switch_once() -> None:
    done = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, cwd=REPO, check=True)
    (frozen_before, threshold_before, switch_before), frozen, frozen_again, threshold, switch = json.loads(done.stdout)
    assert frozen_before == 0 and threshold_before[0] < 20_000 and switch_before == 0.005
    assert frozen > 1_000, "the start-up heap was not moved out of the collector's view"
    assert frozen_again == frozen
    assert threshold == [20_000, 20, 20]
    assert switch == 0.001
