"""Log lines are JSON objects and drop any extra field not on the allow-list."""

from __future__ import annotations

import json
import logging

from broker.logs import JsonFormatter


def test_json_line_keeps_identifiers_and_drops_anything_else() -> None:
    record = logging.LogRecord("broker.test", logging.WARNING, __file__, 1, "relay waiting: %s", ("Timeout",), None)
    record.delivery_id = "d-1"
    record.child_name = "Alpha Testchild"  # must never reach a log line
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "relay waiting: Timeout"
    assert line["delivery_id"] == "d-1"
    assert "child_name" not in line
    assert line["level"] == "warning"
