"""JSON logs for an agency's consumer, one object per line on stderr: `timestamp`, `level`, `logger`,
`event`, plus `extra` fields whose names are on an allow-list of identifiers.

A consumer decrypts case data, so a log line must never carry a payload value: extras outside the
allow-list are dropped, and an exception is logged as its type name only (a traceback can quote
the values it was handling).
"""

from __future__ import annotations

import logging
import logging.config
from typing import Any

from pythonjsonlogger.json import JsonFormatter

SAFE_EXTRA = frozenset(
    # witness_alarm: the runner's alarm evidence (hashes, sizes, seqs), made for alerting to match;
    # outcome: a fixed word (`not_delivered`, `sink_refused`) for a record handled without a receipt.
    {
        "agency_id",
        "delivery_id",
        "notification_id",
        "topic",
        "offset",
        "reason",
        "count",
        "status",
        "outcome",
        "witness_alarm",
    }
)
FIELDS = ("levelname", "name", "message")
RENAMED = {"levelname": "level", "name": "logger", "message": "event"}
KEPT = frozenset({"timestamp", "level", "logger", "event", "error"}) | SAFE_EXTRA


class ConsumerJsonFormatter(JsonFormatter):
    def __init__(self) -> None:
        super().__init__(list(FIELDS), rename_fields=RENAMED, timestamp=True)

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        super().add_fields(log_data, record, message_dict)
        log_data["level"] = record.levelname.lower()
        if record.exc_info and record.exc_info[0] is not None:
            log_data["error"] = record.exc_info[0].__name__
        for key in [k for k in log_data if k not in KEPT]:
            del log_data[key]  # tracebacks (`exc_info`, `stack_info`) and unlisted extras


def configure(level: str = "INFO") -> dict[str, Any]:
    """Route every logger (ours and aiokafka's) through the JSON formatter; return the config."""
    config: dict[str, Any] = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": ConsumerJsonFormatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json"}},
        "root": {"handlers": ["stderr"], "level": level.upper()},
        # aiokafka is chatty at INFO (every rebalance and reconnect): its warnings are what matter.
        "loggers": {"aiokafka": {"level": "WARNING"}},
    }
    logging.config.dictConfig(config)
    logging.captureWarnings(True)  # a settings warning is a log line too, not bare text among the JSON
    return config
