"""Builders for reference data and users (call services directly; no fixtures-of-fixtures)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from app.auth import service as auth
from app.auth.principal import Principal
from app.institutions import maintenance
from app.institutions import service as institutions
from app.institutions.models import FundLedger, Institution, Region
from app.institutions.schemas import (
    EnrollmentIn,
    FundLedgerIn,
    InstitutionIn,
    PolicyIn,
    RegionIn,
)

ADMIN = Principal(user_id=None, name="test-admin", role="admin")
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def region(session: Session, code: str = "640100", name: str = "银川市") -> Region:
    existing = session.get(Region, code)
    if existing is not None:
        return existing
    return maintenance.create_region(session, RegionIn(code=code, name=name), actor=ADMIN, now=NOW)


def fund(
    session: Session,
    region_code: str = "640100",
    insutype: str = "310",
    *,
    effective_from: date = date(2026, 1, 1),
    daily_ratio: str = "0.60",
    deposit_rate: str = "0.05",
    approval_threshold: str | None = None,
    requires_settlement_list: bool = False,
) -> FundLedger:
    region(session, region_code)
    existing = institutions.find_fund_ledger(session, region_code, insutype)
    if existing is not None:
        return existing
    ledger = maintenance.create_fund_ledger(
        session,
        FundLedgerIn(
            region_code=region_code,
            insutype=insutype,
            name=f"fund {region_code} {insutype}",
            expenditure_account="9558800000000" + insutype,
            expenditure_account_name="医保基金支出户",
            requires_settlement_list=requires_settlement_list,
        ),
        actor=ADMIN,
        now=NOW,
    )
    maintenance.add_policy_version(
        session,
        ledger,
        PolicyIn.model_validate(
            {
                "effective_from": effective_from.isoformat(),
                "daily_ratio": daily_ratio,
                "deposit_rate": deposit_rate,
                "approval_threshold": approval_threshold,
            }
        ),
        actor=ADMIN,
        now=NOW,
    )
    return ledger


def institution(
    session: Session,
    code: str = "H001",
    *,
    region_code: str = "640100",
    level: int = 3,
    insutypes: tuple[str, ...] = ("310",),
    start: date = date(2026, 1, 1),
    name: str | None = None,
) -> Institution:
    for insutype in insutypes:
        fund(session, region_code, insutype)
    return maintenance.create_institution(
        session,
        InstitutionIn(
            code=code,
            name=name or f"医院{code}",
            level=level,
            region_code=region_code,
            bank_account="6222" + "".join(f"{ord(c):03d}" for c in code)[:26],
            bank_account_name=name or f"医院{code}",
            bank_code="102871000011",
            enrollments=[EnrollmentIn(insutype=t, start_date=start) for t in insutypes],  # type: ignore[arg-type]
        ),
        actor=ADMIN,
        now=NOW,
    )


def user_token(session: Session, name: str, role: str, fixmedins_code: str | None = None) -> str:
    auth.create_user(
        session, name=name, role=role, fixmedins_code=fixmedins_code, actor=ADMIN, now=NOW
    )
    _, token = auth.issue_token(session, name=name, actor=ADMIN, now=NOW)
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
