"""The guard every test runs under (`tests/conftest.py`): a task a test started and left running is found,
and one that finishes within its grace is not."""

from __future__ import annotations

import asyncio

from tests.conftest import tasks_outliving


async def test_a_task_left_running_is_found_and_one_finishing_is_not() -> None:
    before = asyncio.all_tasks()
    forever = asyncio.create_task(asyncio.sleep(3600), name="left running")
    closing = asyncio.create_task(asyncio.sleep(0.01), name="still closing")
    try:
        assert await tasks_outliving(before, grace=0.5) == [forever]
        assert closing.done()
    finally:
        forever.cancel()
    assert await tasks_outliving(before, grace=0.5) == [], "a cancelled task is not left"
