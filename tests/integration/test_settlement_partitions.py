"""Settlements are partitioned by period on PostgreSQL (issue 20.4, migration 0032): a
period without a partition waits in the default one, the `settlement_partitions` job gives it
its own and moves its rows; uploads, replays, revocations and batches see no difference. The
identity (fixmedins_code, setl_id) lives in `settlement_key` on both databases."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app.auth.principal import Principal
from app.clock import SimulatedClock
from app.config import Settings
from app.db import COPY_ROWS_MIN, is_postgres
from app.errors import Conflict
from app.jobcontext import JobContext
from app.settlements import partitions, uploads
from app.settlements import service as settlements
from app.settlements.models import Settlement, SettlementKey
from app.settlements.schemas import SettlementIn
from jobs import settlement_partitions
from tests.support import builders
from tests.support.daily import at, generate, revoke, settle

DAY = date(2026, 3, 6)


def _where(session: Session, setl_id: str) -> str:
    """The table (partition) that holds a settlement's row."""
    return session.execute(
        text("SELECT tableoid::regclass::text FROM settlement WHERE setl_id = :s"), {"s": setl_id}
    ).scalar_one()


def _job(session_factory: sessionmaker[Session], day: date) -> list[str]:
    ctx = JobContext(
        session_factory=session_factory,
        engine=None,  # type: ignore[arg-type]
        clock=SimulatedClock(at(day, 0)),
        settings=Settings(environment="test", database_url="sqlite://"),
    )
    created: list[str] = settlement_partitions.run(ctx, day)["created"]
    return created


def _item(setl_id: str, hifp_pay: str) -> dict[str, str]:
    return {
        "fixmedins_code": "H001",
        "setl_id": setl_id,
        "psn_no": "P1",
        "insutype": "310",
        "med_type": "21",
        "insuplc_admdvs": "640100",
        "setl_time": at(DAY, 9).isoformat(),
        "medfee_sumamt": "1000.00",
        "hifp_pay": hifp_pay,
        "hifob_pay": "0.00",
    }


def _upload(session: Session, setl_id: str, hifp_pay: str) -> bool:
    record = SettlementIn.model_validate(_item(setl_id, hifp_pay))
    actor = Principal(None, "user-H001", "hospital", "H001")
    _, created = settlements.upload_one(session, record, actor=actor, now=at(DAY, 10))
    return created


