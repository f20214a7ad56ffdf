"""The Jinja2 environment of the console: autoescaped templates, the display filters, and one
render() that adds what every page needs (who is logged in, the navigation, the CSRF token)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.console import display, navigation

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"

environment = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html", "svg"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters.update(display.FILTERS)


def render(
    request: Request, template: str, context: dict[str, Any], *, status: int = 200
) -> HTMLResponse:
    principal = getattr(request.state, "principal", None)
    base = {
        "request": request,
        "path": request.url.path,
        "principal": principal,
        "csrf": getattr(request.state, "csrf", ""),
        "nav": navigation.for_role(principal.role) if principal else [],
        "institution_name": getattr(request.state, "institution_name", None),
        "notices": [],
        "errors": [],
    }
    base.update(context)
    html = environment.get_template(template).render(base)
    return HTMLResponse(html, status_code=status)


ERROR_TITLES = {
    400: "请求有误",
    401: "请先登录",
    403: "无权操作",
    404: "未找到",
    409: "操作冲突",
    413: "内容过大",
    422: "填写有误",
    503: "系统繁忙",
}


def error_page(request: Request, status: int, detail: str) -> HTMLResponse:
    """The error page of a refusal: its title in Chinese, the detail, a way back."""
    title = ERROR_TITLES.get(status, "出错了")
    if status == 404:
        detail = "没有找到这一页或这份单据（或您无权查看）。"
    return render(
        request, "error.html", {"title": title, "status": status, "detail": detail}, status=status
    )
