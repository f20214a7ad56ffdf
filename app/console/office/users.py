"""The admin's pages: users with their role and institution, passwords (set), API tokens
(issue, shown once; revoke). Auditors read the lists (never a token's secret)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.auth.schemas import PasswordIn, UserIn
from app.console import statuses
from app.console.office import actions, forms, queries
from app.console.office.common import AdminUser, Fields, UserReader, done, page, router
from app.db import transaction
from app.deps import ClockDep, SessionDep
from app.errors import DomainError
from app.http import IdPath

pages = router()

ROLE_DUTIES = {
    "hospital": "本机构的结算上传、申报、确认与申诉；只看本机构",
    "operator": "经办：日历、机构与政策、智能审核、垫付、考核、任务、告警",
    "accountant": "基金财务：审批拨付、支付监控、拨入与还款",
    "auditor": "审计：查看全部数据，不能修改任何内容",
    "admin": "系统管理：用户、密码与令牌；与经办共同维护机构与日历",
}


def _users_page(
    request: Request,
    principal: Any,
    session: Session,
    *,
    errors: list[str] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    return page(
        request,
        "office/users.html",
        principal,
        {
            "title": "用户",
            "users": queries.users(session),
            "roles": statuses.ROLES,
            "duties": ROLE_DUTIES,
            "form": form or {},
            "errors": errors or [],
            "now": request.app.state.clock.now(),
        },
        status=422 if errors else 200,
    )


@pages.get("/users")
def users_page(request: Request, principal: UserReader, session: SessionDep) -> Response:
    return _users_page(request, principal, session)


@pages.post("/users")
def create_user(
    request: Request, fields: Fields, principal: AdminUser, session: SessionDep, clock: ClockDep
) -> Response:
    values = dict(fields)
    if values.get("role") != "hospital":
        values.pop("fixmedins_code", None)  # the field is only for hospital users
    data, errors = forms.parse(UserIn, values)
    if data is not None:
        try:
            with transaction(request.app.state.session_factory) as writing:
                actions.create_user(
                    writing,
                    data.name,
                    data.role,
                    data.fixmedins_code,
                    actor=principal,
                    now=clock.now(),
                )
            return done(f"/console/users/{data.name}", "user")
        except DomainError as error:
            errors = forms.refusal(error, on_conflict=f"用户名“{data.name}”已被使用")
    return _users_page(request, principal, session, errors=errors, form=fields)


def _user_page(
    request: Request,
    principal: Any,
    session: Session,
    name: str,
    *,
    errors: list[str] | None = None,
    issued: tuple[Any, str] | None = None,
    status: int = 200,
) -> Response:
    user = queries.user(session, name)
    return page(
        request,
        "office/user.html",
        principal,
        {
            "title": f"用户 {user.name}",
            "user": user,
            "tokens": queries.tokens(session, user),
            "issued": issued,
            "errors": errors or [],
            "now": request.app.state.clock.now(),
        },
        status=422 if errors else status,
    )


@pages.get("/users/{name}")
def user_page(request: Request, name: str, principal: UserReader, session: SessionDep) -> Response:
    return _user_page(request, principal, session, name)


@pages.post("/users/{name}/active")
def set_active(
    request: Request, name: str, fields: Fields, principal: AdminUser, clock: ClockDep
) -> Response:
    active = fields.get("active") == "true"
    with transaction(request.app.state.session_factory) as writing:
        actions.set_active(writing, name, active, actor=principal, now=clock.now())
    return done(f"/console/users/{name}", "active")


@pages.post("/users/{name}/password")
def set_password(
    request: Request,
    name: str,
    fields: Fields,
    principal: AdminUser,
    session: SessionDep,
    clock: ClockDep,
) -> Response:
    """Set a console password (argon2; unlocks the name and ends its sessions)."""
    data, errors = forms.parse(PasswordIn, {"password": fields.get("password", "")})
    if data is not None and fields.get("password_again", "") != data.password:
        data, errors = None, ["两次输入的密码不一致"]
    if data is not None:
        try:
            with transaction(request.app.state.session_factory) as writing:
                actions.set_password(writing, name, data.password, actor=principal, now=clock.now())
            return done(f"/console/users/{name}", "password")
        except DomainError as error:
            errors = forms.refusal(error, on_missing="没有这个用户")
    return _user_page(request, principal, session, name, errors=errors)


@pages.post("/users/{name}/tokens")
def issue_token(
    request: Request, name: str, principal: AdminUser, session: SessionDep, clock: ClockDep
) -> Response:
    """The token is shown in this answer only (never stored, never shown again): no redirect,
    and the page is not cached (Cache-Control: no-store)."""
    try:
        with transaction(request.app.state.session_factory) as writing:
            row, token = actions.issue_token(writing, name, actor=principal, now=clock.now())
            issued = (row.id, token)
    except DomainError as error:
        errors = forms.refusal(
            error, on_conflict="该用户有效令牌已达上限（20 个），请先吊销不用的令牌"
        )
        return _user_page(request, principal, session, name, errors=errors)
    return _user_page(request, principal, session, name, issued=issued, status=201)


@pages.post("/tokens/{token_id}/revoke")
def revoke_token(
    request: Request, token_id: IdPath, principal: AdminUser, clock: ClockDep
) -> Response:
    with transaction(request.app.state.session_factory) as writing:
        row = actions.revoke_token(writing, token_id, actor=principal, now=clock.now())
        owner = queries.token_owner(writing, row)
    return done(f"/console/users/{owner}", "revoked")