def test_a_period_without_a_partition_waits_in_the_default_one_and_the_job_moves_it(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    if not is_postgres(session):
        pytest.skip("SQLite keeps a plain settlement table")
    builders.institution(session, "H001")
    session.execute(text("DROP TABLE IF EXISTS settlement_2026_03"))  # as a fresh database has it
    assert _upload(session, "S1", "500.00")
    assert _upload(session, "S2", "300.00")
    assert _where(session, "S1") == _where(session, "S2") == "settlement_default"

    created = _job(session_factory, DAY)

    assert "2026-03" in created
    assert set(created) <= {"2026-02", "2026-03", "2026-04", "2026-05"}
    assert {"2026-02", "2026-03", "2026-04", "2026-05"} <= partitions.existing(session)
    assert _where(session, "S1") == _where(session, "S2") == "settlement_2026_03"
    assert session.execute(text("SELECT count(*) FROM settlement_default")).scalar_one() == 0
    assert _job(session_factory, DAY) == []  # nothing left to do

    # Once moved, the settlements are the same to every use case.
    assert not _upload(session, "S1", "500.00")  # the replay finds the stored one
    with pytest.raises(Conflict):
        _upload(session, "S1", "501.00")
    revoke(session, "H001", "S2", at(DAY, 11))
    settle(session, "H001", "S3", 20_000, DAY)
    assert _where(session, "S3") == "settlement_2026_03"  # straight into its partition
    batch = generate(session, DAY)
    assert batch.settlement_count == 2  # S1 and S3; S2 was revoked before the batch


def test_the_job_gives_a_stranded_period_its_partition_even_far_from_the_date(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    if not is_postgres(session):
        assert _job(session_factory, DAY) == []  # SQLite: nothing to partition
        return
    builders.institution(session, "H001")
    session.execute(text("DROP TABLE IF EXISTS settlement_2026_03"))
    assert _upload(session, "S1", "500.00")  # period 2026-03 in the default partition

    assert _job(session_factory, date(2026, 9, 1))[:1] == ["2026-03"]

    assert _where(session, "S1") == "settlement_2026_03"


def test_a_settlement_needs_its_key_and_a_key_is_unique(session: Session) -> None:
    builders.institution(session, "H001")
    settle(session, "H001", "S1", 10_000, DAY)
    stored = session.scalars(select(Settlement).where(Settlement.setl_id == "S1")).one()
    key = session.get(SettlementKey, stored.id)
    assert key is not None
    assert (key.fixmedins_code, key.setl_id, key.period) == ("H001", "S1", stored.period)
    columns = {c.name: getattr(stored, c.key) for c in Settlement.__table__.columns}
    with pytest.raises(IntegrityError), session.begin_nested():  # no key row
        session.execute(Settlement.__table__.insert(), [{**columns, "id": stored.id + 1000}])
    with pytest.raises(IntegrityError), session.begin_nested():  # its key, another period
        session.execute(
            Settlement.__table__.insert(), [{**columns, "id": stored.id, "period": "2026-04"}]
        )
    with pytest.raises(IntegrityError), session.begin_nested():  # the same hospital's setl_id
        session.add(
            SettlementKey(id=stored.id + 1, fixmedins_code="H001", setl_id="S1", period="2026-03")
        )
    assert session.scalar(select(func.count()).select_from(SettlementKey)) == 1


@pytest.mark.parametrize(
    ("day", "months"),
    [
        (date(2026, 3, 6), ["2026-02", "2026-03", "2026-04", "2026-05"]),
        (date(2026, 1, 1), ["2025-12", "2026-01", "2026-02", "2026-03"]),
        (date(2026, 11, 30), ["2026-10", "2026-11", "2026-12", "2027-01"]),
    ],
)
def test_the_months_around_a_date(day: date, months: list[str]) -> None:
    assert partitions.months_around(day) == months


def test_a_malformed_period_is_refused_before_any_sql() -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        partitions._checked("2026-13")


def test_the_job_gives_up_rather_than_queue_the_uploads_behind_a_long_read(
    engine: Engine,
    session: Session,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not is_postgres(session):
        pytest.skip("SQLite keeps a plain settlement table")
    monkeypatch.setattr(partitions, "LOCK_TIMEOUT_MS", 200)
    far = date(2031, 6, 1)  # months no partition exists for
    with engine.connect() as reader, reader.begin():
        reader.execute(text("SELECT count(*) FROM settlement"))  # holds its lock until the end
        with pytest.raises(OperationalError, match="lock timeout"):
            _job(session_factory, far)
    assert not {"2031-05", "2031-06", "2031-07", "2031-08"} & partitions.existing(session)
    assert _job(session_factory, far) == ["2031-05", "2031-06", "2031-07", "2031-08"]


def test_a_large_upload_racing_another_of_the_same_settlement_is_a_conflict(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stored through COPY on PostgreSQL (≥ COPY_ROWS_MIN rows): the unique key's violation
    must reach the upload as SQLAlchemy's IntegrityError (409), not the driver's (500)."""
    builders.institution(session, "H001")
    assert _upload(session, "S0", "100.00")
    # the other upload commits S0 between this one's lookup and its insert
    monkeypatch.setattr(uploads, "_existing_hashes", lambda *_: {})
    items = [_item(f"S{i}", "100.00") for i in range(COPY_ROWS_MIN + 10)]
    actor = Principal(None, "user-H001", "hospital", "H001")

    with pytest.raises(Conflict, match="send the request again"):
        uploads.upload_bulk(session, items, actor=actor, now=at(DAY, 10))

    assert session.scalar(select(func.count()).select_from(SettlementKey)) == 1  # nothing more
    assert session.scalar(select(func.count()).select_from(Settlement)) == 1
