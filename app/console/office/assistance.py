"""救助对象: the street-office case worker's pages of the medical-assistance fund (issue 22):
the register searched by number, name, region and category (certificate numbers masked but
for admins), a person's page (categories, the person-year of a chosen year with its items,
due, granted and difference, payments, claims with 告知已送达, the year's deductions) and the
person-year's print view. Staff read; operators (case workers) mark notices delivered."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.assistance import claims
from app.clock import business_date
from app.console import assistance_labels as names
from app.console.listing import Filter, read_query
from app.console.office import assistance_queries as queries
from app.console.office.common import Fields, OperatorUser, StaffUser, back_to, done, page, router
from app.db import transaction
from app.deps import ClockDep, SessionDep
from app.errors import DomainError
from app.institutions import service as institutions
from app.pagination import decode_text_cursor, encode_cursor

pages = router()

LIST_PATH = "/console/assistance/persons"
PAGE_SIZE = 50
PsnPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,30}$")]
ClaimPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,40}$")]
YearPath = Annotated[int, Path(ge=2000, le=2099)]
YearQuery = Annotated[int | None, Query(ge=2000, le=2099)]


def _filters(session: Session) -> list[Filter]:
    regions = [(r.code, f"{r.name}（{r.code}）") for r in institutions.list_regions(session)]
    return [
        Filter("q", "人员编号或姓名", "text", pattern=r"[^\s<>\"'%]{1,50}", chars_max=50),
        Filter("region", "统筹区", "select", options=regions),
        Filter("category", "救助类别", "select", options=list(names.CATEGORIES.items())),
    ]


@pages.get("/assistance/persons")
def person_list(request: Request, principal: StaffUser, session: SessionDep) -> Response:
    filters = _filters(session)
    query = read_query(request.query_params, filters)
    after = None
    raw_after = request.query_params.get("after")
    if raw_after:
        try:
            after = decode_text_cursor(raw_after)
        except DomainError:
            query.errors.append("翻页位置无效，已回到第一页")
    rows = queries.search(
        session,
        principal,
        text=query.get("q"),
        region_code=query.get("region"),
        category=query.get("category"),
        after_psn_no=after,
        limit=PAGE_SIZE + 1,
    )
    shown, more = rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
    return page(
        request,
        "office/assistance_persons.html",
        principal,
        {
            "title": "救助对象",
            "filters": filters,
            "query": query,
            "rows": shown,
            "names": names,
            "next_url": query.url(LIST_PATH, after=encode_cursor(shown[-1].psn_no))
            if more
            else None,
            "first_url": query.url(LIST_PATH) if after else None,
            "errors": query.errors,
        },
        status=422 if query.errors else 200,
    )


def _year_view(session: Session, psn_no: str, year: int) -> dict[str, Any]:
    found = queries.year_of(session, psn_no, year)
    items = []
    for item in found.result.items:
        stored = found.stored[item.key]
        where, which = names.item_source(item.key)
        items.append(
            {
                "result": item,
                "day": stored.item.day,
                "where": where,
                "which": which,
                "visit": names.VISITS.get(item.visit, item.visit),
                "category": names.category(item.category),
                "maf_pay_fen": stored.maf_pay_fen,
            }
        )
    return {"year_result": found, "items": items}


def _person_context(session: Session, principal: Any, psn_no: str, year: int, today: Any) -> Any:
    person = queries.person(session, psn_no, principal)
    first = queries.switched_on(session, person.region_code)
    return {
        "person": person,
        "region": institutions.get_region(session, person.region_code),
        "year": year,
        "years": queries.years_offered(today.year, year, first),
        "switched_on": first,
        "names": names,
        "today": today,
        **_year_view(session, psn_no, year),
    }


@pages.get("/assistance/persons/{psn_no}")
def person_page(
    request: Request,
    psn_no: PsnPath,
    principal: StaffUser,
    session: SessionDep,
    clock: ClockDep,
    year: YearQuery = None,
) -> Response:
    today = business_date(clock.now())
    context = _person_context(session, principal, psn_no, year or today.year, today)
    return page(
        request,
        "office/assistance_person.html",
        principal,
        {
            "title": f"救助对象 {context['person'].name}",
            **context,
            "payments": queries.payments(session, psn_no),
            "claims": queries.person_claims(session, psn_no),
            "receivable_fen": queries.receivable_fen(session, psn_no),
            "here": f"{LIST_PATH}/{psn_no}?year={context['year']}",
        },
    )


@pages.get("/assistance/persons/{psn_no}/years/{year}/print")
def person_year_print(
    request: Request,
    psn_no: PsnPath,
    year: YearPath,
    principal: StaffUser,
    session: SessionDep,
    clock: ClockDep,
) -> Response:
    """救助明细表 of one person-year: one A4 page where the items fit."""
    today = business_date(clock.now())
    context = _person_context(session, principal, psn_no, year, today)
    return page(
        request,
        "office/assistance_print.html",
        principal,
        {"title": f"医疗救助明细表 {year}年度", **context, "printed_on": today},
    )


@pages.post("/assistance/claims/{reference}/notice-delivered")
def notice_delivered(
    request: Request, reference: ClaimPath, fields: Fields, principal: OperatorUser, clock: ClockDep
) -> Response:
    """事前告知已送达 for the claim of clearing `reference` (the service's own rule: again,
    nothing changes); back to the person's page."""
    with transaction(request.app.state.session_factory) as writing:
        claim = claims.notice_delivered(writing, reference, actor=principal, now=clock.now())
        person_path = f"{LIST_PATH}/{claim.psn_no}"
    return done(back_to(fields, person_path), "notice_delivered")
