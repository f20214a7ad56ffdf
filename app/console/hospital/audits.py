"""审核扣款: the institution's audit deductions with their rule, amount and appeal deadline; an
appeal form (reason and a PDF or image scan); files downloadable by the hospital and the
fund's staff."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from app.console import export, listing, statuses
from app.console.hospital import actions, document_queries, messages
from app.console.hospital.common import (
    REASON_CHARS_MAX,
    Hospital,
    form_text,
    notices,
    page_urls,
    see_other,
    today,
)
from app.console.listing import Column, Filter, ListQuery, read_query
from app.console.security import ConsoleRoute, ConsoleUser
from app.console.templating import error_page, render
from app.deps import ClockDep, SessionDep
from app.errors import DomainError
from app.http import IdPath
from app.monthly import attachments
from app.monthly.models import ATTACHMENT_BYTES_MAX

router = APIRouter(prefix="/console/hospital", route_class=ConsoleRoute, include_in_schema=False)
files_router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
PATH = "/console/hospital/audits"
# The appeal's form carries a file: its body limit (app.main) is keyed on this ending.
UPLOAD_SUFFIX = "-upload"
DONE = {
    "appealed": "已提交申诉。医保经办机构复审后，结果会显示在本页。",
    "file": "已保存补充材料。",
}
STEP_NAMES = {
    "initial": "初审扣款",
    "appeal": "医院申诉",
    "review": "复审",
    "consultation": "合议",
    "final": "终审",
}

# The notes the audit steps carry (app.monthly.audits), in Chinese.
STEP_NOTES = {
    "appeal window closed": "申诉期满未申诉，自动终审",
    "final": "复审结论为终审",
    "not final": "复审结论非终审，转合议",
}

COLUMNS = [
    Column("结算ID", lambda r: r.setl_id, link=lambda r: f"{PATH}/{r.id}"),
    Column("规则编码", lambda r: r.item.rule_code),
    Column("扣款原因", lambda r: r.item.reason),
    Column("结算期", lambda r: r.item.period, "period"),
    Column("初审扣款", lambda r: r.item.initial_amount_fen, "money"),
    Column("现扣款", lambda r: r.amount_fen, "money"),
    Column("结果日期", lambda r: r.item.result_date, "date"),
    Column("申诉截止", lambda r: r.item.appeal_deadline, "date"),
    Column("状态", lambda r: r.item.status, "status"),
    Column("附件", lambda r: r.files, "int"),
]


def _filters() -> list[Filter]:
    return [
        Filter(
            "status",
            "状态",
            "select",
            options=[(s, statuses.label(s)[0]) for s in document_queries.AUDIT_STATUSES],
        ),
        Filter("period", "结算期", "month"),
    ]


def _rows(
    session: Session, principal: Hospital, query: ListQuery, *, limit: int, before: int | None
) -> list[document_queries.AuditRow]:
    return document_queries.audit_rows(
        session,
        principal,
        status=query.get("status"),
        period=query.get("period"),
        before_id=before,
        limit=limit,
    )


@router.get("/audits", response_class=HTMLResponse)
def audit_list(request: Request, principal: Hospital, session: SessionDep) -> Response:
    filters = _filters()
    query = read_query(request.query_params, filters)
    rows = _rows(session, principal, query, limit=query.limit + 1, before=query.after_id)
    page, more = rows[: query.limit], len(rows) > query.limit
    return render(
        request,
        "hospital/list.html",
        {
            "title": "审核扣款",
            "heading": "审核扣款",
            "intro": "智能审核的扣款结果。初审扣款可在结果日期后第 5 个工作日 23:59 前申诉，"
            "逾期未申诉的即终审。点击结算ID查看详情并申诉。",
            "filters": filters,
            "query": query,
            "action": PATH,
            "columns": COLUMNS,
            "rows": page,
            "caption": "审核扣款（最新在前）",
            "export_url": query.url(f"{PATH}.xlsx", cursor=None),
            "errors": query.errors,
            **page_urls(query, PATH, page, more),
        },
        status=422 if query.errors else 200,
    )


@router.get("/audits.xlsx")
def audit_xlsx(request: Request, principal: Hospital, session: SessionDep) -> Response:
    filters = _filters()
    query = read_query(request.query_params, filters)
    if query.errors:
        return error_page(request, 422, "；".join(query.errors))
    rows = _rows(session, principal, query, limit=export.EXPORT_ROWS_MAX, before=None)
    caption = f"审核扣款 {listing.caption(filters, query)}".strip()
    book = export.workbook("审核扣款", COLUMNS, rows, caption=caption)
    return export.response(book, "审核扣款.xlsx")


def _detail(
    request: Request,
    session: Session,
    principal: Hospital,
    clock: ClockDep,
    item_id: int,
    *,
    errors: list[str] | None = None,
    status: int = 200,
    reason: str = "",
) -> Response:
    detail = document_queries.audit_detail(session, principal, item_id)
    now = today(clock)
    item = detail.item
    return render(
        request,
        "hospital/audit.html",
        {
            "title": f"审核扣款 {detail.settlement.setl_id}",
            "d": detail,
            "today": now,
            "can_appeal": item.status == "INITIAL" and now <= item.appeal_deadline,
            "can_add_file": item.status == "APPEALED",
            "step_names": STEP_NAMES,
            "step_notes": STEP_NOTES,
            "bytes_max_mb": ATTACHMENT_BYTES_MAX // (1024 * 1024),
            "notices": notices(request, DONE),
            "errors": errors or [],
            "reason": reason,
        },
        status=status,
    )


@router.get("/audits/{item_id}", response_class=HTMLResponse)
def audit_page(
    request: Request, item_id: IdPath, principal: Hospital, session: SessionDep, clock: ClockDep
) -> Response:
    return _detail(request, session, principal, clock, item_id)


def _file_of(upload: UploadFile | None) -> tuple[tuple[str, bytes] | None, list[str]]:
    """The uploaded file (None when none was chosen) or why it is refused, in Chinese."""
    if upload is None or (not upload.filename and upload.size in (None, 0)):
        return None, []
    content = upload.file.read(ATTACHMENT_BYTES_MAX + 1)
    try:
        attachments.check(content)
    except DomainError as error:
        return None, messages.chinese(error)
    return (upload.filename or "", content), []


@router.post("/audits/{item_id}/appeal" + UPLOAD_SUFFIX)
def appeal(
    request: Request,
    item_id: IdPath,
    principal: Hospital,
    session: SessionDep,
    clock: ClockDep,
    reason: Annotated[str, Form(max_length=5000)] = "",
    attachment: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Appeal with an optional file: all or nothing, one transaction."""
    text = form_text(reason, REASON_CHARS_MAX)
    file, errors = _file_of(attachment)
    if not text:
        errors.insert(0, "请填写申诉理由。")
    elif len(text) > REASON_CHARS_MAX:
        errors.insert(0, f"申诉理由最多 {REASON_CHARS_MAX} 个字符。")
    if errors:
        return _detail(
            request, session, principal, clock, item_id, errors=errors, status=422, reason=text
        )
    try:
        with session.begin():
            actions.appeal(session, item_id, text, file, actor=principal, now=clock.now())
    except DomainError as error:
        if error.status == 404:
            raise
        return _detail(
            request,
            session,
            principal,
            clock,
            item_id,
            errors=messages.chinese(error),
            status=error.status,
            reason=text,
        )
    return see_other(f"{PATH}/{item_id}?done=appealed")


