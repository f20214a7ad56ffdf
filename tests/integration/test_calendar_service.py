from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from app.workdays import service

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def test_override_is_stored_and_wins(session: Session) -> None:
    assert service.load(session).is_working(date(2026, 3, 16))
    service.set_override(
        session, day=date(2026, 3, 16), working=False, note="flood", actor="op", now=NOW
    )
    calendar = service.load(session)
    assert not calendar.is_working(date(2026, 3, 16))
    assert calendar.on_or_after(date(2026, 3, 16)) == date(2026, 3, 17)


def test_changing_an_override_returns_the_previous_state(session: Session) -> None:
    service.set_override(session, day=date(2026, 3, 7), working=True, note="", actor="op", now=NOW)
    _, before = service.set_override(
        session, day=date(2026, 3, 7), working=False, note="x", actor="op", now=NOW
    )
    assert before == {"working": True, "note": ""}
    assert not service.load(session).is_working(date(2026, 3, 7))
    assert service.remove_override(session, day=date(2026, 3, 7))
    assert not service.remove_override(session, day=date(2026, 3, 7))


def test_year_confirmation_is_idempotent(session: Session) -> None:
    assert not service.is_confirmed(session, 2027)
    first = service.confirm_year(session, year=2027, actor="op1", now=NOW)
    again = service.confirm_year(session, year=2027, actor="op2", now=NOW)
    assert again.confirmed_by == first.confirmed_by == "op1"
    assert service.is_confirmed(session, 2027)


def test_year_days_mark_overrides(session: Session) -> None:
    service.set_override(session, day=date(2026, 5, 6), working=False, note="", actor="op", now=NOW)
    days = {row["date"]: row for row in service.year_days(session, 2026)}
    assert len(days) == 365
    assert days[date(2026, 5, 6)]["override"] is True
    assert days[date(2026, 5, 6)]["working"] is False
    assert days[date(2026, 2, 14)]["working"] is True
