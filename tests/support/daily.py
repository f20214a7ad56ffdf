"""Helpers to upload settlements and generate batches through the services."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.clock import SHANGHAI
from app.daily import service as daily
from app.daily.models import DailyBatch
from app.institutions import service as institutions
from app.money import yuan
from app.settlements import service as settlements
from app.settlements.schemas import SettlementIn
from app.workdays.rules import WorkCalendar


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def settle(
    session: Session,
    code: str,
    setl_id: str,
    fund_fen: int,
    day: date,
    *,
    insutype: str = "310",
    uploaded: datetime | None = None,
    hour: int = 9,
) -> None:
    record = SettlementIn.model_validate(
        {
            "fixmedins_code": code,
            "setl_id": setl_id,
            "psn_no": "P1",
            "insutype": insutype,
            "med_type": "21",
            "insuplc_admdvs": "640100",
            "setl_time": at(day, hour).isoformat(),
            "medfee_sumamt": yuan(fund_fen + 100),
            "hifp_pay": yuan(fund_fen),
            "hifob_pay": "0.00",
        }
    )
    actor = Principal(None, f"user-{code}", "hospital", code)
    settlements.upload_one(session, record, actor=actor, now=uploaded or at(day, hour + 1))


def revoke(session: Session, code: str, setl_id: str, when: datetime) -> None:
    settlements.revoke(
        session,
        code,
        setl_id,
        "test",
        actor=Principal(None, f"user-{code}", "hospital", code),
        now=when,
    )


def generate(
    session: Session, day: date, insutype: str = "310", region: str = "640100"
) -> DailyBatch:
    fund = institutions.get_fund_ledger(session, region, insutype)
    generated = datetime.combine(
        date.fromordinal(day.toordinal() + 1), time(0, 30), tzinfo=SHANGHAI
    )
    batch = daily.generate(session, fund, day, now=generated, calendar=WorkCalendar())
    assert batch is not None
    return batch
