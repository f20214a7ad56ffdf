"""Users, roles and hashed bearer tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import ROLES, ApiToken, User
from app.auth.principal import Principal
from app.errors import Conflict, Invalid, NotFound, Unauthorized
from app.institutions.models import Institution
from app.trail import service as trail

TOKEN_PREFIX = "flt_"  # noqa: S105 - a marker, not a secret
TOKEN_BYTES = 32
TOKENS_PER_USER_MAX = 20


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    session: Session,
    *,
    name: str,
    role: str,
    fixmedins_code: str | None,
    actor: Principal,
    now: datetime,
) -> User:
    if role not in ROLES:
        raise Invalid.field("role", "role_known", f"role is one of {', '.join(ROLES)}")
    if role == "hospital":
        if not fixmedins_code:
            raise Invalid.field(
                "fixmedins_code",
                "hospital_has_institution",
                "a hospital user needs its institution",
            )
        if session.get(Institution, fixmedins_code) is None:
            raise Invalid.field("fixmedins_code", "institution_exists", "no such institution")
    elif fixmedins_code is not None:  # even "": the database refuses it (500 before)
        raise Invalid.field(
            "fixmedins_code", "only_hospital_has_institution", "only hospital users are bound"
        )
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise Conflict(f"user {name!r} exists")
    user = User(name=name, role=role, fixmedins_code=fixmedins_code, active=True, created_at=now)
    session.add(user)
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="user.create",
        entity="user",
        key=name,
        before=None,
        after={"role": role, "fixmedins_code": fixmedins_code},
        now=now,
    )
    return user


def get_user(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound(f"no user {name!r}")
    return user


def set_active(
    session: Session, *, name: str, active: bool, actor: Principal, now: datetime
) -> User:
    user = get_user(session, name)
    before = {"active": user.active}
    user.active = active
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="user.update",
        entity="user",
        key=name,
        before=before,
        after={"active": active},
        now=now,
    )
    return user


def issue_token(
    session: Session, *, name: str, actor: Principal, now: datetime
) -> tuple[ApiToken, str]:
    """A new token for a user; the clear token is returned once and never stored."""
    user = get_user(session, name)
    live = session.scalars(
        select(ApiToken.id).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    if len(live) >= TOKENS_PER_USER_MAX:
        raise Conflict(f"user {name!r} already has {TOKENS_PER_USER_MAX} live tokens")
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    row = ApiToken(user_id=user.id, token_hash=hash_token(token), prefix=token[:10], created_at=now)
    session.add(row)
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="token.issue",
        entity="user",
        key=name,
        before=None,
        after={"token_id": row.id, "prefix": row.prefix},
        now=now,
    )
    return row, token


def revoke_token(session: Session, *, token_id: int, actor: Principal, now: datetime) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"no token {token_id}")
    if row.revoked_at is None:
        row.revoked_at = now
        session.flush()
        trail.record(
            session,
            actor=actor,
            action="token.revoke",
            entity="token",
            key=str(token_id),
            before=None,
            after={"revoked_at": now.isoformat()},
            now=now,
        )
    return row


def authenticate(session: Session, token: str | None) -> Principal:
    """A bearer token -> its user; 401 when missing, unknown, revoked or inactive."""
    if not token:
        raise Unauthorized("a bearer token is required")
    digest = hash_token(token)
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == digest)
    ).first()
    if row is None:
        raise Unauthorized("unknown token")
    api_token, user = row
    # The index lookup already matched; compare again in constant time for good measure.
    if not hmac.compare_digest(api_token.token_hash, digest):
        raise Unauthorized("unknown token")
    if api_token.revoked_at is not None:
        raise Unauthorized("the token was revoked")
    if not user.active:
        raise Unauthorized("the user is deactivated")
    return Principal(
        user_id=user.id, name=user.name, role=user.role, fixmedins_code=user.fixmedins_code
    )
