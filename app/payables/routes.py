"""The action endpoints every payable document kind has, registered from one definition:
`POST <path>/{<id>}/confirm` (hospital, body `confirm_in`), `/dispute` (hospital, body
`dispute_in`), `/recompute` (operator) and `/approve` (accountant). Each runs the kind's flow
in one transaction and answers the document as `out` gives it; the errors are the flow's
(404, 409, 403 as problem details). The endpoints keep the names `confirm`, `dispute`,
`recompute` and `approve`, so their OpenAPI operation ids are those of hand-written routes."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from fastapi import APIRouter
from pydantic import BaseModel

from app.auth.deps import Accountant, Hospital, Operator, scope
from app.auth.principal import Principal
from app.deps import ClockDep, SessionDep
from app.http import IdPath
from app.pagination import Page, page_of
from app.payables.service import Flow

D = TypeVar("D")
Out = TypeVar("Out", bound=BaseModel)
ACTIONS = ("confirm", "dispute", "recompute", "approve")
_KEYWORD = inspect.Parameter.KEYWORD_ONLY


# The payable-document columns every kind's answer carries under their own names.
FLOW_FIELDS = (
    "id",
    "region_code",
    "insutype",
    "fixmedins_code",
    "status",
    "version",
    "computed_at",
    "computed_by",
    "confirmed_at",
    "dispute_reason",
    "approved_at",
    "approved_by",
    "instruction_id",
    "payment_result_at",
)


def flow_fields(document: Any) -> dict[str, Any]:
    """The document's flow columns (`FLOW_FIELDS`), for its answer's constructor."""
    return {name: getattr(document, name) for name in FLOW_FIELDS}


def hospital_scope(principal: Principal, fixmedins_code: str | None) -> str | None:
    """The institution a list shows: a hospital sees only its own (another institution's
    code is a 404, never its data); staff see the one asked for, or all."""
    if not principal.is_hospital:
        return fixmedins_code
    if fixmedins_code is not None:
        scope(principal, fixmedins_code)
    return principal.fixmedins_code


def page_out(rows: Sequence[D], limit: int, out: Callable[[D], Out]) -> Page[Out]:
    """One page of documents (`rows` holds up to `limit` + 1, the extra one says there is a
    next page) answered through `out`."""
    page, next_cursor = page_of(list(rows), limit, lambda row: row.id)
    return Page(items=[out(row) for row in page], next_cursor=next_cursor)


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
    flow: Flow[Any],
    out: Callable[[Any], BaseModel],
    bodies: tuple[type[BaseModel], type[BaseModel]],
    docs: Mapping[str, str],
    *,
    path: str | None = None,
    id_name: str | None = None,
) -> None:
    """Register the four action endpoints of the flow's kind on `router`: under
    `/<name>s/{<name>_id}/` ("/statements/{statement_id}/confirm"), or `path` and `id_name`
    where given, answering `out(document)` (its return annotation is the response model),
    with the (confirm, dispute) request bodies; `docs` gives each endpoint its description."""
    name = flow.kind.name
    path, id_name = path or f"/{name}s", id_name or f"{name}_id"
    out_type = inspect.signature(out, eval_str=True).return_annotation
    roles = {"confirm": Hospital, "dispute": Hospital, "recompute": Operator}
    body_of = dict(zip(("confirm", "dispute"), bodies, strict=True))
    for action in ACTIONS:
        parameters = [inspect.Parameter(id_name, _KEYWORD, annotation=IdPath)]
        if action in body_of:
            parameters.append(inspect.Parameter("body", _KEYWORD, annotation=body_of[action]))
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
