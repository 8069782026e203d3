"""Structured JSON logs for operators, one object per line.

Only the message, logger, level and time are written, plus `extra` fields whose names are on an
allow-list of identifiers (ids, outcomes, counts): a log line never carries a payload value.
"""

from __future__ import annotations

import json
import logging
import logging.config
from datetime import UTC, datetime

SAFE_EXTRA = frozenset({"notification_id", "delivery_id", "agency_id", "outcome", "status", "count", "seq"})


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k in SAFE_EXTRA})
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
        return json.dumps(entry, default=str)


def configure(level: str = "INFO") -> dict[str, object]:
    """Route every logger (ours, uvicorn's, aiokafka's) through the JSON formatter; return the config."""
    config: dict[str, object] = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json"}},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn.access": {"level": "WARNING"},
            "aiokafka": {"level": "WARNING"},
        },
    }
    logging.config.dictConfig(config)
    return config
