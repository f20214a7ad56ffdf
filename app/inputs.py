"""The one input rule (docs/rules.md "Input"): text, years, dates, periods and times at the edge.

Every string that reaches the database, wherever it comes from (path, query, JSON body, the
bank's signed callback), is refused with 422 when it holds a NUL character
(`no_nul_character`: PostgreSQL cannot store one, SQLite would) or a lone UTF-16 surrogate
(`valid_unicode`: it cannot be encoded as UTF-8). `StrictJSONRoute` applies the text rule to
every route's path, query and body; the bank callback applies it after the signature.

Years, dates and periods are bounded to the calendar's range (2000–2099), and times carry an
explicit offset: a number or an offset-less text is not a time. `check_values` applies the
bounds to every validated argument of every route (StrictJSONRoute wraps each endpoint), so a
route added later is bounded too: every date and time (by type), every integer within BIGINT
(by type), every `year` within 2000–2099 and every `period` or `month` a `YYYY-MM` in
2000–2099 (by name, in parameters and in body fields alike).
"""

from __future__ import annotations

import functools
import inspect
import re
import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    PlainValidator,
    WrapValidator,
)
from pydantic_core import PydanticCustomError

from app.errors import FieldError, Invalid

YEAR_MIN = 2000
YEAR_MAX = 2099  # the working-day calendar's last year (app/workdays)
DAY_MIN = date(YEAR_MIN, 1, 1)
DAY_MAX = date(YEAR_MAX, 12, 31)
INT_MAX = 2**63 - 1  # BIGINT
ERRORS_MAX = 20

_SURROGATE = re.compile("[\ud800-\udfff]")


def text_fault(text: str) -> tuple[str, str] | None:
    """(rule, message) when `text` breaks the text rule, else None."""
    if "\x00" in text:
        return "no_nul_character", "must not contain a NUL character (U+0000)"
    if _SURROGATE.search(text):
        return "valid_unicode", "must be valid Unicode (a lone surrogate is not)"
    return None


def _printable(key: str) -> str:
    # A refused key is named without its offending characters (a lone surrogate cannot even
    # be written into the JSON answer).
    return key.replace("\x00", "\\u0000").encode("utf-8", "backslashreplace").decode("utf-8")


def _faults(value: Any, path: str) -> Iterator[FieldError]:
    if isinstance(value, str):
        fault = text_fault(value)
        if fault is not None:
            yield FieldError(path or "body", *fault)
    elif isinstance(value, dict):
        for key, item in value.items():
            fault = text_fault(key)
            named = f"{path}.{_printable(key)}" if path else _printable(key)
            if fault is not None:
                yield FieldError(named, fault[0], f"field name {fault[1]}")
            yield from _faults(item, named)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _faults(item, f"{path}.{index}" if path else str(index))


def _refuse(faults: Iterable[FieldError]) -> None:
    found = []
    for fault in faults:
        found.append(fault)
        if len(found) == ERRORS_MAX:
            break
    if found:
        detail = "; ".join(f"{f.field}: {f.message}" for f in found[:5])
        raise Invalid(detail, errors=found)


def check_json(value: Any) -> None:
    """Every string and key of a parsed JSON body, named by its path (`items.0.setl_id`)."""
    _refuse(_faults(value, ""))


def check_parameters(path_params: dict[str, Any], query: Iterable[tuple[str, str]]) -> None:
    """Path and query parameters, named as the route names them."""

    def faults() -> Iterator[FieldError]:
        for name, value in path_params.items():
            if isinstance(value, str):
                yield from _faults(value, name)
        for name, value in query:
            fault = text_fault(name)
            if fault is not None:
                yield FieldError(_printable(name), fault[0], f"parameter name {fault[1]}")
            yield from _faults(value, _printable(name))

    _refuse(faults())


# -- JSON types of a body ------------------------------------------------------------------------

_CUSTOM = (BeforeValidator, PlainValidator, WrapValidator)


def _type_faults(annotation: Any, metadata: list[Any], raw: Any, path: str) -> Iterator[FieldError]:
    """A body field declared `bool` takes a JSON boolean, one declared `int` a JSON integer and
    one declared as a model a JSON object: pydantic would also read 0/1/"yes" as booleans, true
    or "5" as integers and a number as an object. Types with their own input rules (amounts,
    ratios, scores) are left to those rules."""
    if raw is None or any(isinstance(item, _CUSTOM) for item in metadata):
        return
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *extra = get_args(annotation)
        yield from _type_faults(base, [*metadata, *extra], raw, path)
    elif origin in (Union, types.UnionType):
        options = [option for option in get_args(annotation) if option is not type(None)]
        if len(options) == 1:
            yield from _type_faults(options[0], metadata, raw, path)
    elif annotation is bool:
        if not isinstance(raw, bool):
            yield FieldError(path or "body", "bool_type", "must be a JSON boolean (true or false)")
    elif annotation is int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            yield FieldError(path or "body", "int_type", "must be a JSON integer")
    elif origin is list and isinstance(raw, list):
        (item,) = get_args(annotation)[:1] or (Any,)
        for index, value in enumerate(raw):
            yield from _type_faults(item, [], value, f"{path}.{index}" if path else str(index))
    elif _is_model(annotation):
        if not isinstance(raw, dict):
            # FastAPI validates bodies with from_attributes: a JSON number (a Decimal here)
            # would pass for an object whose fields are all optional.
            yield FieldError(path or "body", "model_type", "must be a JSON object")
            return
        for name, info in annotation.model_fields.items():
            key = info.alias or name
            if key in raw:
                child = f"{path}.{key}" if path else key
                yield from _type_faults(info.annotation, info.metadata, raw[key], child)


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def check_json_types(model: Any, raw: Any) -> None:
    """The JSON types of a parsed body against the body's model (see _type_faults)."""
    _refuse(_type_faults(model, [], raw, ""))