@router.post("/audits/{item_id}/files" + UPLOAD_SUFFIX)
def add_file(
    request: Request,
    item_id: IdPath,
    principal: Hospital,
    session: SessionDep,
    clock: ClockDep,
    attachment: Annotated[UploadFile | None, File()] = None,
) -> Response:
    file, errors = _file_of(attachment)
    if file is None and not errors:
        errors = ["请选择要上传的文件。"]
    if errors or file is None:
        return _detail(request, session, principal, clock, item_id, errors=errors, status=422)
    try:
        with session.begin():
            actions.add_file(session, item_id, file, actor=principal, now=clock.now())
    except DomainError as error:
        if error.status == 404:
            raise
        return _detail(
            request,
            session,
            principal,
            clock,
            item_id,
            errors=messages.chinese(error),
            status=error.status,
        )
    return see_other(f"{PATH}/{item_id}?done=file")


@files_router.get("/audit-attachments/{attachment_id}")
def download(attachment_id: IdPath, principal: ConsoleUser, session: SessionDep) -> Response:
    """A file of an appeal, as it was uploaded (a hospital only its own; staff every one)."""
    row = attachments.get(session, attachment_id, actor=principal)
    return Response(
        row.content,
        media_type=row.media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.filename)}",
            "Cache-Control": "no-store",
            "X-Content-SHA256": row.sha256,
        },
    )
