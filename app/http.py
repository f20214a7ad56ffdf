"""HTTP plumbing shared by every router: strict JSON bodies and request size limits."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Path, Request, Response
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.deps import releasing, request_sessions
from app.errors import problem
from app.inputs import bounded, check_json, check_json_types, check_parameters

# A path id: a positive BIGINT (a larger number is a 422 naming the parameter, not a 500).
IdPath = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _parse_float(literal: str) -> Decimal:
    # A JSON number keeps the digits it was written with, as a Decimal: the amount validators
    # refuse an exponent (Decimal keeps it: "1E+2"); text fields refuse a number outright.
    return Decimal(literal)


def _parse_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not valid JSON", name, 0)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise json.JSONDecodeError(f"duplicate key {key!r}", key, 0)
        result[key] = value
    return result


def strict_loads(body: bytes | str) -> Any:
    """JSON with exact decimals, no NaN/Infinity and no duplicate keys."""
    try:
        return json.loads(
            body,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
            object_pairs_hook=_no_duplicate_keys,
        )
    except json.JSONDecodeError:
        raise
    except (ValueError, RecursionError) as error:
        # An integer of thousands of digits, nesting beyond the parser's depth: refused as
        # malformed JSON (422 json_invalid), like any other unreadable body.
        raise json.JSONDecodeError(f"unreadable JSON: {type(error).__name__}", "", 0) from None


class StrictJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = strict_loads(await self.body())
        return self._json


class StrictJSONRoute(APIRoute):
    """Route whose JSON body is parsed by strict_loads (amounts never pass through float) and
    whose path, query and body strings obey the text rule (app/inputs.py) before anything
    else reads them; its endpoint's validated arguments are checked against the bounds of
    app/inputs.py (dates, integers, years, periods) before it runs. Every route of the app
    uses this class (tests/api/test_input_rule.py)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        labels: dict[str, str] = {}
        # releasing: the request's sessions close when the endpoint returns (app/deps.py)
        super().__init__(path, releasing(bounded(endpoint, labels)), **kwargs)
        for field in (*self.dependant.path_params, *self.dependant.query_params):
            labels[field.name] = field.alias

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()
        has_body = self.body_field is not None
        body_type = self.body_field.field_info.annotation if self.body_field else None

        async def handler(request: Request) -> Response:
            strict = StrictJSONRequest(request.scope, request.receive)
            check_parameters(strict.path_params, strict.query_params.multi_items())
            if has_body and _is_json(strict):
                try:
                    parsed = await strict.json()
                except json.JSONDecodeError:
                    pass  # FastAPI parses it again and answers json_invalid
                else:
                    check_json(parsed)
                    check_json_types(body_type, parsed)
            with request_sessions():
                return await original(strict)

        return handler


def _is_json(request: Request) -> bool:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


class BodyLimitMiddleware:
    """413 for bodies above the limit of their path, by Content-Length or by counting."""

    def __init__(self, app: ASGIApp, *, default_bytes: int, limits: dict[str, int]) -> None:
        self.app = app
        self.default_bytes = default_bytes
        self.limits = limits  # path suffix -> limit

    def limit_for(self, path: str) -> int:
        for suffix, limit in self.limits.items():
            if path.endswith(suffix):
                return limit
        return self.default_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        # Read the body up front (at most `limit` bytes are ever held), then replay it:
        # FastAPI turns errors raised while it reads the body into a 400.
        chunks: list[bytes] = []
        received = 0
        more_body = True
        while more_body:
            message = await receive()
            if message["type"] != "http.request":
                return  # client went away
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                await _too_large(limit)(scope, receive, send)
                return
            chunks.append(chunk)
            more_body = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _too_large(limit: int) -> Response:
    # The rest of the body is never read, so the connection cannot carry another request:
    # say so (the server then closes it), rather than leave the client to find it reset.
    return problem(
        413,
        "Content too large",
        f"the request body exceeds {limit} bytes",
        code="too-large",
        headers={"Connection": "close"},
    )
