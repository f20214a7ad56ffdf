"""Smart audit (智能审核) for the operator: the results list, the import of a result file
(preview, per-row errors in Chinese, nothing stored unless every row is accepted), and the
appeals to review (复审) or settle in consultation (合议). All staff read."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.console.listing import Column, Filter, read_query
from app.console.office import actions, audit_file, forms, labels, queries
from app.console.office.common import (
    Fields,
    OperatorUser,
    StaffUser,
    Upload,
    done,
    page,
    router,
)
from app.console.statuses import LABELS
from app.db import transaction
from app.deps import ClockDep, SessionDep
from app.errors import DomainError
from app.money import yuan
from app.monthly.models import AuditItem
from app.monthly.schemas import ConsultationIn, ReviewIn
from app.pagination import encode_cursor

pages = router()
AUDIT_STATUSES = ("INITIAL", "APPEALED", "REVIEWED", "FINAL")
APPEALS_SHOWN = 500


def _detail_url(item: AuditItem, setl_id: str) -> str:
    return f"/console/audits/{item.fixmedins_code}/{setl_id}/{item.rule_code}"


def _columns() -> list[Column]:
    return [
        Column("机构编号", lambda r: r[0].fixmedins_code),
        Column("结算ID", lambda r: r[1], link=lambda r: _detail_url(r[0], r[1])),
        Column("规则编码", lambda r: r[0].rule_code),
        Column("结算期", lambda r: r[0].period, "period"),
        Column("初审扣款", lambda r: r[0].initial_amount_fen, "money"),
        Column("当前扣款", lambda r: queries.current_amount(r[0]), "money"),
        Column("状态", lambda r: r[0].status, "status"),
        Column("申诉截止", lambda r: r[0].appeal_deadline, "date"),
    ]


def _filters() -> list[Filter]:
    return [
        Filter("fixmedins_code", "机构编号", "text", pattern=r"[A-Z0-9]{1,12}"),
        Filter("status", "状态", "select", options=[(s, LABELS[s][0]) for s in AUDIT_STATUSES]),
        Filter("period", "结算期", "month"),
    ]


@pages.get("/audits")
def audits_page(request: Request, principal: StaffUser, session: SessionDep) -> Response:
    filters = _filters()
    query = read_query(request.query_params, filters)
    rows = queries.audit_page(
        session,
        fixmedins_code=query.get("fixmedins_code"),
        status=query.get("status"),
        period=query.get("period"),
        after_id=query.after_id,
        limit=query.limit + 1,
    )
    shown, more = rows[: query.limit], len(rows) > query.limit
    return page(
        request,
        "office/audits.html",
        principal,
        {
            "title": "智能审核结果",
            "filters": filters,
            "query": query,
            "columns": _columns(),
            "rows": shown,
            "next_url": (
                query.url("/console/audits", cursor=encode_cursor(shown[-1][0].id))
                if more
                else None
            ),
            "first_url": query.url("/console/audits", cursor=None) if query.cursor else None,
            "errors": query.errors,
        },
        status=422 if query.errors else 200,
    )


# --- import ----------------------------------------------------------------------------------


def _outcome_errors(result: dict[str, Any]) -> list[str]:
    """A refused row of the bulk path in Chinese (rules of app.monthly.audits)."""
    messages = []
    for error in result.get("errors", []):
        rule = error.get("rule", "")
        if rule == "not-found":
            messages.append("没有这笔结算（请核对机构编号与结算ID）")
        elif rule == "conflict":
            messages.append("这笔结算的这条规则已有内容不同的审核结果")
        else:
            messages.append(
                forms.field_message(error.get("field", ""), rule, error.get("message", ""))
            )
    return messages or ["未能导入"]


def _apply(
    session: Session, parsed: audit_file.Parsed, principal: Any, clock: Any
) -> tuple[int, int]:
    """Run the API's bulk path on the rows that passed their own checks; a refused row gets
    its errors. Returns (new, existing)."""
    rows = [row for row in parsed.rows if row.item is not None and not row.errors]
    items = [row.item for row in rows if row.item is not None]
    if not items:
        return 0, 0
    results = actions.import_audits(session, items, actor=principal, now=clock.now())
    created = existing = 0
    for row, result in zip(rows, results, strict=True):
        if result["outcome"] == "refused":
            row.errors += _outcome_errors(result)
        elif result["outcome"] == "created":
            created += 1
        else:
            existing += 1
    return created, existing


def _dry_run(
    request: Request, parsed: audit_file.Parsed, principal: Any, clock: Any
) -> tuple[int, int]:
    """The import in a transaction that is always rolled back: each row's real outcome."""
    session = request.app.state.session_factory()
    try:
        session.begin()
        return _apply(session, parsed, principal, clock)
    finally:
        session.rollback()
        session.close()


def _import_page(
    request: Request,
    principal: Any,
    *,
    parsed: audit_file.Parsed | None = None,
    filename: str = "",
    counts: tuple[int, int] = (0, 0),
) -> Response:
    refused = parsed is not None and not parsed.ok
    return page(
        request,
        "office/audit_import.html",
        principal,
        {
            "title": "导入智能审核结果",
            "parsed": parsed,
            "filename": filename,
            "created": counts[0],
            "existing": counts[1],
            "payload": audit_file.payload(parsed) if parsed and parsed.ok else "",
            "bad_rows": [row for row in parsed.rows if row.errors] if parsed else [],
            "rows_max": audit_file.ROWS_MAX,
            "headings": audit_file.TEMPLATE_HEADINGS,
            "errors": parsed.errors if parsed else [],
        },
        status=422 if refused else 200,
    )


