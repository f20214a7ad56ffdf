"""The action endpoints every payable document kind has, registered from one definition:
`POST <path>/{<id>}/confirm` (hospital, body `confirm_in`), `/dispute` (hospital, body
`dispute_in`), `/recompute` (operator) and `/approve` (accountant). Each runs the kind's flow
in one transaction and answers the document as `out` gives it; the errors are the flow's
(404, 409, 403 as problem details). The endpoints keep the names `confirm`, `dispute`,
`recompute` and `approve`, so their OpenAPI operation ids are those of hand-written routes."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from app.auth.deps import Accountant, Hospital, Operator
from app.deps import ClockDep, SessionDep
from app.http import IdPath
from app.payables.service import Flow

ACTIONS = ("confirm", "dispute", "recompute", "approve")
_KEYWORD = inspect.Parameter.KEYWORD_ONLY


def _run(flow: Flow[Any], action: str, document_id: int, values: dict[str, Any]) -> Any:
    session, actor, now = values["session"], values["actor"], values["clock"].now()
    if action == "confirm":
        reference = values["body"].reference
        return flow.confirm(session, document_id, reference=reference, actor=actor, now=now)
    if action == "dispute":
        reason = values["body"].reason
        return flow.dispute(session, document_id, reason, actor=actor, now=now)
    if action == "recompute":
        return flow.recompute(session, document_id, actor=actor, now=now)
    assert action == "approve", action
    return flow.approve(session, document_id, actor=actor, now=now)


def add_document_actions(
    router: APIRouter,
    *,
    path: str,
    id_name: str,
    flow: Flow[Any],
    out: Callable[[Any], BaseModel],
    out_type: type[BaseModel],
    confirm_in: type[BaseModel],
    dispute_in: type[BaseModel],
    docs: Mapping[str, str],
) -> None:
    """Register the four action endpoints of the kind on `router` under `path` (e.g.
    "/statements", the document id named `id_name` in the path); `docs` gives each its
    description."""
    roles = {"confirm": Hospital, "dispute": Hospital, "recompute": Operator}
    bodies = {"confirm": confirm_in, "dispute": dispute_in}
    for action in ACTIONS:
        parameters = [inspect.Parameter(id_name, _KEYWORD, annotation=IdPath)]
        if action in bodies:
            parameters.append(inspect.Parameter("body", _KEYWORD, annotation=bodies[action]))
        parameters += [
            inspect.Parameter("actor", _KEYWORD, annotation=roles.get(action, Accountant)),
            inspect.Parameter("session", _KEYWORD, annotation=SessionDep),
            inspect.Parameter("clock", _KEYWORD, annotation=ClockDep),
        ]
        endpoint = _endpoint(flow, action, id_name, out)
        endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            parameters, return_annotation=out_type
        )
        endpoint.__doc__ = docs.get(action)
        router.post(f"{path}/{{{id_name}}}/{action}", response_model=out_type)(endpoint)


def _endpoint(
    flow: Flow[Any], action: str, id_name: str, out: Callable[[Any], BaseModel]
) -> Callable[..., Any]:
    """The endpoint of one action: FastAPI calls it with the parameters of its signature."""

    def endpoint(**values: Any) -> Any:
        with values["session"].begin():
            return out(_run(flow, action, values[id_name], values))

    endpoint.__name__ = endpoint.__qualname__ = action
    return endpoint
