"""The three-flow check: the information flow (the ledger's in-transit, payable and
receivable balances against the documents). Moved out of app/threeflow/service.py as they were."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import Any

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from app.annual.models import AnnualClearing
from app.assistance.person_models import PersonClaim, PersonPayment, PersonRepayment
from app.assistance.person_status import PersonPaymentStatus
from app.assistance.statement_models import AssistanceStatement
from app.bank.models import PaymentInstruction
from app.daily.models import DailyBatch, DailyLine
from app.institutions.models import FundLedger
from app.ledger.models import LedgerAccount
from app.ledger.rules import normal_balance
from app.monthly.models import MonthlyStatement, Repayment
from app.settlements.models import Revocation, Settlement
from app.threeflow import rules
from app.threeflow.report import APPROVED, AWAITING, Difference, Report, _when


def _balances(session: Session, name: str) -> dict[tuple[str, str, str | None], int]:
    return {
        (region, insutype, code): normal_balance(name, dmc)
        for region, insutype, code, dmc in session.execute(
            select(
                LedgerAccount.region_code,
                LedgerAccount.insutype,
                LedgerAccount.fixmedins_code,
                LedgerAccount.balance_fen,
            ).where(LedgerAccount.name == name)
        )
    }


def _in_transit(session: Session, report: Report) -> None:
    """`in_transit` of each fund ledger equals its instructions awaiting a result."""
    awaiting = {
        (region, insutype): int(amount)
        for region, insutype, amount in session.execute(
            select(
                PaymentInstruction.region_code,
                PaymentInstruction.insutype,
                func.sum(PaymentInstruction.amount_fen),
            )
            .where(PaymentInstruction.status.in_(AWAITING))
            .group_by(PaymentInstruction.region_code, PaymentInstruction.insutype)
        )
    }
    ledger = {(r, t): b for (r, t, _), b in _balances(session, "in_transit").items()}
    funds = session.execute(select(FundLedger.region_code, FundLedger.insutype)).all()
    report.counts["fund_ledgers"] = len(funds)
    for region, insutype in funds:
        want, have = awaiting.get((region, insutype), 0), ledger.get((region, insutype), 0)
        # "sent" credits in_transit (SPEC §6): money on its way is a credit balance (negative)
        if want != -have:
            report.add(
                Difference(
                    "in_transit",
                    region,
                    insutype,
                    None,
                    f"in_transit:{region}:{insutype}",
                    f"ledger {-have} fen on its way, instructions awaiting a result {want} fen",
                )
            )


Key = tuple[str, str, str | None]


def _institutions(session: Session, report: Report) -> None:
    """`payable` of each institution equals what its documents leave open; its money
    received plus procurement advances minus repayments equals what its documents said it
    was owed."""
    docs: dict[Key, rules.Documents] = defaultdict(rules.Documents)

    def add(rows: Any, **fields: str) -> None:
        for row in rows:
            key = (row.region_code, row.insutype, row.code)
            values = {name: int(getattr(row, column) or 0) for name, column in fields.items()}
            current = docs[key]
            docs[key] = replace(current, **{n: getattr(current, n) + v for n, v in values.items()})

    add(
        session.execute(
            select(
                DailyBatch.region_code,
                DailyBatch.insutype,
                DailyLine.fixmedins_code.label("code"),
                func.sum(DailyLine.fund_total_fen).label("fund"),
            )
            .join(DailyBatch, DailyBatch.id == DailyLine.batch_id)
            .group_by(DailyBatch.region_code, DailyBatch.insutype, DailyLine.fixmedins_code)
        ),
        lines_fund="fund",
    )
    add(
        session.execute(
            select(
                Settlement.region_code,
                Settlement.insutype,
                Settlement.fixmedins_code.label("code"),
                func.sum(Settlement.fund_amount_fen).label("fund"),
            )
            .join(Revocation, Revocation.settlement_id == Settlement.id)
            .where(Revocation.reversal_batch_id.is_not(None))
            .group_by(Settlement.region_code, Settlement.insutype, Settlement.fixmedins_code)
        ),
        reversed_revocations="fund",
    )
    status = PaymentInstruction.status
    amount = PaymentInstruction.amount_fen
    add(
        session.execute(
            select(
                PaymentInstruction.region_code,
                PaymentInstruction.insutype,
                PaymentInstruction.fixmedins_code.label("code"),
                func.sum(amount).label("sent"),
                func.sum(_when(status.in_(("FAILED", "RETURNED")), amount)).label("back"),
                func.sum(_when(status == "SUCCESS", amount)).label("received"),
                func.sum(_when(status.in_(AWAITING), amount)).label("awaiting"),
            ).group_by(
                PaymentInstruction.region_code,
                PaymentInstruction.insutype,
                PaymentInstruction.fixmedins_code,
            )
        ),
        sent="sent",
        sent_back="back",
        received="received",
        awaiting="awaiting",
    )
    s = MonthlyStatement
    add(
        session.execute(
            select(
                s.region_code,
                s.insutype,
                s.fixmedins_code.label("code"),
                func.sum(s.audit_fen + s.deposit_fen + s.procurement_fen + s.offset_fen).label(
                    "taken"
                ),
                func.sum(_when(s.net_fen < 0, -s.net_fen)).label("negative"),
                func.sum(s.fund_pay_fen).label("fund"),
                func.sum(s.ratio_amount_fen - s.audit_fen).label("owed"),
                func.sum(s.procurement_fen).label("procurement"),
            )
            .where(s.status.in_(APPROVED))
            .group_by(s.region_code, s.insutype, s.fixmedins_code)
        ),
        statements_taken="taken",
        statements_negative="negative",
        statements_fund="fund",
        statements_owed="owed",
        statements_procurement="procurement",
    )
    c = AnnualClearing
    add(
        session.execute(
            select(
                c.region_code,
                c.insutype,
                c.fixmedins_code.label("code"),
                func.sum(
                    c.clearing_amount_fen
                    - c.approved_fund_fen
                    + c.deposit_held_fen
                    - c.forfeited_fen
                ).label("added"),
                func.sum(c.offset_fen).label("offset"),
                func.sum(_when(c.actual_fen < 0, -c.actual_fen)).label("negative"),
                func.sum(c.gross_fen).label("owed"),
            )
            .where(c.status.in_(APPROVED))
            .group_by(c.region_code, c.insutype, c.fixmedins_code)
        ),
        clearings_added="added",
        clearings_offset="offset",
        clearings_negative="negative",
        clearings_owed="owed",
    )
    # Assistance statements (610) post as clearings do (SPEC-ASSISTANCE A5): expense →
    # payable the gross, payable → receivable the offset, a negative amount to the receivable.
    a = AssistanceStatement
    add(
        session.execute(
            select(
                a.region_code,
                a.insutype,
                a.fixmedins_code.label("code"),
                func.sum(a.lines_fen - a.negative_fen).label("added"),
                func.sum(a.offset_fen).label("offset"),
                func.sum(_when(a.amount_fen < 0, -a.amount_fen)).label("negative"),
            )
            .where(a.status.in_(APPROVED))
            .group_by(a.region_code, a.insutype, a.fixmedins_code)
        ),
        clearings_added="added",
        clearings_offset="offset",
        clearings_negative="negative",
        clearings_owed="added",
    )
    add(
        session.execute(
            select(
                Repayment.region_code,
                Repayment.insutype,
                Repayment.fixmedins_code.label("code"),
                func.sum(Repayment.amount_fen).label("repaid"),
            ).group_by(Repayment.region_code, Repayment.insutype, Repayment.fixmedins_code)
        ),
        repayments="repaid",
    )
    _persons(session, add)
    payable = _balances(session, "payable")
    receivable = _balances(session, "receivable")
    keys = set(docs) | {k for k in payable if k[2]} | {k for k in receivable if k[2]}
    report.counts["institutions"] = len({k[2] for k in keys})
    for key in sorted(keys, key=lambda k: (k[0], k[1], k[2] or "")):
        region, insutype, code = key
        d = docs.get(key, rules.Documents())
        have_payable = payable.get(key, 0)
        want_payable = rules.payable_of(d)
        if have_payable != want_payable:
            report.add(
                Difference(
                    "payable",
                    region,
                    insutype,
                    code,
                    f"payable:{region}:{insutype}:{code}",
                    f"ledger {have_payable} fen, its open documents {want_payable} fen",
                )
            )
        got = rules.received_net(d)
        owed = rules.owed_of(d, payable_fen=have_payable, receivable_fen=receivable.get(key, 0))
        if got != owed:
            report.add(
                Difference(
                    "hospital_tie_out",
                    region,
                    insutype,
                    code,
                    f"institution:{code}",
                    f"received + procurement advances − repayments = {got} fen; "
                    f"its documents say it was owed {owed} fen",
                )
            )


# A person payment posts at approval (SPEC-ASSISTANCE A6) and stays posted whatever the bank does.
_PERSON_APPROVED = tuple(
    status.value
    for status in PersonPaymentStatus
    if status not in (PersonPaymentStatus.PENDING_APPROVAL, PersonPaymentStatus.REJECTED)
)


def _persons(session: Session, add: Any) -> None:
    """Persons paid by the assistance fund (slot `P<psn_no>` of the 610 accounts, A1), as
    clearings are: an approved payment adds its amount to `payable` and takes its deducted part
    to the receivable (A6); a negative clearing result (a claim) is owed back and a cash
    repayment repays it (A7). What the documents say the person was owed is the approved
    amounts less the claims."""
    p, c, r = PersonPayment, PersonClaim, PersonRepayment
    add(
        session.execute(
            select(
                p.region_code,
                literal("610").label("insutype"),
                (literal("P") + p.psn_no).label("code"),
                func.sum(p.amount_fen).label("added"),
                func.sum(p.deducted_fen).label("offset"),
            )
            .where(p.status.in_(_PERSON_APPROVED))
            .group_by(p.region_code, p.psn_no)
        ),
        clearings_added="added",
        clearings_offset="offset",
        clearings_owed="added",
    )
    add(
        session.execute(
            select(
                c.region_code,
                literal("610").label("insutype"),
                (literal("P") + c.psn_no).label("code"),
                (-func.sum(c.amount_fen)).label("claimed"),
            ).group_by(c.region_code, c.psn_no)
        ),
        clearings_owed="claimed",
    )
    add(
        session.execute(
            select(
                r.region_code,
                literal("610").label("insutype"),
                (literal("P") + r.psn_no).label("code"),
                func.sum(r.amount_fen).label("repaid"),
            ).group_by(r.region_code, r.psn_no)
        ),
        repayments="repaid",
    )
