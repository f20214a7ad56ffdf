"""Jobs (last runs, run again for a date, with the API's refusals) and the alerts inbox
(acknowledge). Operators act; all staff read."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from app.console.listing import Filter, read_query
from app.console.office import actions, forms, labels, queries
from app.console.office.common import (
    Fields,
    OperatorUser,
    StaffUser,
    back_to,
    done,
    page,
    router,
)
from app.db import transaction
from app.deps import ClockDep, SessionDep
from app.errors import DomainError
from app.http import IdPath
from app.pagination import encode_cursor

pages = router()


def _jobs_page(
    request: Request,
    principal: Any,
    session: Any,
    clock: Any,
    *,
    errors: list[str] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    chosen = request.query_params.get("job")
    return page(
        request,
        "office/jobs.html",
        principal,
        {
            "title": "定时任务",
            "jobs": queries.job_list(session, clock),
            "labels": labels,
            "runs": queries.recent_runs(session, chosen if chosen in queries.job_names() else None),
            "chosen": chosen if chosen in queries.job_names() else None,
            "errors": errors or [],
            "form": form or {},
        },
        status=422 if errors else 200,
    )


@pages.get("/jobs")
def jobs_page(
    request: Request, principal: StaffUser, session: SessionDep, clock: ClockDep
) -> Response:
    return _jobs_page(request, principal, session, clock)


def _refusal_text(name: str, error: DomainError, clock: Any) -> list[str]:
    """The API's refusals of a run, in Chinese with the dates they name."""
    rules = {one.rule for one in error.errors}
    job = labels.job(name)
    if "not_after_due_date" in rules or "due_date_only" in rules:
        latest = queries.latest_date(name, clock)
        if "not_after_due_date" in rules:
            return [f"“{job}”今天最晚只能为 {latest:%Y-%m-%d} 运行，不能为更晚的业务日期运行。"]
        return [f"“{job}”只能为今天应运行的业务日期（{latest:%Y-%m-%d}）运行。"]
    return forms.refusal(error, on_missing="没有这个任务")


@pages.post("/jobs/{name}/run")
def run_job(
    request: Request,
    name: str,
    fields: Fields,
    principal: OperatorUser,
    session: SessionDep,
    clock: ClockDep,
) -> Response:
    """Run a job now for a business date (the API's POST /jobs/{name}/run)."""
    form = {**fields, "job": name}
    try:
        day = date.fromisoformat(fields.get("business_date", ""))
    except ValueError:
        errors = ["业务日期：请按“2026-09-01”的格式填写日期"]
        return _jobs_page(request, principal, session, clock, errors=errors, form=form)
    try:
        outcome = actions.run_job(
            request.app.state, clock, name, day, again=fields.get("again") == "1"
        )
    except DomainError as error:
        errors = _refusal_text(name, error, clock)
        return _jobs_page(request, principal, session, clock, errors=errors, form=form)
    if outcome.status == "SKIPPED":
        busy = outcome.detail == "another process runs it"
        return done(f"/console/jobs?job={name}", "skipped_busy" if busy else "skipped_done")
    return done(f"/console/jobs?job={name}", "ran")


# --- alerts -------------------------------------------------------------------------------------


def _alert_filters() -> list[Filter]:
    return [
        Filter(
            "state", "范围", "select", options=[("open", "未解除"), ("all", "全部（含已解除）")]
        ),
        Filter("kind", "类型", "select", options=list(labels.ALERT_KINDS.items())),
    ]


@pages.get("/alerts")
def alerts_page(request: Request, principal: StaffUser, session: SessionDep) -> Response:
    filters = _alert_filters()
    query = read_query(request.query_params, filters)
    rows = queries.alert_page(
        session,
        kind=query.get("kind"),
        open_only=query.get("state") != "all",
        after_id=query.after_id,
        limit=query.limit + 1,
    )
    shown, more = rows[: query.limit], len(rows) > query.limit
    return page(
        request,
        "office/alerts.html",
        principal,
        {
            "title": "告警",
            "filters": filters,
            "query": query,
            "alerts": shown,
            "labels": labels,
            "unacknowledged": queries.count_unacknowledged(session),
            "next_url": (
                query.url("/console/alerts", cursor=encode_cursor(shown[-1].id)) if more else None
            ),
            "first_url": query.url("/console/alerts", cursor=None) if query.cursor else None,
            "errors": query.errors,
        },
        status=422 if query.errors else 200,
    )


@pages.post("/alerts/{alert_id}/acknowledge")
def acknowledge(
    request: Request, alert_id: IdPath, fields: Fields, principal: OperatorUser, clock: ClockDep
) -> Response:
    with transaction(request.app.state.session_factory) as writing:
        actions.acknowledge_alert(writing, alert_id, actor=principal, now=clock.now())
    return done(back_to(fields, "/console/alerts", "/console/"), "acknowledged")
