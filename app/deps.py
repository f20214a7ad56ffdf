"""FastAPI dependencies shared by routers: the session, the clock, the settings."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.clock import Clock
from app.config import Settings

# The sessions opened for the request being served (a list made per request by
# `request_sessions`; the threads of its dependencies and endpoint see the same list).
_OPENED: ContextVar[list[Session] | None] = ContextVar("fundledger_sessions", default=None)


def get_session(request: Request) -> Iterator[Session]:
    """A session per request; the route opens the one transaction (`with session.begin()`)."""
    with request.app.state.session_factory() as session:
        opened = _OPENED.get()
        if opened is not None:
            opened.append(session)
        yield session


@contextmanager
def request_sessions() -> Iterator[None]:
    """Around one request's handling: the sessions it opens are recorded for `releasing`."""
    token = _OPENED.set([])
    try:
        yield
    finally:
        _OPENED.reset(token)


def releasing(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """A sync endpoint that closes the request's sessions (their connections back to the
    pool) as soon as it returns, before FastAPI validates and serialises the answer.

    That validation runs in the thread pool again: a read route (no explicit transaction)
    would otherwise hold its connection while it waits for a thread, and under overload
    every connection sits with a request waiting for a thread while every thread waits for a
    connection (bench/README.md "Load", defect 1). What the endpoint returns was loaded
    before: closing detaches it, loaded attributes stay readable. Async endpoints validate
    in the event loop and are left as they are."""
    if inspect.iscoroutinefunction(endpoint):
        return endpoint

    def released(*args: Any, **kwargs: Any) -> Any:
        try:
            return endpoint(*args, **kwargs)
        finally:
            for session in _OPENED.get() or ():
                session.close()

    return functools.update_wrapper(released, endpoint)


def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# scope="function": the session closes when the endpoint function has run, before the answer
# is sent (not after it, as a dependency with yield would by default); `releasing` closes it
# earlier still, before the answer is validated.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
ClockDep = Annotated[Clock, Depends(get_clock)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
