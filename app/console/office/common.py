"""What every office page shares: the role-checked users, the form fields, the notices shown
after a write (POST-redirect-GET), the redirect itself and the render with the write flags."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import UploadFile

from app.auth.deps import Principal
from app.console.office import audit_file, roles
from app.console.security import FORM_FIELDS_MAX, ConsoleRoute, require
from app.console.templating import render


def router() -> APIRouter:
    return APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)


StaffUser = Annotated[Principal, Depends(require(*sorted(roles.STAFF)))]
ReferenceUser = Annotated[Principal, Depends(require(*sorted(roles.REFERENCE)))]
OperatorUser = Annotated[Principal, Depends(require(*sorted(roles.OPERATORS)))]
AdminUser = Annotated[Principal, Depends(require(*sorted(roles.ADMINS)))]
UserReader = Annotated[Principal, Depends(require(*sorted(roles.USER_READERS)))]
TrailReader = Annotated[Principal, Depends(require(*sorted(roles.TRAIL_READERS)))]


async def _fields(request: Request) -> dict[str, str]:
    """The text fields of the POST form (the CSRF check read it already; Starlette keeps it)."""
    form = await request.form(max_fields=FORM_FIELDS_MAX)
    return {
        key: value.strip()
        for key, value in form.items()
        if isinstance(value, str) and key != "csrf_token"
    }


Fields = Annotated[dict[str, str], Depends(_fields)]


async def _upload(request: Request) -> tuple[str, bytes] | None:
    """The uploaded file of the form (`file`): its name and at most one byte more than a file
    may have (the reader refuses it then); None when no file was chosen."""
    form = await request.form(max_fields=FORM_FIELDS_MAX)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    content = await upload.read(audit_file.UPLOAD_BYTES_MAX + 1)
    return upload.filename, content


Upload = Annotated[tuple[str, bytes] | None, Depends(_upload)]

# Shown after a successful write (?ok=KEY): fixed texts, nothing from the query is echoed.
NOTICES: dict[str, str] = {
    "institution": "机构信息已保存。",
    "payee_change": "机构信息已保存；收款账户变更已提交，经会计或管理员（非申请人）复核后生效。",
    "enrollment": "已新增参保险种。",
    "enrollment_end": "已设置参保结束日期。",
    "policy": "已新增政策版本。",
    "override": "已保存该日期的工作日设置。",
    "override_removed": "已恢复该日期的官方安排。",
    "confirmed": "已确认该年度工作日历。",
    "imported": "审核结果已全部导入。",
    "reviewed": "复审结果已保存。",
    "consulted": "合议结果已保存。",
    "advance": "招采垫付已登记。",
    "advance_same": "该垫付单号已登记过，内容相同，未重复登记。",
    "assessment": "年度考核结果已保存。",
    "assessment_same": "该机构该年度已有考核结果，已按本次填写更新（内容相同则不变）。",
    "ran": "任务已运行，结果见“上次运行”。",
    "skipped_done": "该业务日期已运行成功，未重复运行（如需重跑请勾选“重新运行”）。",
    "skipped_busy": "另一进程正在运行该任务，本次未运行，请稍后查看。",
    "acknowledged": "已确认知悉该告警。",
    "user": "用户已创建。",
    "active": "用户状态已更新。",
    "password": "密码已设置；该用户的登录会话已全部结束。",
    "revoked": "令牌已吊销。",
    "notice_delivered": "已登记事前告知书送达；此后该笔追回可在下次救助金中抵扣。",
}


def notices(request: Request) -> list[str]:
    key = request.query_params.get("ok", "")
    return [NOTICES[key]] if key in NOTICES else []


def back_to(fields: dict[str, str], *pages: str) -> str:
    """The page a form came from (its `back` field, filters and paging kept) when it is one
    of `pages` of this site; else the first of them. Any earlier notice is dropped."""
    back = fields.get("back", "")
    parts = urlsplit(back)
    if parts.scheme or parts.netloc or parts.path not in pages or len(back) > 500:
        return pages[0]
    kept = [(k, v) for k, v in parse_qsl(parts.query) if k != "ok"]
    return f"{parts.path}?{urlencode(kept)}" if kept else parts.path


def done(url: str, ok: str) -> RedirectResponse:
    """After a write: back to the page (GET), with its notice."""
    assert ok in NOTICES, ok
    separator = "&" if "?" in url else "?"
    return RedirectResponse(f"{url}{separator}ok={ok}", status_code=303)


def page(
    request: Request,
    template: str,
    principal: Principal,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> HTMLResponse:
    """Render an office page: its notices, and what this person may write (`can`)."""
    base = {
        "notices": notices(request),
        "can": {
            "reference": roles.may(principal, roles.REFERENCE),
            "operate": roles.may(principal, roles.OPERATORS),
            "administer": roles.may(principal, roles.ADMINS),
        },
    }
    base.update(context)
    return render(request, template, base, status=status)
