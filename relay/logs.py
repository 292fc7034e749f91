"""Structured logs for the relay: one JSON object per line, an event name and its fields."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import IO, Any

LOGGER_NAME = "printdesk.relay"
_FIELDS = "printdesk_fields"


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "event", ...fields}``; records from other libraries keep their text."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
        }
        fields = getattr(record, _FIELDS, None)
        if isinstance(fields, dict):
            line["event"] = record.getMessage()
            line.update(fields)
        else:
            # uvicorn logs its own life under "uvicorn.error", errors or not.
            line["event"] = "uvicorn" if record.name == "uvicorn.error" else record.name
            line["message"] = record.getMessage()
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def log_event(logger: logging.Logger, level: int, event: str, **fields: Any) -> None:
    """Log ``event`` (a dotted name such as ``webhook.applied``) with its fields."""
    exc_info = fields.pop("exc_info", None)
    logger.log(level, event, extra={_FIELDS: fields}, exc_info=exc_info)


def configure_json_logging(level: str = "INFO", stream: IO[str] | None = None) -> logging.Handler:
    """Send every log record of the process, uvicorn's included, as JSON lines to ``stream``."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    return handler
