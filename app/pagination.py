"""Cursor pagination (API.md "Lists"): `limit` ≤ 500 and an opaque `cursor`."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from app.errors import Invalid
from app.inputs import text_fault

LIST_LIMIT_MAX = 500
LIST_LIMIT_DEFAULT = 100

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(key: Any) -> str:
    raw = json.dumps(key, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


CURSOR_CHARS_MAX = 200


def _decode(cursor: str) -> Any:
    if len(cursor) > CURSOR_CHARS_MAX:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def _refused() -> Invalid:
    return Invalid.field("cursor", "cursor_format", "not a cursor this service issued")


def decode_cursor(cursor: str | None) -> int | None:
    """The id after which the next page starts; anything else is refused (422)."""
    if cursor is None:
        return None
    key = _decode(cursor)
    if type(key) is not int or not 0 <= key < 2**63:
        raise _refused()
    return key


def decode_text_cursor(cursor: str | None) -> str | None:
    """The key (a code, an instruction id) after which the next page starts."""
    if cursor is None:
        return None
    key = _decode(cursor)
    if type(key) is not str or not 0 < len(key) <= 64 or text_fault(key) is not None:
        raise _refused()
    return key


LimitQuery = Annotated[int, Query(ge=1, le=LIST_LIMIT_MAX, description="page size (≤ 500)")]
CursorQuery = Annotated[str | None, Query(description="opaque cursor from next_cursor")]


def page_of(rows: list[Any], limit: int, key_of: Any) -> tuple[list[Any], str | None]:
    """Rows fetched with limit + 1 -> (page, next cursor)."""
    if len(rows) > limit:
        return rows[:limit], encode_cursor(key_of(rows[limit - 1]))
    return rows, None
