"""Medical-assistance API (API.md "Medical assistance"): the recipients register. Case workers
(街镇经办) are operators; staff read; hospitals never read the register; certificate numbers
are masked for every role but admin."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from app.assistance import recipients, register
from app.assistance.models import Recipient, RecipientImport
from app.assistance.policy import Category, Holding
from app.assistance.schemas import (
    CategoryOut,
    ImportIn,
    ImportLineOut,
    ImportOut,
    RecipientIn,
    RecipientOut,
)
from app.auth.deps import Operator, Staff
from app.auth.principal import Principal
from app.deps import ClockDep, SessionDep
from app.http import StrictJSONRoute
from app.pagination import CursorQuery, LimitQuery, Page, decode_text_cursor, page_of

router = APIRouter(
    prefix="/api/v1/assistance", route_class=StrictJSONRoute, tags=["medical assistance"]
)

PsnPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,30}$", description="人员编号")]


def recipient_out(recipient: Recipient, held: list[Holding], principal: Principal) -> RecipientOut:
    certno = (
        recipient.certno if principal.role == "admin" else register.mask_certno(recipient.certno)
    )
    return RecipientOut(
        psn_no=recipient.psn_no,
        name=recipient.name,
        certno=certno,
        region_code=recipient.region_code,
        bank_account=recipient.bank_account,
        bank_account_name=recipient.bank_account_name,
        bank_code=recipient.bank_code,
        last_year_income=recipient.last_year_income_fen,
        categories=[CategoryOut(**h.__dict__) for h in held],
        updated_at=recipient.updated_at,
    )


@router.get("/recipients")
def list_recipients(
    principal: Staff,
    session: SessionDep,
    limit: LimitQuery = 100,
    cursor: CursorQuery = None,
    region_code: Annotated[str | None, Query(pattern=r"^[0-9]{6}$")] = None,
    category: Category | None = None,
    on: Annotated[date | None, Query(description="holding a category (the one given) on")] = None,
) -> Page[RecipientOut]:
    rows = recipients.listing(
        session,
        region_code=region_code,
        category=category,
        on=on,
        after_psn_no=decode_text_cursor(cursor),
        limit=limit + 1,
    )
    page, next_cursor = page_of(rows, limit, lambda row: row.psn_no)
    held = recipients.holdings_of(session, [row.id for row in page])
    return Page(
        items=[recipient_out(row, held[row.id], principal) for row in page],
        next_cursor=next_cursor,
    )


@router.get("/recipients/{psn_no}")
def get_recipient(psn_no: PsnPath, principal: Staff, session: SessionDep) -> RecipientOut:
    recipient = recipients.get(session, psn_no)
    return recipient_out(recipient, recipients.holdings(session, recipient.id), principal)


@router.put("/recipients/{psn_no}", status_code=201)
def put_recipient(
    psn_no: PsnPath,
    body: RecipientIn,
    actor: Operator,
    session: SessionDep,
    clock: ClockDep,
    response: Response,
) -> RecipientOut:
    """Register (201) or update (200) one person: the record replaces the person's fields;
    its categories merge into the held ones by (category, valid_from)."""
    with session.begin():
        recipient, created = recipients.put(session, psn_no, body, actor=actor, now=clock.now())
        if not created:
            response.status_code = 200
        return recipient_out(recipient, recipients.holdings(session, recipient.id), actor)


@router.post("/recipient-imports", status_code=201)
def import_recipients(
    body: ImportIn, actor: Operator, session: SessionDep, clock: ClockDep, response: Response
) -> ImportOut:
    """An office's monthly list (civil affairs, poverty, disabled persons): idempotent per
    (source, month): 201 imported, 200 the same content again, 409 other content."""
    with session.begin():
        row, created = recipients.import_list(session, body, actor=actor, now=clock.now())
        if not created:
            response.status_code = 200
        return import_out(row)


def import_out(row: RecipientImport) -> ImportOut:
    lines = [ImportLineOut(**line) for line in row.result]
    return ImportOut(
        source=row.source,  # type: ignore[arg-type]
        month=row.month,
        items=row.item_count,
        new=sum(1 for line in lines if line.flag == "new"),
        updated=sum(1 for line in lines if line.flag == "updated"),
        exited=sum(1 for line in lines if line.flag == "exited"),
        lines=lines,
        imported_at=row.imported_at,
        imported_by=row.imported_by,
    )
