"""People's console logins: argon2 passwords, the lock after wrong passwords, server-side
sessions with an idle timeout. Bearer tokens (app.auth.service) stay for systems.

Every login, failure, lock, logout and expiry is written to the audit trail. Callers open the
transaction and commit it also when a login is refused: the failure counter must stick.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.auth.models import ConsoleSession, User
from app.auth.principal import Principal
from app.auth.service import get_user
from app.errors import Invalid
from app.trail import service as trail

LOGIN_FAILURES_MAX = 5  # the fifth wrong password in a row locks the name
LOCK_S = 15 * 60
IDLE_TIMEOUT_S_DEFAULT = 30 * 60
# last_seen_at is written at most once a minute: a page view is not a write each time, and the
# idle timeout is exact to within this.
TOUCH_S = 60
PASSWORD_CHARS_MIN = 10
PASSWORD_CHARS_MAX = 128
NAME_CHARS_MAX = 64
SESSION_BYTES = 32

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile (argon2-cffi's default)
# Verified against when the name is unknown, so that an unknown name costs the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class LoginOutcome:
    """The result of one attempt: a session token (clear, for the cookie) or a refusal."""

    token: str | None
    principal: Principal | None
    refusal: str | None  # wrong | locked | None
    locked_until: datetime | None = None


def hash_session(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(token: str) -> str:
    """The CSRF token of a session: derived from its secret id, so nothing more is stored."""
    return hmac.new(token.encode(), b"fundledger-console-csrf", hashlib.sha256).hexdigest()


def check_password_rule(password: str) -> None:
    if not PASSWORD_CHARS_MIN <= len(password) <= PASSWORD_CHARS_MAX:
        raise Invalid.field(
            "password",
            "password_length",
            f"a password has {PASSWORD_CHARS_MIN} to {PASSWORD_CHARS_MAX} characters",
        )


def set_password(
    session: Session,
    *,
    name: str,
    password: str,
    actor: Principal,
    now: datetime,
    keep_token: str | None = None,
) -> User:
    """Store an argon2 hash of a new password; unlocks the name and ends its live sessions
    (but the one of `keep_token`: a person changing their own password stays logged in)."""
    check_password_rule(password)
    user = get_user(session, name)
    user.password_hash = _hasher.hash(password)
    user.failed_logins = 0
    user.locked_until = None
    ended = _end_sessions(session, user.id, now, "password", keep_token)
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="user.password",
        entity="user",
        key=name,
        before=None,
        after={"sessions_ended": ended},
        now=now,
    )
    return user


def _end_sessions(
    session: Session, user_id: int, now: datetime, reason: str, keep_token: str | None
) -> int:
    query = (
        update(ConsoleSession)
        .where(ConsoleSession.user_id == user_id, ConsoleSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )
    if keep_token is not None:
        query = query.where(ConsoleSession.session_hash != hash_session(keep_token))
    return int(session.execute(query).rowcount or 0)  # type: ignore[attr-defined]


def _principal(user: User) -> Principal:
    return Principal(
        user_id=user.id, name=user.name, role=user.role, fixmedins_code=user.fixmedins_code
    )


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def login(session: Session, *, name: str, password: str, now: datetime) -> LoginOutcome:
    """One attempt with a name and a password (SPEC-free; docs/rules.md "Console").

    A locked name is refused whatever the password; the fifth wrong password in a row locks
    it for LOCK_S. Unknown, deactivated and password-less names are refused like a wrong
    password (and cannot be locked: there is nothing to lock)."""
    name = name.strip()[:NAME_CHARS_MAX]
    password = password[:PASSWORD_CHARS_MAX]
    user = session.scalar(select(User).where(User.name == name).with_for_update())
    if user is None or not user.active or user.password_hash is None:
        _verify(_DUMMY_HASH, password)
        who = Principal(user_id=None, name=name or "-", role="anonymous")
        _record(session, who, "login.failed", name, {"reason": "unknown_or_no_password"}, now)
        return LoginOutcome(None, None, "wrong")
    if user.locked_until is not None and now < user.locked_until:
        _record(session, _principal(user), "login.refused_locked", name, None, now)
        return LoginOutcome(None, None, "locked", user.locked_until)
    if user.locked_until is not None:  # the lock ran out: a fresh count
        user.failed_logins, user.locked_until = 0, None
    if not _verify(user.password_hash, password):
        return _wrong_password(session, user, now)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.failed_logins = 0
    token = secrets.token_urlsafe(SESSION_BYTES)
    row = ConsoleSession(
        session_hash=hash_session(token), user_id=user.id, created_at=now, last_seen_at=now
    )
    session.add(row)
    session.flush()
    _record(session, _principal(user), "login", name, {"session_id": row.id}, now)
    return LoginOutcome(token, _principal(user), None)


def _wrong_password(session: Session, user: User, now: datetime) -> LoginOutcome:
    user.failed_logins += 1
    who = _principal(user)
    _record(session, who, "login.failed", user.name, {"failures": user.failed_logins}, now)
    if user.failed_logins >= LOGIN_FAILURES_MAX:
        user.locked_until = now + timedelta(seconds=LOCK_S)
        session.flush()
        _record(session, who, "login.locked", user.name, {"until": user.locked_until}, now)
        return LoginOutcome(None, None, "locked", user.locked_until)
    session.flush()
    return LoginOutcome(None, None, "wrong")


def resume(session: Session, *, token: str, now: datetime, idle_timeout_s: int) -> Principal | None:
    """The person of a live session cookie, or None (unknown, ended, idle too long, user
    deactivated). An idle session is ended here and the expiry recorded."""
    assert idle_timeout_s > 0
    found = session.execute(
        select(ConsoleSession, User)
        .join(User, User.id == ConsoleSession.user_id)
        .where(ConsoleSession.session_hash == hash_session(token))
    ).first()
    if found is None:
        return None
    row, user = found
    if row.ended_at is not None:
        return None
    if not user.active:
        row.ended_at, row.end_reason = now, "inactive"
        session.flush()
        return None
    if now - row.last_seen_at > timedelta(seconds=idle_timeout_s):
        row.ended_at, row.end_reason = now, "idle"
        session.flush()
        _record(session, _principal(user), "logout.idle", user.name, {"session_id": row.id}, now)
        return None
    if now - row.last_seen_at >= timedelta(seconds=TOUCH_S):
        row.last_seen_at = now
        session.flush()
    return _principal(user)


def logout(session: Session, *, token: str, now: datetime) -> bool:
    """End the session of this cookie; False when it was not live."""
    found = session.execute(
        select(ConsoleSession, User)
        .join(User, User.id == ConsoleSession.user_id)
        .where(ConsoleSession.session_hash == hash_session(token))
    ).first()
    if found is None or found[0].ended_at is not None:
        return False
    row, user = found
    row.ended_at, row.end_reason = now, "logout"
    session.flush()
    _record(session, _principal(user), "logout", user.name, {"session_id": row.id}, now)
    return True


def _record(
    session: Session, actor: Principal, action: str, name: str, after: object, now: datetime
) -> None:
    trail.record(
        session,
        actor=actor,
        action=action,
        entity="user",
        key=name or "-",
        before=None,
        after=after,
        now=now,
    )
