"""The hospitals' monthly assistance statements (SPEC-ASSISTANCE A5, A10 "Statements"): the
computation, set-based per region's `610` fund ledger and period, and the recompute of a
disputed statement.

The statement of hospital H and month P is computed on the day the basic monthly computation
computes H's first statement of P (`compute_due` runs right after it, in the same job: a
(hospital, period) with a basic statement and no `AssistanceRun` yet). It takes H's unrevoked
settlements with `maf_pay` > 0, dated from the `610` fund's switch-on, of P or earlier and not
yet a line of a statement: the payable ones (three documents recorded, none rejected) are its
lines, the others are carried out. Settlements revoked after they became lines are its
negative lines. Amount = lines − negative lines − the offset of H's open assistance receivable
(never below zero, as SPEC §4's offset)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, and_, delete, exists, func, select
from sqlalchemy.orm import Session, aliased

from app.assistance.statement_models import (
    RECORDED,
    AssistanceDocument,
    AssistanceRun,
    AssistanceStatement,
    AssistanceStatementLine,
)
from app.clock import business_date, period_of
from app.db import any_of, in_chunks, insert_rows, reserve_ids
from app.institutions import service as institutions
from app.institutions.models import ASSISTANCE_INSUTYPE, FundLedger
from app.monthly.models import MonthlyStatement
from app.payables.offsets import open_receivables
from app.settlements.models import Revocation, Settlement

STATEMENT = cast(Table, AssistanceStatement.__table__)
LINE = cast(Table, AssistanceStatementLine.__table__)
RUN = cast(Table, AssistanceRun.__table__)
SYSTEM = "system"
Line = AssistanceStatementLine


def switched_on(session: Session, fund: FundLedger, today: date) -> date | None:
    """The day the `610` fund was switched on (its first active policy version), None while
    it is not on yet."""
    for version in institutions.policy_versions(session, fund.id):
        if version.active:
            return version.effective_from if version.effective_from <= today else None
    return None


def compute_due(session: Session, fund: FundLedger, *, today: date, now: datetime) -> list[int]:
    """Compute the assistance statements of every (hospital, period) of the region whose
    basic statement exists and whose assistance statement was not computed yet, period by
    period. Returns the new statement ids. Under the `610` fund ledger's lock."""
    assert fund.insutype == ASSISTANCE_INSUTYPE, fund.key
    start = switched_on(session, fund, today)
    if start is None:
        return []
    institutions.lock_fund_ledger(session, fund.id)
    pending = session.execute(
        select(MonthlyStatement.period, MonthlyStatement.fixmedins_code)
        .where(
            MonthlyStatement.region_code == fund.region_code,
            MonthlyStatement.period >= period_of(start),
            ~exists().where(
                AssistanceRun.fixmedins_code == MonthlyStatement.fixmedins_code,
                AssistanceRun.period == MonthlyStatement.period,
            ),
        )
        .distinct()
    ).all()
    by_period: dict[str, set[str]] = defaultdict(set)
    for period, code in pending:
        by_period[period].add(code)
    created: list[int] = []
    for period in sorted(by_period):
        for chunk in in_chunks(session, sorted(by_period[period])):
            created += _compute(session, fund, period, chunk, start=start, now=now)
    return created


def _payable() -> Any:
    """The settlement's three documents are recorded (the unique (settlement, document) and
    the status check make three RECORDED rows mean none rejected)."""
    return (
        select(func.count())
        .where(
            AssistanceDocument.settlement_id == Settlement.id,
            AssistanceDocument.status == RECORDED,
        )
        .scalar_subquery()
        == 3
    )


def _candidates(session: Session, codes: Sequence[str], period: str, start: date) -> list[Any]:
    """(id, code, maf_pay, payable) of the unrevoked settlements not yet a line."""
    return list(
        session.execute(
            select(
                Settlement.id, Settlement.fixmedins_code, Settlement.maf_pay_fen, _payable()
            ).where(
                any_of(session, Settlement.fixmedins_code, list(codes)),
                Settlement.maf_pay_fen > 0,
                Settlement.setl_date >= start,
                Settlement.period <= period,
                ~exists().where(Revocation.settlement_id == Settlement.id),
                ~exists().where(Line.settlement_id == Settlement.id, Line.negative.is_(False)),
            )
        ).all()
    )


def _negatives(session: Session, codes: Sequence[str], now: datetime) -> list[Any]:
    """(id, code, amount) of the settlements revoked after they were a line, not yet taken
    back by a negative line."""
    taken_back = aliased(Line)
    return list(
        session.execute(
            select(Settlement.id, Settlement.fixmedins_code, Line.amount_fen)
            .join(Line, and_(Line.settlement_id == Settlement.id, Line.negative.is_(False)))
            .join(Revocation, Revocation.settlement_id == Settlement.id)
            .where(
                any_of(session, Settlement.fixmedins_code, list(codes)),
                Revocation.revoked_at <= now,
                ~exists().where(
                    taken_back.settlement_id == Settlement.id, taken_back.negative.is_(True)
                ),
            )
        ).all()
    )


