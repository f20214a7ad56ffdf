"""The three-flow check (三流核对, issue 19): business flow (settlements, daily lines,
statements, clearings), fund flow (instructions, receipts, the bank's statements) and
information flow (the ledger) agree, per fund ledger. Set-based SQL: each check is a few
grouped queries, whatever the number of rows. Reads only. The checks are in business.py,
funds.py, bank_statements.py and information.py; the report in report.py."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from app.threeflow.bank_statements import _bank_statements
from app.threeflow.business import _line_amounts, _settlements_in_lines
from app.threeflow.funds import _documents_paid, _instructions, _receipts
from app.threeflow.information import _in_transit, _institutions
from app.threeflow.report import Report


def check(
    session: Session, *, date_from: date | None = None, date_to: date | None = None
) -> Report:
    """Every check, for every fund ledger; documents dated within the range (settlement
    date, batch date, requested date, statement date), balances as they stand now."""
    report = Report(date_from, date_to)
    _settlements_in_lines(session, report)
    _line_amounts(session, report)
    _instructions(session, report)
    _documents_paid(session, report)
    _receipts(session, report)
    _bank_statements(session, report)
    _in_transit(session, report)
    _institutions(session, report)
    return report


def as_json(report: Report) -> dict[str, Any]:
    return {
        "from": report.date_from.isoformat() if report.date_from else None,
        "to": report.date_to.isoformat() if report.date_to else None,
        "ok": report.ok,
        "counts": report.counts,
        "difference_count": report.difference_count,
        "differences": [d.__dict__ for d in report.differences],
    }


def render(report: Report) -> str:
    """The command line's text: counts, then every difference, then the verdict."""
    span = f"{report.date_from or '…'} .. {report.date_to or '…'}"
    lines = [f"three-flow check (三流核对), documents {span}"]
    lines += [f"  {name}: {count}" for name, count in report.counts.items()]
    for d in report.differences:
        where = f"{d.region_code}:{d.insutype}" + (
            f":{d.fixmedins_code}" if d.fixmedins_code else ""
        )
        lines.append(f"DIFFERENCE {d.check} {where} {d.document}: {d.detail}")
    if report.difference_count > len(report.differences):
        lines.append(f"... {report.difference_count - len(report.differences)} more")
    lines.append("three flows agree" if report.ok else f"{report.difference_count} differences")
    return "\n".join(lines)
