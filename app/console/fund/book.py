"""The fund ledgers and their policy versions, read once per page (two queries: there are a
few dozen fund ledgers), and the calendar: what the deadlines of the pages are computed from."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import at_shanghai
from app.console.statuses import FUND_NAMES
from app.institutions import rules as institution_rules
from app.institutions import service as institutions
from app.institutions.models import FundLedger, PolicyVersion, Region
from app.workdays import service as workdays
from app.workdays.rules import WorkCalendar


@dataclass(frozen=True)
class Deadline:
    """Today's submission of a fund ledger: sent at `submission`, nothing after `cutoff`."""

    submission: datetime
    cutoff: datetime


@dataclass(frozen=True)
class FundBook:
    funds: dict[int, FundLedger]
    versions: dict[int, list[institution_rules.Policy]]
    region_names: dict[str, str]
    calendar: WorkCalendar

    def find(self, region_code: str, insutype: str) -> FundLedger | None:
        for fund in self.funds.values():
            if (fund.region_code, fund.insutype) == (region_code, insutype):
                return fund
        return None

    def policy(self, fund_id: int, day: date) -> institution_rules.Policy | None:
        """The version in force on `day`; else the latest one (a switched-off fund ledger
        still shows the times it had)."""
        versions = self.versions.get(fund_id, [])
        return institution_rules.in_force(versions, day) or (versions[-1] if versions else None)

    def submission_times(self, fund_id: int, day: date) -> tuple[time, time]:
        """(submission, cut-off) wall-clock times in Shanghai on `day`."""
        policy = self.policy(fund_id, day)
        assert policy is not None, f"fund ledger {fund_id} has no policy"
        return policy.submission_time, policy.cutoff_time

    def deadline(self, fund_id: int, day: date) -> Deadline:
        submission, cutoff = self.submission_times(fund_id, day)
        return Deadline(at_shanghai(day, submission), at_shanghai(day, cutoff))

    def label(self, region_code: str, insutype: str) -> str:
        """`银川市（640100）职工医保`."""
        region = self.region_names.get(region_code, region_code)
        return f"{region}（{region_code}）{FUND_NAMES.get(insutype, insutype)}"

    def short(self, region_code: str, insutype: str) -> str:
        """`银川市 职工医保` (lists, where the codes are in the filters)."""
        region = self.region_names.get(region_code, region_code)
        return f"{region} {FUND_NAMES.get(insutype, insutype)}"

    def ordered(self) -> list[FundLedger]:
        return sorted(self.funds.values(), key=lambda f: (f.region_code, f.insutype))


def load(session: Session) -> FundBook:
    funds = {fund.id: fund for fund in institutions.list_fund_ledgers(session)}
    versions: dict[int, list[institution_rules.Policy]] = defaultdict(list)
    for version in session.scalars(
        select(PolicyVersion).order_by(PolicyVersion.fund_ledger_id, PolicyVersion.effective_from)
    ):
        versions[version.fund_ledger_id].append(institutions.policy_of(version))
    names = {code: name for code, name in session.execute(select(Region.code, Region.name))}
    return FundBook(funds, dict(versions), names, workdays.load(session))
