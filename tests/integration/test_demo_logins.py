"""The demo's console logins (app.demo.reset_logins): a new password per person at every
start, as `fundledger users passwd` sets one — the earlier password and sessions end, a lock is
lifted, a deactivated person is active again. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import demo
from app.auth import logins
from app.auth import service as auth
from app.auth.models import ConsoleSession, User
from app.clock import SimulatedClock
from app.trail.models import AuditEvent
from tests.support import builders
from tests.support.builders import ADMIN


@pytest.fixture
def people(session: Session, clock: SimulatedClock) -> None:
    """The demo's people as the scenario runner leaves them: no passwords yet."""
    builders.institution(session, "H640103", name="银川市第一人民医院")
    for key, name in demo.TOUR_USERS.items():
        role = key.lower() if key != "HOSPITAL" else "hospital"
        code = "H640103" if role == "hospital" else None
        auth.create_user(
            session, name=name, role=role, fixmedins_code=code, actor=ADMIN, now=clock.now()
        )


@pytest.mark.usefixtures("people")
def test_each_role_gets_a_login_with_a_fresh_strong_password(
    session: Session, clock: SimulatedClock
) -> None:
    made = demo.reset_logins(session, now=clock.now())
    assert [person.role for person in made] == [
        "hospital",
        "accountant",
        "operator",
        "auditor",
        "admin",
    ]
    assert made[0] == demo.ConsoleLogin(
        "scenario-H640103", "hospital", made[0].password, "银川市第一人民医院"
    )
    assert {person.institution for person in made[1:]} == {None}
    assert len({person.password for person in made}) == 5
    for person in made:
        assert len(person.password) == demo.PASSWORD_CHARS
        assert set(person.password) <= set(demo.PASSWORD_ALPHABET)
        stored = session.scalars(select(User.password_hash).where(User.name == person.name)).one()
        assert stored is not None and stored.startswith("$argon2id$")
        assert person.password not in stored
        outcome = logins.login(session, name=person.name, password=person.password, now=clock.now())
        assert outcome.principal is not None and outcome.principal.role == person.role
    actions = session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.entity == "user", AuditEvent.entity_key == "scenario-accountant"
        )
    ).all()
    assert "user.password" in actions


@pytest.mark.usefixtures("people")
def test_the_next_start_resets_passwords_ends_sessions_lifts_locks_and_reactivates(
    session: Session, clock: SimulatedClock
) -> None:
    first = {person.name: person.password for person in demo.reset_logins(session, now=clock.now())}
    hospital, accountant, operator = "scenario-H640103", "scenario-accountant", "scenario-operator"
    live = logins.login(session, name=hospital, password=first[hospital], now=clock.now())
    assert live.token is not None
    for _ in range(logins.LOGIN_FAILURES_MAX):  # the accountant locks the name
        logins.login(session, name=accountant, password="not-the-password", now=clock.now())
    locked = logins.login(session, name=accountant, password=first[accountant], now=clock.now())
    assert locked.refusal == "locked"
    auth.set_active(session, name=operator, active=False, actor=ADMIN, now=clock.now())

    clock.advance(timedelta(minutes=1))
    second = {
        person.name: person.password for person in demo.reset_logins(session, now=clock.now())
    }
    assert all(second[name] != first[name] for name in first)
    now = clock.now()
    old = logins.login(session, name=hospital, password=first[hospital], now=now)
    assert old.token is None and old.refusal == "wrong"
    assert logins.resume(session, token=live.token, now=now, idle_timeout_s=1800) is None
    ended = session.scalars(select(ConsoleSession.end_reason)).all()
    assert ended == ["password"]
    for name in (hospital, accountant, operator):  # the lock is lifted, the operator active
        assert logins.login(session, name=name, password=second[name], now=now).token, name
