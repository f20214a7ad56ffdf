"""JSON log lines (issue 20.7): fields, extras, exceptions, the request id from the context."""

from __future__ import annotations

import json
import logging
import sys

from app.ops.logs import REQUEST_ID, JsonFormatter, RequestIdFilter, accept_request_id


def _record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("fundledger.test", logging.WARNING, __file__, 1, message, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_a_line_is_one_json_object_with_the_request_id_and_the_extras() -> None:
    token = REQUEST_ID.set("req-1")
    try:
        record = _record("paid %s fen", 100, instruction_id="I1", color_message="\x1b[1m")
        assert RequestIdFilter().filter(record)
    finally:
        REQUEST_ID.reset(token)
    line = json.loads(JsonFormatter().format(record))
    assert line == {
        "ts": line["ts"],
        "level": "WARNING",
        "logger": "fundledger.test",
        "message": "paid 100 fen",
        "request_id": "req-1",
        "instruction_id": "I1",
    }
    assert line["ts"].endswith("+00:00")


def test_outside_a_request_there_is_no_request_id_and_exceptions_are_kept() -> None:
    try:
        raise ValueError("broken 中文")
    except ValueError:
        record = _record("failed")
        record.exc_info = sys.exc_info()
    RequestIdFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert "request_id" not in line
    assert line["exc"].startswith("Traceback") and "broken 中文" in line["exc"]


def test_request_ids_are_kept_when_they_are_tokens() -> None:
    assert accept_request_id("3f2a-9c.x:1/Ab+=") == "3f2a-9c.x:1/Ab+="
    for bad in (None, "", "a b", "x" * 129, "-starts-with-dash", 'quote"'):
        made = accept_request_id(bad)
        assert len(made) == 32 and made != bad
