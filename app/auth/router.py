"""Users and tokens (admin; auditors read them, never a token secret) and who-am-I."""

from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy import select

from app.auth import logins, service
from app.auth.deps import Admin, AdminReader, CurrentUser
from app.auth.models import ApiToken, User
from app.auth.schemas import (
    IssuedToken,
    Me,
    PasswordIn,
    TokenOut,
    UserIn,
    UserOut,
    UserPatch,
)
from app.deps import ClockDep, SessionDep
from app.http import IdPath, StrictJSONRoute

router = APIRouter(prefix="/api/v1", route_class=StrictJSONRoute, tags=["users and tokens"])


@router.get("/me")
def me(principal: CurrentUser) -> Me:
    return Me(name=principal.name, role=principal.role, fixmedins_code=principal.fixmedins_code)


@router.post("/users", status_code=201, response_model=UserOut)
def create_user(body: UserIn, actor: Admin, session: SessionDep, clock: ClockDep) -> User:
    with session.begin():
        return service.create_user(
            session,
            name=body.name,
            role=body.role,
            fixmedins_code=body.fixmedins_code,
            actor=actor,
            now=clock.now(),
        )


@router.get("/users", response_model=list[UserOut])
def list_users(_: AdminReader, session: SessionDep) -> list[User]:
    return list(session.scalars(select(User).order_by(User.name).limit(1000)))


@router.patch("/users/{name}", response_model=UserOut)
def update_user(
    name: str, body: UserPatch, actor: Admin, session: SessionDep, clock: ClockDep
) -> User:
    with session.begin():
        return service.set_active(
            session, name=name, active=body.active, actor=actor, now=clock.now()
        )


@router.put("/users/{name}/password", status_code=204)
def set_password(
    name: str, body: PasswordIn, actor: Admin, session: SessionDep, clock: ClockDep
) -> Response:
    """Set a person's console password (argon2; unlocks the name, ends its sessions)."""
    with session.begin():
        logins.set_password(
            session, name=name, password=body.password, actor=actor, now=clock.now()
        )
    return Response(status_code=204)


@router.post("/users/{name}/tokens", status_code=201)
def issue_token(name: str, actor: Admin, session: SessionDep, clock: ClockDep) -> IssuedToken:
    with session.begin():
        row, token = service.issue_token(session, name=name, actor=actor, now=clock.now())
        return IssuedToken(
            id=row.id,
            user=name,
            prefix=row.prefix,
            created_at=row.created_at,
            revoked_at=None,
            token=token,
        )


@router.get("/users/{name}/tokens")
def list_tokens(name: str, _: AdminReader, session: SessionDep) -> list[TokenOut]:
    user = service.get_user(session, name)
    rows = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
    )
    return [
        TokenOut(
            id=r.id, user=name, prefix=r.prefix, created_at=r.created_at, revoked_at=r.revoked_at
        )
        for r in rows
    ]


@router.post("/tokens/{token_id}/revoke")
def revoke_token(token_id: IdPath, actor: Admin, session: SessionDep, clock: ClockDep) -> TokenOut:
    with session.begin():
        row = service.revoke_token(session, token_id=token_id, actor=actor, now=clock.now())
        user = session.get(User, row.user_id)
        assert user is not None
        return TokenOut(
            id=row.id,
            user=user.name,
            prefix=row.prefix,
            created_at=row.created_at,
            revoked_at=row.revoked_at,
        )