@pages.get("/audits/import")
def import_form(request: Request, principal: OperatorUser) -> Response:
    return _import_page(request, principal)


@pages.get("/audits/import/template.csv")
def import_template(_: OperatorUser) -> Response:
    return Response(
        audit_file.template_csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": "attachment; filename*=UTF-8''audit-results.csv"},
    )


@pages.post("/audits/import")
def import_preview(
    request: Request, upload: Upload, principal: OperatorUser, clock: ClockDep
) -> Response:
    """Check the file: its rows, then each row through the bulk path, rolled back."""
    if upload is None:
        parsed = audit_file.Parsed(rows=[], errors=["请选择要导入的文件（.xlsx 或 .csv）"])
        return _import_page(request, principal, parsed=parsed)
    filename, content = upload
    parsed = audit_file.parse(filename, content)
    counts = (0, 0) if parsed.errors else _dry_run(request, parsed, principal, clock)
    return _import_page(request, principal, parsed=parsed, filename=filename, counts=counts)


class _Refused(Exception):
    """Some row was refused at confirmation: the whole import is rolled back."""


@pages.post("/audits/import/confirm")
def import_confirm(
    request: Request, fields: Fields, principal: OperatorUser, clock: ClockDep
) -> Response:
    """Store every row, or none: one transaction, rolled back when any row is refused."""
    parsed = audit_file.from_payload(fields.get("payload", ""))
    if parsed.ok:
        try:
            with transaction(request.app.state.session_factory) as writing:
                _apply(writing, parsed, principal, clock)
                if not parsed.ok:
                    raise _Refused()
            return done("/console/audits", "imported")
        except _Refused:
            pass
    return _import_page(request, principal, parsed=parsed, filename=fields.get("filename", ""))


# --- one result; appeals ---------------------------------------------------------------------


def _item_page(
    request: Request,
    principal: Any,
    session: Session,
    key: tuple[str, str, str],
    *,
    errors: list[str] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    item = queries.audit_item(session, *key)
    return page(
        request,
        "office/audit_item.html",
        principal,
        {
            "title": f"审核结果 {key[1]} · {key[2]}",
            "item": item,
            "setl_id": key[1],
            "steps": queries.audit_steps(session, item),
            "current": queries.current_amount(item),
            "initial_yuan": yuan(item.initial_amount_fen),
            "review_yuan": "" if item.review_amount_fen is None else yuan(item.review_amount_fen),
            "labels": labels,
            "action_url": f"/console/audits/{key[0]}/{key[1]}/{key[2]}",
            "errors": errors or [],
            "form": form or {},
        },
        status=422 if errors else 200,
    )


@pages.get("/audits/{code}/{setl_id}/{rule_code}")
def audit_item(
    request: Request,
    code: str,
    setl_id: str,
    rule_code: str,
    principal: StaffUser,
    session: SessionDep,
) -> Response:
    return _item_page(request, principal, session, (code, setl_id, rule_code))


@pages.post("/audits/{code}/{setl_id}/{rule_code}/review")
def review(
    request: Request,
    code: str,
    setl_id: str,
    rule_code: str,
    fields: Fields,
    principal: OperatorUser,
    session: SessionDep,
    clock: ClockDep,
) -> Response:
    """Re-review (复审) of an appealed result: final, or on to consultation."""
    key = (code, setl_id, rule_code)
    data, errors = forms.parse(ReviewIn, fields)
    if data is not None:
        try:
            with transaction(request.app.state.session_factory) as writing:
                actions.review(
                    writing, key, data.amount, data.final, actor=principal, now=clock.now()
                )
            return done(f"/console/audits/{code}/{setl_id}/{rule_code}", "reviewed")
        except DomainError as error:
            errors = forms.refusal(error, on_conflict="只有“申诉中”的审核结果才能复审")
    return _item_page(request, principal, session, key, errors=errors, form=fields)


@pages.post("/audits/{code}/{setl_id}/{rule_code}/consultation")
def consultation(
    request: Request,
    code: str,
    setl_id: str,
    rule_code: str,
    fields: Fields,
    principal: OperatorUser,
    session: SessionDep,
    clock: ClockDep,
) -> Response:
    """Consultation (合议) fixes the final amount of a review that was not final."""
    key = (code, setl_id, rule_code)
    data, errors = forms.parse(ConsultationIn, fields)
    if data is not None:
        try:
            with transaction(request.app.state.session_factory) as writing:
                actions.consultation(writing, key, data.amount, actor=principal, now=clock.now())
            return done(f"/console/audits/{code}/{setl_id}/{rule_code}", "consulted")
        except DomainError as error:
            errors = forms.refusal(error, on_conflict="只有复审未终审（待合议）的结果才能合议")
    return _item_page(request, principal, session, key, errors=errors, form=fields)


@pages.get("/appeals")
def appeals_page(request: Request, principal: StaffUser, session: SessionDep) -> Response:
    """Appeals waiting: appealed results to review, reviewed ones to settle in consultation."""

    def waiting(status: str) -> list[tuple[AuditItem, str]]:
        return queries.audit_page(
            session,
            fixmedins_code=None,
            status=status,
            period=None,
            after_id=None,
            limit=APPEALS_SHOWN,
        )

    return page(
        request,
        "office/appeals.html",
        principal,
        {
            "title": "申诉复审",
            "appealed": waiting("APPEALED"),
            "reviewed": waiting("REVIEWED"),
            "columns": _columns(),
            "shown_max": APPEALS_SHOWN,
        },
    )