# -- years, dates, periods, times ---------------------------------------------------------------


def _day_in_range(value: date) -> date:
    if not DAY_MIN <= value <= DAY_MAX:
        raise PydanticCustomError(
            "date_range", "must be between {min} and {max}", {"min": DAY_MIN, "max": DAY_MAX}
        )
    return value


_NUMBER_TEXT = re.compile(r"^\s*[+-]?[0-9]+(\.[0-9]*)?\s*$")


def _moment_text(value: Any) -> Any:
    # pydantic reads a number, or a text of digits, as unix seconds (in UTC): not a time here.
    if isinstance(value, datetime) or (isinstance(value, str) and not _NUMBER_TEXT.match(value)):
        return value
    raise PydanticCustomError(
        "datetime_type",
        "must be an ISO 8601 time with an offset, such as 2026-03-06T10:10:00+08:00",
    )


def _moment_in_range(value: datetime) -> datetime:
    _day_in_range(value.date())
    return value


Moment = Annotated[
    AwareDatetime,
    BeforeValidator(_moment_text),
    AfterValidator(_moment_in_range),
]
"""An ISO 8601 time with an explicit offset, in 2000–2099 (a number is not a time)."""

PERIOD_PATTERN = r"^20[0-9]{2}-(0[1-9]|1[0-2])$"
"""A period `YYYY-MM` in 2000–2099."""


# -- bounds of validated arguments (every route) ------------------------------------------------

PERIOD_NAMES = frozenset({"period", "month"})
YEAR_NAMES = frozenset({"year"})
_PERIOD = re.compile(PERIOD_PATTERN)


def _value_faults(value: Any, name: str, path: str) -> Iterator[FieldError]:
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, datetime):
        if not DAY_MIN <= value.date() <= DAY_MAX:
            yield FieldError(path, "date_range", f"must be between {DAY_MIN} and {DAY_MAX}")
    elif isinstance(value, date):
        if not DAY_MIN <= value <= DAY_MAX:
            yield FieldError(path, "date_range", f"must be between {DAY_MIN} and {DAY_MAX}")
    elif isinstance(value, int):
        if name in YEAR_NAMES and not YEAR_MIN <= value <= YEAR_MAX:
            yield FieldError(path, "year_range", f"must be between {YEAR_MIN} and {YEAR_MAX}")
        elif not -INT_MAX <= value <= INT_MAX:
            yield FieldError(path, "int_range", "must fit in a signed 64-bit integer")
    elif isinstance(value, str):
        if name in PERIOD_NAMES and not _PERIOD.match(value):
            yield FieldError(path, "period_format", "must be a period YYYY-MM in 2000-2099")
    elif isinstance(value, BaseModel):
        for field_name, info in type(value).model_fields.items():
            label = info.alias or field_name
            child = f"{path}.{label}" if path else label
            yield from _value_faults(getattr(value, field_name), field_name, child)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _value_faults(item, name, f"{path}.{index}" if path else str(index))


def check_values(values: Mapping[str, Any], labels: Mapping[str, str]) -> None:
    """The bounds of the module docstring over an endpoint's validated arguments. `labels` maps
    an argument to the name the request uses (a query alias); a body model's fields are named
    from the body's root, as validation errors name them."""

    def faults() -> Iterator[FieldError]:
        for name, value in values.items():
            label = labels.get(name, name)
            root = "" if isinstance(value, BaseModel) else label
            yield from _value_faults(value, name, root)

    _refuse(faults())


def bounded(endpoint: Callable[..., Any], labels: Mapping[str, str]) -> Callable[..., Any]:
    """`endpoint`, checking its arguments with check_values first. The wrapper keeps the
    endpoint's signature (`__wrapped__`), so FastAPI reads parameters and return type through
    it; `labels` may be filled once the route knows its parameters' aliases."""
    if inspect.iscoroutinefunction(endpoint):

        async def checked_async(*args: Any, **kwargs: Any) -> Any:
            check_values(kwargs, labels)
            return await endpoint(*args, **kwargs)

        return functools.update_wrapper(checked_async, endpoint)

    def checked(*args: Any, **kwargs: Any) -> Any:
        check_values(kwargs, labels)
        return endpoint(*args, **kwargs)

    return functools.update_wrapper(checked, endpoint)
