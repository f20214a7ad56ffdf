"""Logs as one JSON object per line, each carrying the request id of the request it serves.

The request id comes from the caller's `X-Request-ID` header (kept when it is a short token of
safe characters) or is made up; it is echoed on the response and set in a context variable, so
every log line written while the request runs, the jobs it triggers included (they run inside
the request), carries it.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID: ContextVar[str | None] = ContextVar("fundledger_request_id", default=None)
# What a proxy or a client sends as a request id: a UUID, a hex or base64 token, a trace id.
_ACCEPTED_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+/=-]{0,127}")

# Attributes every LogRecord has: anything else was passed with `extra=` and is logged.
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)

# request_id is written first; uvicorn's `color_message` repeats the message with ANSI codes
_LEFT_OUT = frozenset({"request_id", "color_message"})

LogFormat = Literal["json", "text"]


def accept_request_id(value: str | None) -> str:
    """The caller's request id when it is acceptable, else a new one (32 hex digits)."""
    if value is not None and _ACCEPTED_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Sets `record.request_id` from the context (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "message", "request_id", ...extra fields, "exc"}`."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id:
            payload["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in _LEFT_OUT and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def configure(level: str = "INFO", fmt: LogFormat = "json") -> None:
    """The root logger writes to stderr in the chosen format; uvicorn's loggers go through it
    (their own access log is off: the request middleware logs each request once)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
