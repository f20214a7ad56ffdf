"""Console sessions and CSRF at the edge: the cookie, the current person, the route class that
checks every POST's CSRF token and turns refusals into Chinese HTML pages.

- Session cookie: HttpOnly, SameSite=Lax, Path=/console, Secure in production; it holds a
  random id, the database only its SHA-256 (app.auth.logins).
- CSRF: every POST form carries `csrf_token`. With a session it is derived from the session id;
  the login form (no session yet) uses a double-submit cookie. Missing or wrong: 403 page.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.auth import logins
from app.auth.deps import Principal
from app.console.templating import error_page
from app.db import transaction
from app.errors import BUSY_RETRY_AFTER_S, DomainError, Forbidden
from app.http import StrictJSONRoute
from app.inputs import check_parameters

SESSION_COOKIE = "fundledger_session"
LOGIN_CSRF_COOKIE = "fundledger_login_csrf"
COOKIE_PATH = "/console"
LOGIN_PATH = "/console/login"
TOKEN_CHARS_MAX = 100
FORM_FIELDS_MAX = 50

# What the console's pages may load: only themselves (no script at all, no other origin).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


class LoginRequired(Exception):
    """No live session: the page redirects to the login form (then back)."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__("login required")
        self.expired = expired


class CsrfRefused(Exception):
    """A POST without the right CSRF token."""


def session_token(request: Request) -> str | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > TOKEN_CHARS_MAX:
        return None
    return token


def secure_cookies(request: Request) -> bool:
    return bool(request.app.state.settings.environment == "production")


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path=COOKIE_PATH,
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path=COOKIE_PATH,
    )


def login_csrf(request: Request) -> tuple[str, bool]:
    """The login form's CSRF token: the cookie's, or a new one (True: set the cookie)."""
    token = request.cookies.get(LOGIN_CSRF_COOKIE)
    if token and len(token) <= TOKEN_CHARS_MAX:
        return token, False
    return secrets.token_urlsafe(24), True


def set_login_csrf_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
        path=COOKIE_PATH,
    )


def console_user(request: Request) -> Principal:
    """The logged-in person (their session touched); LoginRequired otherwise."""
    token = session_token(request)
    if token is None:
        raise LoginRequired()
    state = request.app.state
    with transaction(state.session_factory) as session:
        principal = logins.resume(
            session,
            token=token,
            now=state.clock.now(),
            idle_timeout_s=state.settings.console_idle_timeout_s,
        )
    if principal is None:
        raise LoginRequired(expired=True)
    request.state.principal = principal
    request.state.csrf = logins.csrf_token(token)
    return principal


ConsoleUser = Annotated[Principal, Depends(console_user)]


def require(*roles: str) -> Callable[[Principal], Principal]:
    """A page for some roles only: the others get the 403 page."""

    def check(principal: ConsoleUser) -> Principal:
        if principal.role not in roles:
            raise Forbidden("此页面不对您的角色开放")
        return principal

    return check


async def check_csrf(request: Request) -> None:
    form = await request.form(max_fields=FORM_FIELDS_MAX)
    # The text rule of the API (no NUL, no lone surrogate) holds for form fields too.
    check_parameters({}, [(k, v) for k, v in form.multi_items() if isinstance(v, str)])
    sent = form.get("csrf_token")
    if request.url.path == LOGIN_PATH:
        expected = request.cookies.get(LOGIN_CSRF_COOKIE)
    else:
        token = session_token(request)
        expected = logins.csrf_token(token) if token else None
    if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent, expected):
        raise CsrfRefused()


def safe_next(path: str | None) -> str:
    """Where to go after login: only a console path of this site (no open redirect)."""
    if path and path.startswith("/console/") and not path.startswith("//") and "\\" not in path:
        return path
    return "/console/"


def _login_redirect(request: Request, expired: bool) -> Response:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    if request.method != "GET":
        target = "/console/"
    location = f"{LOGIN_PATH}?next={quote(target, safe='')}"
    if expired:
        location += "&expired=1"
    response = RedirectResponse(location, status_code=303)
    if expired:
        clear_session_cookie(request, response)
    return response


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class ConsoleRoute(StrictJSONRoute):
    """Checks the CSRF token of every POST before the page runs (after the text rule of
    StrictJSONRoute, which holds for form fields too); refusals become pages."""

    def get_route_handler(self) -> Handler:
        # APIRoute's handler, not StrictJSONRoute's: pages take forms, not JSON, and the form
        # read by the CSRF check must stay the one the page reads (one body stream).
        original = APIRoute.get_route_handler(self)

        async def handler(request: Request) -> Response:
            try:
                check_parameters(request.path_params, request.query_params.multi_items())
                if request.method == "POST":
                    await check_csrf(request)
                response = await original(request)
            except LoginRequired as refusal:
                response = _login_redirect(request, refusal.expired)
            except CsrfRefused:
                response = error_page(request, 403, "表单已失效，请返回上一页刷新后重新提交。")
            except DomainError as error:
                response = error_page(request, error.status, error.detail)
            except RequestValidationError:
                response = error_page(request, 422, "请求的参数不正确。")
            except StarletteHTTPException as error:
                response = error_page(request, error.status_code, str(error.detail))
            except PoolTimeout:
                # every database connection stayed busy: overload, a page and Retry-After
                # (the API answers the same as problem JSON, app/errors.py)
                detail = f"系统繁忙，请 {BUSY_RETRY_AFTER_S} 秒后重试。"
                response = error_page(request, 503, detail)
                response.headers["Retry-After"] = str(BUSY_RETRY_AFTER_S)
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            response.headers.setdefault("Cache-Control", "no-store")
            return response

        return handler