def _sums(
    session: Session, codes: Sequence[str], period: str, start: date, now: datetime
) -> tuple[dict[str, dict[str, int]], list[tuple[str, int, int, bool]]]:
    """Per hospital: lines, negative, settlements, carried; and the lines to write as
    (code, settlement id, amount, negative)."""
    sums: dict[str, dict[str, int]] = {code: defaultdict(int) for code in codes}
    lines: list[tuple[str, int, int, bool]] = []
    for settlement_id, code, amount, payable in _candidates(session, codes, period, start):
        if payable:
            sums[code]["lines"] += int(amount)
            sums[code]["settlements"] += 1
            lines.append((code, settlement_id, int(amount), False))
        else:
            sums[code]["carried"] += 1
    for settlement_id, code, amount in _negatives(session, codes, now):
        sums[code]["negative"] += int(amount)
        sums[code]["negatives"] += 1
        lines.append((code, settlement_id, int(amount), True))
    return sums, lines


def _values(fund: FundLedger, values: dict[str, int], open_fen: int) -> dict[str, Any]:
    gross = values["lines"] - values["negative"]
    offset = min(open_fen, max(gross, 0))
    return {
        "lines_fen": values["lines"],
        "negative_fen": values["negative"],
        "offset_fen": offset,
        "amount_fen": gross - offset,
        "settlements": values["settlements"],
        "carried": values["carried"],
    }


def _compute(
    session: Session,
    fund: FundLedger,
    period: str,
    codes: Sequence[str],
    *,
    start: date,
    now: datetime,
) -> list[int]:
    sums, lines = _sums(session, codes, period, start, now)
    present = [
        code
        for code in codes
        if sums[code]["settlements"] or sums[code]["carried"] or sums[code]["negatives"]
    ]
    ids = dict(zip(present, reserve_ids(session, STATEMENT, len(present)), strict=True))
    receivables = open_receivables(session, fund.region_code, fund.insutype, present)
    statements = [
        {
            "id": ids[code],
            "region_code": fund.region_code,
            "insutype": fund.insutype,
            "fixmedins_code": code,
            "period": period,
            "status": "COMPUTED",
            "version": 1,
            **_values(fund, sums[code], receivables[code]),
            "computed_at": now,
            "computed_by": SYSTEM,
        }
        for code in present
    ]
    insert_rows(session, STATEMENT, statements)
    _write_lines(session, ids, lines)
    runs = [
        {
            "region_code": fund.region_code,
            "fixmedins_code": code,
            "period": period,
            "statement_id": ids.get(code),
            "computed_at": now,
        }
        for code in codes
    ]
    insert_rows(session, RUN, runs)
    return [ids[code] for code in present]


def _write_lines(
    session: Session, ids: dict[str, int], lines: list[tuple[str, int, int, bool]]
) -> None:
    rows = [
        {"statement_id": ids[code], "settlement_id": sid, "amount_fen": amount, "negative": neg}
        for code, sid, amount, neg in lines
    ]
    insert_rows(session, LINE, rows)


def recompute(session: Session, statement: AssistanceStatement, now: datetime, by: str) -> None:
    """Compute a disputed statement afresh: its lines and offset are released first (a line
    taken back by a later statement's negative line stays, so the pair stays whole). The
    caller holds the fund ledger's lock and the statement's row."""
    taken_back = aliased(Line)
    session.execute(
        delete(Line)
        .where(
            Line.statement_id == statement.id,
            ~and_(
                Line.negative.is_(False),
                exists().where(
                    taken_back.settlement_id == Line.settlement_id,
                    taken_back.negative.is_(True),
                ),
            ),
        )
        .execution_options(synchronize_session=False)
    )
    statement.offset_fen = 0
    statement.amount_fen = statement.lines_fen - statement.negative_fen
    session.flush()
    fund = institutions.get_fund_ledger(session, statement.region_code, statement.insutype)
    code = statement.fixmedins_code
    start = switched_on(session, fund, business_date(now)) or date.min
    sums, lines = _sums(session, [code], statement.period, start, now)
    kept = session.execute(
        select(func.count(), func.coalesce(func.sum(Line.amount_fen), 0)).where(
            Line.statement_id == statement.id
        )
    ).one()
    sums[code]["lines"] += int(kept[1])
    sums[code]["settlements"] += int(kept[0])
    _write_lines(session, {code: statement.id}, lines)
    receivable = open_receivables(session, fund.region_code, fund.insutype, [code])[code]
    for key, value in _values(fund, sums[code], receivable).items():
        setattr(statement, key, value)
    statement.status = "COMPUTED"
    statement.version += 1
    statement.computed_at, statement.computed_by = now, by
    statement.confirmed_at = statement.confirmed_by = None
    statement.disputed_at = None
    session.flush()
