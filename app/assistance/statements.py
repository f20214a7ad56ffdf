"""The hospitals' assistance statements in the payable-document flow (`app.payables`, the
third kind after monthly statements and annual clearings): the adapter, its posting at
approval (SPEC-ASSISTANCE A5), its instruction id, the list, the detail lines and the
scenario's rows. The computation is in `statement_computation`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.assistance import statement_computation as computation
from app.assistance.statement_models import AssistanceStatement, AssistanceStatementLine
from app.bank import rules as bank_rules
from app.institutions.models import FundLedger
from app.ledger import assistance_entries as entries
from app.ledger import service as ledger
from app.money import yuan
from app.payables import service as payables
from app.settlements.models import Settlement

# The assistance instruction id (docs/rules.md "Assistance statements"): `J` (救助) and the
# period's YYMM, the fund part as the monthly id's, the institution: J2603-6401610-H001.
INSTRUCTION_PREFIX = "J"


def instruction_id(period: str, region_code: str, code: str) -> str:
    first = f"{INSTRUCTION_PREFIX}{period[2:4]}{period[5:7]}-{region_code[:4]}610-{code}"
    assert bank_rules.INSTRUCTION_ID_RE.fullmatch(first), f"bad instruction id {first!r}"
    return first


class AssistanceStatementKind(payables.Kind[AssistanceStatement]):
    """Assistance statements: the amount is paid from the `610` fund's expenditure account,
    instruction kind `assistance`."""

    name, model, amount = "assistance_statement", AssistanceStatement, "amount_fen"
    # A returned payment (退票) is owed again and nothing else takes it (the basic monthly
    # computation takes only 310/390 returns): the accountant re-approves it for resending.
    resend_returned = True

    def components(self, statement: AssistanceStatement) -> dict[str, Any]:
        return {
            "lines": statement.lines_fen,
            "negative": statement.negative_fen,
            "offset": statement.offset_fen,
            "amount": statement.amount_fen,
            "settlements": statement.settlements,
            "carried": statement.carried,
        }

    def recompute(
        self, session: Session, statement: AssistanceStatement, now: datetime, by: str
    ) -> None:
        computation.recompute(session, statement, now, by)

    def post_approval(
        self, session: Session, statement: AssistanceStatement, now: datetime
    ) -> None:
        draft = entries.assistance_statement_approval(
            statement_id=statement.id,
            version=statement.version,
            region_code=statement.region_code,
            fixmedins_code=statement.fixmedins_code,
            period=statement.period,
            gross_fen=statement.lines_fen - statement.negative_fen,
            offset_fen=statement.offset_fen,
            amount_fen=statement.amount_fen,
            effective_at=now,
        )
        if draft is not None:
            ledger.post(session, draft, now=now)

    def payment(self, statement: AssistanceStatement, fund: FundLedger) -> payables.Payment:
        period = statement.period
        first_id = instruction_id(period, fund.region_code, statement.fixmedins_code)
        return payables.Payment(first_id, "assistance", f"医疗救助月结算 {period}", period)


FLOW = payables.Flow(AssistanceStatementKind())


# --- reading -----------------------------------------------------------------------------------


def list_statements(
    session: Session,
    *,
    fixmedins_code: str | None,
    period: str | None,
    status: str | None,
    region_code: str | None,
    after_id: int | None,
    limit: int,
) -> list[AssistanceStatement]:
    return FLOW.documents(
        session,
        after_id=after_id,
        limit=limit,
        fixmedins_code=fixmedins_code,
        period=period,
        status=status,
        region_code=region_code,
    )


def lines_of(session: Session, statement_id: int) -> list[tuple[AssistanceStatementLine, str]]:
    """The statement's lines with each settlement's setl_id, positive ones first."""
    line = AssistanceStatementLine
    return [
        (row, setl_id)
        for row, setl_id in session.execute(
            select(line, Settlement.setl_id)
            .join(Settlement, Settlement.id == line.settlement_id)
            .where(line.statement_id == statement_id)
            .order_by(line.negative, Settlement.setl_id, line.id)
        ).all()
    ]


def scenario_rows(session: Session) -> list[dict[str, Any]]:
    """SCENARIOS.md `assistance_statements`, sorted by (period, region, fixmedins_code)."""
    rows = [
        {
            "period": s.period,
            "region": s.region_code,
            "fixmedins_code": s.fixmedins_code,
            "amount": yuan(s.amount_fen),
            "settlements": s.settlements,
            "carried": s.carried,
            "status": s.status,
        }
        for s in session.scalars(select(AssistanceStatement))
    ]
    return sorted(rows, key=lambda r: (r["period"], r["region"], r["fixmedins_code"]))
