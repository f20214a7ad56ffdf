"""The person's assistance statement of a year (issue 22 item 6), as JSON and as XLSX.
Staff only (hospitals see persons only through their own settlements); the certificate
number is masked for every role but admin."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import StreamingResponse

from app.assistance import person_statement, person_statement_export, register
from app.assistance.deduction_schemas import GrantedOut
from app.assistance.person_statement import PersonStatement
from app.assistance.person_statement_schemas import (
    HeldOut,
    PayersOut,
    PersonStatementOut,
    StatementClearingOut,
    StatementItemOut,
    StatementPaymentOut,
    StatementPersonOut,
)
from app.assistance.policy import Category, Visit
from app.auth.deps import Staff
from app.auth.principal import Principal
from app.deps import ClockDep, SessionDep
from app.http import StrictJSONRoute
from app.xlsx import response as xlsx_response

router = APIRouter(
    prefix="/api/v1/assistance", route_class=StrictJSONRoute, tags=["medical assistance"]
)

PsnPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,30}$", description="人员编号")]
YearPath = Annotated[int, Path(ge=2000, le=2099, description="calendar year")]


def shown_certno(certno: str, principal: Principal) -> str:
    return certno if principal.role == "admin" else register.mask_certno(certno)


def statement_out(found: PersonStatement, principal: Principal) -> PersonStatementOut:
    person = found.recipient
    year = found.found
    return PersonStatementOut(
        year=found.year,
        person=StatementPersonOut(
            psn_no=person.psn_no,
            name=person.name,
            certno=shown_certno(person.certno, principal),
            region=person.region_code,
            region_name=found.region_name,
            last_year_income=person.last_year_income_fen,
            categories=[
                HeldOut(category=h.category, valid_from=h.valid_from, valid_to=h.valid_to)
                for h in found.holdings
            ],
        ),
        items=[
            StatementItemOut(
                date=item.day,
                key=item.key,
                source=item.source,
                fixmedins_code=item.fixmedins_code,
                hospital=item.hospital,
                setl_id=item.setl_id,
                invoice_no=item.invoice_no,
                application=item.application,
                visit=Visit(item.visit),
                medfee=item.medfee_fen,
                inscp=item.inscp_fen,
                payers=PayersOut(**item.payers_fen),
                acct_pay=item.acct_pay_fen,
                cash=item.cash_fen,
                gross_base=item.gross_base_fen,
                deducted=item.deducted_fen,
                relief=item.relief_fen,
                base=item.base_fen,
                category=None if item.category is None else Category(item.category),
                amount=item.amount_fen,
            )
            for item in found.items
        ],
        due=year.due_fen,
        granted=year.granted_fen,
        granted_parts=GrantedOut(
            maf_pay=year.granted.maf_pay_fen,
            applications=year.granted.applications_fen,
            clearings=year.granted.clearings_fen,
        ),
        difference=year.difference_fen,
        clearings=[
            StatementClearingOut(
                reference=str(row["reference"]),
                kind=row.get("kind"),
                made_at=row.get("made_at"),
                difference=int(row["difference_fen"]),
                resolution=row.get("resolution"),
                status=row.get("status"),
            )
            for row in found.clearings
        ],
        payments=[
            StatementPaymentOut(
                reference=p.reference,
                kind=p.kind,
                recorded_on=p.recorded_on,
                amount=p.amount_fen,
                year_part=p.year_part_fen,
                deducted=p.deducted_fen,
                paid=p.paid_fen,
                status=p.status,
            )
            for p in found.payments
        ],
        receivable=found.receivable_fen,
    )


@router.get("/persons/{psn_no}/years/{year}/statement")
def get_person_statement(
    psn_no: PsnPath, year: YearPath, principal: Staff, session: SessionDep
) -> PersonStatementOut:
    """The person's assistance statement of a year: the person (certificate number masked
    but for admins) and the categories held in the year, the items with every payer and how
    the assistance was computed, due / granted / difference, the year's clearings, the
    payments to the person, the open receivable. 404 for a person not in the register."""
    return statement_out(person_statement.statement(session, psn_no, year), principal)


@router.get("/persons/{psn_no}/years/{year}/statement.xlsx", response_class=StreamingResponse)
def export_person_statement(
    psn_no: PsnPath, year: YearPath, principal: Staff, session: SessionDep, clock: ClockDep
) -> StreamingResponse:
    """The same statement as one printable XLSX sheet (个人医疗救助年度明细表)."""
    found = person_statement.statement(session, psn_no, year)
    book = person_statement_export.workbook(
        found, certno=shown_certno(found.recipient.certno, principal), now=clock.now()
    )
    return xlsx_response(book, f"assistance-statement-{psn_no}-{year}.xlsx")
