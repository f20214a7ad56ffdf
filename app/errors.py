"""Domain exceptions and their RFC 9457 problem JSON (API.md "Errors")."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("fundledger.errors")

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class FieldError:
    field: str
    rule: str
    message: str


class DomainError(Exception):
    """Base of every refusal the service gives on purpose."""

    status = 400
    title = "Bad request"
    code = "bad-request"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[FieldError] | None = None,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        if code is not None:
            self.code = code
        self.extra = extra or {}


class Invalid(DomainError):
    status = 422
    title = "Invalid input"
    code = "validation"

    @classmethod
    def field(cls, field: str, rule: str, message: str) -> Invalid:
        return cls(f"{field}: {message}", errors=[FieldError(field, rule, message)])


class NotFound(DomainError):
    status = 404
    title = "Not found"
    code = "not-found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"
    code = "conflict"


class Unauthorized(DomainError):
    status = 401
    title = "Unauthorized"
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"
    code = "forbidden"


# Seconds a client waits before sending again after a 503 (every database connection busy).
BUSY_RETRY_AFTER_S = 2


class TooLarge(DomainError):
    status = 413
    title = "Content too large"
    code = "too-large"


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    code: str,
    errors: list[FieldError] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = [asdict(error) for error in errors]
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_of(loc: tuple[Any, ...]) -> str:
    parts = [str(part) for part in loc if part not in ("body", "query", "path", "header")]
    # Pydantic appends the validator's name for function validators; keep the field path.
    parts = [part for part in parts if not part.startswith("function-")]
    return ".".join(parts) or "body"


def validation_errors(exc: RequestValidationError) -> list[FieldError]:
    errors = []
    for error in exc.errors():
        rule = str(error.get("type", "invalid"))
        message = str(error.get("msg", "invalid value"))
        if rule == "json_invalid":
            context = error.get("ctx") or {}
            message = f"malformed JSON: {context.get('error', 'cannot be parsed')}"
            errors.append(FieldError("body", rule, message))
            continue
        errors.append(FieldError(_field_of(tuple(error.get("loc", ()))), rule, message))
    return errors


DETAIL_ERRORS_MAX = 5


def validation_detail(errors: list[FieldError]) -> str:
    """The detail agrees with `errors`: every error when there are a few, else the first ones
    and how many more `errors` lists."""
    shown = "; ".join(f"{e.field}: {e.message}" for e in errors[:DETAIL_ERRORS_MAX])
    if len(errors) <= DETAIL_ERRORS_MAX:
        return shown
    return f"{len(errors)} errors: {shown}; and {len(errors) - DETAIL_ERRORS_MAX} more in `errors`"


# 23505: a unique index refused a row that a concurrent request committed after this one
# looked (PostgreSQL, READ COMMITTED; SQLite serialises writers): every write is idempotent on
# its business key, so the same request sent again gets its true outcome (replay or 409).
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001", "55P03", "23505"})


def _transient(exc: DBAPIError) -> bool:
    state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if state in TRANSIENT_SQLSTATES:
        return True
    return "database is locked" in str(exc.orig)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    def _domain(_: Request, exc: DomainError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return problem(
            exc.status,
            exc.title,
            exc.detail,
            code=exc.code,
            errors=exc.errors,
            extra=exc.extra,
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(exc)
        detail = validation_detail(errors)
        return problem(422, "Invalid input", detail, code="validation", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {404: "Not found", 405: "Method not allowed", 413: "Content too large"}.get(
            exc.status_code, "HTTP error"
        )
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request.app, request.url.path))
        return problem(
            exc.status_code,
            title,
            str(exc.detail),
            code=f"http-{exc.status_code}",
            headers=headers or None,
        )

    @app.exception_handler(PoolTimeout)
    def _pool_timeout(_: Request, exc: PoolTimeout) -> JSONResponse:
        # Every connection of the process's pool stayed busy for FUNDLEDGER_DB_POOL_TIMEOUT_S:
        # overload, not a fault. The transaction that waited for a connection never started;
        # a step of the request committed before it stands (the bank callback stores its
        # event first), and every write is idempotent on its business key, so sending the
        # same request again is safe (docs/operations.md "Capacity").
        log.warning("database pool exhausted: %s", str(exc).splitlines()[0][:200])
        return busy()

    @app.exception_handler(DBAPIError)
    def _database(_: Request, exc: DBAPIError) -> JSONResponse:
        # A deadlock or serialization failure (PostgreSQL 40P01/40001) or a busy SQLite
        # database: the transaction was rolled back whole; the same request may be sent again.
        if _transient(exc):
            log.warning("transient database conflict: %s", str(exc.orig)[:200])
            return problem(
                409,
                "Conflict",
                "a concurrent request held the same rows; nothing was written: send it again",
                code="concurrent-conflict",
                headers={"Retry-After": "1"},
            )
        log.exception("unexpected database error", exc_info=exc)
        return internal_error()


def busy() -> JSONResponse:
    return problem(
        503,
        "Service unavailable",
        "the service is overloaded (every database connection stayed busy): "
        f"send the request again after {BUSY_RETRY_AFTER_S} s",
        code="overloaded",
        headers={"Retry-After": str(BUSY_RETRY_AFTER_S)},
    )


def internal_error() -> JSONResponse:
    return problem(500, "Internal error", "an unexpected error occurred", code="internal")


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method some route serves at `path` (the 405 answer's `Allow`, RFC 9110)."""
    methods: set[str] = set()
    for route in iter_route_contexts(app.routes):
        regex = getattr(route, "path_regex", None)
        if regex is not None and route.methods and regex.match(path):
            methods |= set(route.methods)
    return sorted(methods)


class CatchAllMiddleware:
    """Outermost: an unexpected exception is logged and answered with a 500 problem here.

    Starlette's own last-resort handler answers and then re-raises the exception to the
    server, which closes the connection: the client's next keep-alive request was reset. Here
    the exception stops; only one raised after the answer started still goes up."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:
            log.exception("unexpected error", exc_info=exc)
            if started:
                raise
            await internal_error()(scope, receive, send)
