"""Console logins: argon2 passwords, the lock after five wrong passwords, idle sessions, the
audit trail of every attempt."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth import logins
from app.auth import service as auth
from app.auth.models import ConsoleSession, User
from app.clock import SimulatedClock
from app.errors import Invalid, NotFound
from app.trail.models import AuditEvent
from tests.support.builders import ADMIN

PASSWORD = "correct-horse-9"
IDLE_S = 30 * 60


def _person(session: Session, clock: SimulatedClock, name: str = "acc") -> User:
    user = auth.create_user(
        session, name=name, role="accountant", fixmedins_code=None, actor=ADMIN, now=clock.now()
    )
    logins.set_password(session, name=name, password=PASSWORD, actor=ADMIN, now=clock.now())
    return user


def _actions(session: Session, name: str) -> list[str]:
    return list(
        session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.entity == "user", AuditEvent.entity_key == name)
            .order_by(AuditEvent.id)
        )
    )


def test_the_password_is_stored_as_argon2_only(session: Session, clock: SimulatedClock) -> None:
    user = _person(session, clock)
    assert user.password_hash is not None and user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_login_gives_a_session_whose_id_is_stored_hashed(
    session: Session, clock: SimulatedClock
) -> None:
    _person(session, clock)
    outcome = logins.login(session, name="acc", password=PASSWORD, now=clock.now())
    assert outcome.token is not None and outcome.principal is not None
    assert outcome.principal.role == "accountant"
    row = session.scalars(select(ConsoleSession)).one()
    assert row.session_hash == logins.hash_session(outcome.token) != outcome.token
    assert _actions(session, "acc") == ["user.create", "user.password", "login"]


def test_five_wrong_passwords_lock_the_name_for_fifteen_minutes(
    session: Session, clock: SimulatedClock
) -> None:
    _person(session, clock)
    for attempt in range(1, 5):
        outcome = logins.login(session, name="acc", password="wrong-one", now=clock.now())
        assert outcome.refusal == "wrong", attempt
    fifth = logins.login(session, name="acc", password="wrong-one", now=clock.now())
    assert fifth.refusal == "locked"
    assert fifth.locked_until == clock.now() + timedelta(minutes=15)
    clock.advance(timedelta(minutes=14, seconds=59))
    refused = logins.login(session, name="acc", password=PASSWORD, now=clock.now())
    assert refused.token is None and refused.refusal == "locked"
    clock.advance(timedelta(seconds=1))
    assert logins.login(session, name="acc", password=PASSWORD, now=clock.now()).token
    actions = _actions(session, "acc")
    assert actions.count("login.failed") == 5
    assert actions[-3:] == ["login.locked", "login.refused_locked", "login"]


def test_a_success_resets_the_count(session: Session, clock: SimulatedClock) -> None:
    _person(session, clock)
    for _ in range(4):
        logins.login(session, name="acc", password="wrong-one", now=clock.now())
    assert logins.login(session, name="acc", password=PASSWORD, now=clock.now()).token
    for _ in range(4):
        assert logins.login(session, name="acc", password="x" * 12, now=clock.now()).refusal == (
            "wrong"
        )


def test_unknown_and_password_less_names_are_refused_like_a_wrong_password(
    session: Session, clock: SimulatedClock
) -> None:
    auth.create_user(
        session, name="system", role="operator", fixmedins_code=None, actor=ADMIN, now=clock.now()
    )
    for name in ("nobody", "system"):
        outcome = logins.login(session, name=name, password=PASSWORD, now=clock.now())
        assert (outcome.token, outcome.refusal) == (None, "wrong")
        assert _actions(session, name)[-1] == "login.failed"


def test_a_deactivated_user_cannot_log_in_and_loses_its_session(
    session: Session, clock: SimulatedClock
) -> None:
    _person(session, clock)
    token = logins.login(session, name="acc", password=PASSWORD, now=clock.now()).token
    assert token is not None
    auth.set_active(session, name="acc", active=False, actor=ADMIN, now=clock.now())
    assert logins.resume(session, token=token, now=clock.now(), idle_timeout_s=IDLE_S) is None
    assert logins.login(session, name="acc", password=PASSWORD, now=clock.now()).token is None


def test_idle_sessions_end_and_active_ones_stay(session: Session, clock: SimulatedClock) -> None:
    _person(session, clock)
    token = logins.login(session, name="acc", password=PASSWORD, now=clock.now()).token
    assert token is not None
    for _ in range(3):  # a page every 20 minutes keeps the session alive
        clock.advance(timedelta(minutes=20))
        assert logins.resume(session, token=token, now=clock.now(), idle_timeout_s=IDLE_S)
    clock.advance(timedelta(minutes=30, seconds=1))
    assert logins.resume(session, token=token, now=clock.now(), idle_timeout_s=IDLE_S) is None
    clock.advance(timedelta(seconds=1))  # ended stays ended
    assert logins.resume(session, token=token, now=clock.now(), idle_timeout_s=IDLE_S) is None
    row = session.scalars(select(ConsoleSession)).one()
    assert row.end_reason == "idle"
    assert _actions(session, "acc")[-1] == "logout.idle"


def test_logout_ends_the_session_once(session: Session, clock: SimulatedClock) -> None:
    _person(session, clock)
    token = logins.login(session, name="acc", password=PASSWORD, now=clock.now()).token
    assert token is not None
    assert logins.logout(session, token=token, now=clock.now())
    assert not logins.logout(session, token=token, now=clock.now())
    assert logins.resume(session, token=token, now=clock.now(), idle_timeout_s=IDLE_S) is None
    assert _actions(session, "acc")[-1] == "logout"


def test_a_new_password_unlocks_and_ends_the_sessions(
    session: Session, clock: SimulatedClock
) -> None:
    _person(session, clock)
    token = logins.login(session, name="acc", password=PASSWORD, now=clock.now()).token
    assert token is not None
    for _ in range(5):
        logins.login(session, name="acc", password="wrong-one", now=clock.now())
    logins.set_password(session, name="acc", password="another-horse", actor=ADMIN, now=clock.now())
    assert logins.resume(session, token=token, now=clock.now(), idle_timeout_s=IDLE_S) is None
    assert logins.login(session, name="acc", password="another-horse", now=clock.now()).token


def test_password_rules(session: Session, clock: SimulatedClock) -> None:
    _person(session, clock)
    with pytest.raises(Invalid):
        logins.set_password(session, name="acc", password="short", actor=ADMIN, now=clock.now())
    with pytest.raises(NotFound):
        logins.set_password(session, name="nobody", password=PASSWORD, actor=ADMIN, now=clock.now())


def test_csrf_token_belongs_to_its_session() -> None:
    assert logins.csrf_token("a") == logins.csrf_token("a") != logins.csrf_token("b")
