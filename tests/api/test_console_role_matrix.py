"""Every console route × every role, logged in through the console (the API has its own table,
tests/api/test_role_matrix.py). The roles follow API.md and docs/rules.md "Roles": admins
administer (users, passwords, tokens; with operators the reference data), operators operate,
accountants approve and pay, auditors read everything and write nothing, hospitals only their
own. A console route missing from MATRIX fails the suite: a new page must be decided here.

An allowed GET answers 200 (or the 404 of a sample that does not exist, named below); an
allowed POST is let past the role check (any answer but 403 or the login page: the samples of
POSTs do not exist or the form is empty, so nothing of substance is written); a refused role
gets the 403 page. Without a login, a GET goes to the login page and a POST is refused.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import Settings
from app.main import create_app
from tests.support.console import csrf_of, log_in, statement
from tests.support.office import PEOPLE, world

HO, OP, AC, AU, AD = "hospital", "operator", "accountant", "auditor", "admin"
ROLES = (HO, OP, AC, AU, AD)
EVERYONE = frozenset(ROLES)
STAFF = frozenset({OP, AC, AU, AD})
REFERENCE = frozenset({OP, AD})  # institutions, policies, the calendar
OPERATE = frozenset({OP})
ADMINISTER = frozenset({AD})
USER_READERS = frozenset({AD, AU})
TRAIL_READERS = frozenset({AU, AD, OP})
PUBLIC = "public"  # the login form
SESSION = "session"  # logout: any logged-in person (checked last, it ends the session)

MATRIX: dict[tuple[str, str], frozenset[str] | str] = {
    # the foundation
    ("GET", "/console/login"): PUBLIC,
    ("POST", "/console/login"): PUBLIC,
    ("POST", "/console/logout"): SESSION,
    ("GET", "/console/"): EVERYONE,
    ("GET", "/console/statements.xlsx"): EVERYONE,
    ("GET", "/console/statements/{statement_id}"): EVERYONE,  # a hospital: its own only
    ("GET", "/console/{rest:path}"): EVERYONE,  # the 404 page
    ("POST", "/console/{rest:path}"): EVERYONE,
    # institutions and policies: staff read, operators and admins edit
    ("GET", "/console/institutions"): STAFF,
    ("GET", "/console/institutions/{code}"): STAFF,
    ("POST", "/console/institutions/{code}"): REFERENCE,
    ("POST", "/console/institutions/{code}/enrollments"): REFERENCE,
    ("POST", "/console/institutions/{code}/enrollments/{enrollment_id}/end"): REFERENCE,
    ("GET", "/console/fund-ledgers/{region_code}/{insutype}"): STAFF,
    ("POST", "/console/fund-ledgers/{region_code}/{insutype}/policies"): REFERENCE,
    # the calendar
    ("GET", "/console/calendar"): STAFF,
    ("GET", "/console/calendar/{year}"): STAFF,
    ("POST", "/console/calendar/{year}/overrides"): REFERENCE,
    ("POST", "/console/calendar/{year}/overrides/remove"): REFERENCE,
    ("POST", "/console/calendar/{year}/confirm"): REFERENCE,
    # smart audit, advances, assessments: operators act, staff read
    ("GET", "/console/audits"): STAFF,
    ("GET", "/console/audits/import"): OPERATE,
    ("GET", "/console/audits/import/template.csv"): OPERATE,
    ("POST", "/console/audits/import"): OPERATE,
    ("POST", "/console/audits/import/confirm"): OPERATE,
    ("GET", "/console/audits/{code}/{setl_id}/{rule_code}"): STAFF,
    ("POST", "/console/audits/{code}/{setl_id}/{rule_code}/review"): OPERATE,
    ("POST", "/console/audits/{code}/{setl_id}/{rule_code}/consultation"): OPERATE,
    ("GET", "/console/appeals"): STAFF,
    ("GET", "/console/advances"): STAFF,
    ("POST", "/console/advances"): OPERATE,
    ("GET", "/console/assessments"): STAFF,
    ("POST", "/console/assessments"): OPERATE,
    # medical assistance: clearing suggestions and the notice; operators clear and deliver
    ("GET", "/console/assistance/clearing-suggestions"): STAFF,
    ("POST", "/console/assistance/clearing-suggestions/clear"): OPERATE,
    ("POST", "/console/assistance/clearing-suggestions/clear-all"): OPERATE,
    ("GET", "/console/assistance/clearings/{reference}/notice"): STAFF,
    ("POST", "/console/assistance/clearings/{reference}/notice-delivered"): OPERATE,
    # jobs and alerts
    ("GET", "/console/jobs"): STAFF,
    ("POST", "/console/jobs/{name}/run"): OPERATE,
    ("GET", "/console/alerts"): STAFF,
    ("POST", "/console/alerts/{alert_id}/acknowledge"): OPERATE,
    # the ledger and the trail (the auditor's pages; staff read)
    ("GET", "/console/ledger/accounts"): STAFF,
    ("GET", "/console/ledger/entries"): STAFF,
    ("GET", "/console/ledger/entries/{entry_id}"): STAFF,
    ("GET", "/console/ledger/trial-balance"): STAFF,
    ("GET", "/console/ledger/verify"): STAFF,
    ("GET", "/console/trail"): TRAIL_READERS,
    # users and tokens: admins; auditors read the lists
    ("GET", "/console/users"): USER_READERS,
    ("POST", "/console/users"): ADMINISTER,
    ("GET", "/console/users/{name}"): USER_READERS,
    ("POST", "/console/users/{name}/active"): ADMINISTER,
    ("POST", "/console/users/{name}/password"): ADMINISTER,
    ("POST", "/console/users/{name}/tokens"): ADMINISTER,
    ("POST", "/console/tokens/{token_id}/revoke"): ADMINISTER,
    # the hospital finance officer's pages: its own institution only; staff have theirs
    ("GET", "/console/hospital/settlements"): frozenset({HO}),
    ("GET", "/console/hospital/settlements.xlsx"): frozenset({HO}),
    ("GET", "/console/hospital/settlements/{settlement_id}"): frozenset({HO}),
    ("GET", "/console/hospital/daily"): frozenset({HO}),
    ("GET", "/console/hospital/daily.xlsx"): frozenset({HO}),
    ("GET", "/console/hospital/statements"): frozenset({HO}),
    ("GET", "/console/hospital/statements.xlsx"): frozenset({HO}),
    ("GET", "/console/hospital/statements/{statement_id}"): frozenset({HO}),
    ("GET", "/console/hospital/statements/{statement_id}/export.xlsx"): frozenset({HO}),
    ("GET", "/console/hospital/statements/{statement_id}/print"): frozenset({HO}),
    ("POST", "/console/hospital/statements/{statement_id}/confirm"): frozenset({HO}),
    ("POST", "/console/hospital/statements/{statement_id}/dispute"): frozenset({HO}),
    ("GET", "/console/hospital/audits"): frozenset({HO}),
    ("GET", "/console/hospital/audits.xlsx"): frozenset({HO}),
    ("GET", "/console/hospital/audits/{item_id}"): frozenset({HO}),
    ("POST", "/console/hospital/audits/{item_id}/appeal-upload"): frozenset({HO}),
    ("POST", "/console/hospital/audits/{item_id}/files-upload"): frozenset({HO}),
    ("GET", "/console/audit-attachments/{attachment_id}"): EVERYONE,  # a hospital: its own
    ("GET", "/console/hospital/clearings"): frozenset({HO}),
    ("GET", "/console/hospital/clearings/{clearing_id}"): frozenset({HO}),
    ("GET", "/console/hospital/clearings/{clearing_id}/print"): frozenset({HO}),
    ("POST", "/console/hospital/clearings/{clearing_id}/confirm"): frozenset({HO}),
    ("POST", "/console/hospital/clearings/{clearing_id}/dispute"): frozenset({HO}),
    ("GET", "/console/hospital/account"): frozenset({HO}),
    ("GET", "/console/hospital/account.xlsx"): frozenset({HO}),
    ("GET", "/console/hospital/declarations"): frozenset({HO}),
    ("POST", "/console/hospital/declarations"): frozenset({HO}),
    # the fund accountant's pages: staff read, accountants approve and record money
    ("GET", "/console/fund/queue"): STAFF,
    ("GET", "/console/fund/payments"): STAFF,
    ("GET", "/console/fund/funds"): STAFF,
    ("GET", "/console/fund/batches/{batch_id}"): STAFF,
    ("GET", "/console/fund/batches/{batch_id}/lines/{code}"): STAFF,
    ("GET", "/console/fund/statements/{statement_id}"): STAFF,
    ("GET", "/console/fund/clearings/{clearing_id}"): STAFF,
    ("POST", "/console/fund/approve"): frozenset({AC}),
    ("POST", "/console/fund/batches/{batch_id}/reject"): frozenset({AC}),
    ("POST", "/console/fund/appropriations"): frozenset({AC}),
    ("POST", "/console/fund/repayments"): frozenset({AC}),
    # payee changes: staff read, an accountant other than the requester decides
    ("GET", "/console/fund/payees"): STAFF,
    ("POST", "/console/fund/payees/{code}/{change_id}/approve"): frozenset({AC}),
    ("POST", "/console/fund/payees/{code}/{change_id}/reject"): frozenset({AC}),
    # medical assistance: case workers (operators) keep the persons, staff read them, hospitals
    # never see a person; accountants approve payments to persons and assistance statements;
    # a hospital confirms its own assistance statements and records their documents
    ("GET", "/console/assistance/persons"): STAFF,
    ("GET", "/console/assistance/persons/{psn_no}"): STAFF,
    ("GET", "/console/assistance/persons/{psn_no}/years/{year}/print"): STAFF,
    ("POST", "/console/assistance/claims/{reference}/notice-delivered"): OPERATE,
    ("GET", "/console/fund/assistance/payments"): STAFF,
    ("POST", "/console/fund/assistance/payments/{payment_id}/reject"): frozenset({AC}),
    ("GET", "/console/fund/assistance-statements/{statement_id}"): STAFF,
    ("GET", "/console/hospital/assistance-statements"): frozenset({HO}),
    ("GET", "/console/hospital/assistance-statements/{statement_id}"): frozenset({HO}),
    ("POST", "/console/hospital/assistance-statements/{statement_id}/confirm"): frozenset({HO}),
    ("POST", "/console/hospital/assistance-statements/{statement_id}/dispute"): frozenset({HO}),
    ("POST", "/console/hospital/assistance-documents"): frozenset({HO}),
}

# Samples: GETs read things that exist (200), POSTs name things that do not (nothing written).
GET_SAMPLES = {
    "code": "H001",
    "region_code": "640100",
    "insutype": "310",
    "year": "2026",
    "setl_id": "S1",
    "rule_code": "R01",
    "name": "adm",
    "rest": "nowhere",
    "batch_id": "999999",
    "clearing_id": "999999",
    "settlement_id": "999999",
    "item_id": "999999",
    "attachment_id": "999999",
    "psn_no": "P404",  # not in the register: the person pages answer 404
    "reference": "RT-NONE",
}
POST_SAMPLES = {
    "code": "H404",
    "enrollment_id": "999999",
    "region_code": "640100",
    "insutype": "390",
    "year": "2026",
    "setl_id": "S404",
    "rule_code": "R404",
    "name": "nobody",
    "alert_id": "999999",
    "token_id": "999999",
    "rest": "nowhere",
    "batch_id": "999999",
    "statement_id": "999999",
    "clearing_id": "999999",
    "item_id": "999999",
    "change_id": "999999",
    "reference": "CL404",
    "payment_id": "999999",
}
NOT_FOUND = {  # allowed, and a 404 page by design (or the sample does not exist)
    "/console/{rest:path}",
    "/console/fund/batches/{batch_id}",
    "/console/fund/batches/{batch_id}/lines/{code}",
    "/console/fund/clearings/{clearing_id}",
    "/console/hospital/settlements/{settlement_id}",
    "/console/hospital/audits/{item_id}",
    "/console/hospital/clearings/{clearing_id}",
    "/console/hospital/clearings/{clearing_id}/print",
    "/console/audit-attachments/{attachment_id}",
    "/console/assistance/persons/{psn_no}",
    "/console/assistance/persons/{psn_no}/years/{year}/print",
    "/console/fund/assistance-statements/{statement_id}",  # the sample is a monthly one
    "/console/hospital/assistance-statements/{statement_id}",
    "/console/assistance/clearings/{reference}/notice",
}


def _routes() -> list[tuple[str, str]]:
    app = create_app(Settings(environment="test", database_url="sqlite://"))
    return sorted(
        (method, context.path)
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute) and context.path.startswith("/console")
        for method in context.methods or ()
    )


ROUTES = _routes()


def test_every_console_route_is_in_the_matrix() -> None:
    missing = [route for route in ROUTES if route not in MATRIX]
    assert not missing, f"decide the roles of {missing} in MATRIX"
    stale = [route for route in MATRIX if route not in ROUTES]
    assert not stale, f"MATRIX names console routes the app no longer has: {stale}"


def test_the_auditor_writes_nowhere() -> None:
    for (method, path), allowed in MATRIX.items():
        if method == "POST" and path not in ("/console/logout", "/console/{rest:path}"):
            assert allowed == PUBLIC or AU not in allowed, path


def _url(path: str, samples: dict[str, str]) -> str:
    for name, value in samples.items():
        path = path.replace("{" + name + "}", value).replace("{" + name + ":path}", value)
    assert "{" not in path, f"add a sample for {path}"
    return path


@pytest.fixture
def samples(session: Session) -> dict[str, str]:
    """GET samples that exist in this test's world."""
    seeded = world(session)
    own = statement(session, "H001", "2026-01")
    session.commit()
    return {**GET_SAMPLES, "entry_id": str(seeded.entry_id), "statement_id": str(own.id)}


@pytest.fixture
def clients(app: FastAPI, samples: dict[str, str]) -> Iterator[dict[str, TestClient]]:
    opened = {}
    for role in ROLES:
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        assert log_in(client, PEOPLE[role]).status_code == 303
        opened[role] = client
    yield opened
    for client in opened.values():
        client.__exit__(None, None, None)


def _check(
    client: TestClient, role: str, method: str, path: str, csrf: str, samples: dict[str, str]
) -> str | None:
    """None when the role got what the matrix says; else what went wrong."""
    allowed = MATRIX[(method, path)]
    if method == "GET":
        url = _url(path, samples)
        response = client.get(url, follow_redirects=True)
        if "/console/login" in str(response.url):
            return f"{role} GET {url}: sent to the login page"
        if role in allowed:
            expected = 404 if path in NOT_FOUND else 200
            if response.status_code != expected:
                return f"{role} GET {url}: {response.status_code}, expected {expected}"
        elif response.status_code != 403 or "无权操作" not in response.text:
            return f"{role} GET {url}: {response.status_code}, expected the 403 page"
        return None
    url = _url(path, POST_SAMPLES)
    response = client.post(url, data={"csrf_token": csrf}, follow_redirects=False)
    if "/console/login" in response.headers.get("location", ""):
        return f"{role} POST {url}: sent to the login page"
    if role in allowed and response.status_code == 403:
        return f"{role} POST {url}: refused, but the matrix allows it"
    if role not in allowed and response.status_code != 403:
        return f"{role} POST {url}: {response.status_code}, expected 403"
    return None


def test_each_role_gets_what_the_matrix_allows(
    clients: dict[str, TestClient], samples: dict[str, str]
) -> None:
    wrong = []
    for role, client in clients.items():
        csrf = csrf_of(client.get("/console/").text)
        for method, path in ROUTES:
            allowed = MATRIX[(method, path)]
            if allowed in (PUBLIC, SESSION):
                continue
            problem = _check(client, role, method, path, csrf, samples)
            if problem:
                wrong.append(problem)
        # last: logout works for every role, and the session is gone after it
        bye = client.post("/console/logout", data={"csrf_token": csrf}, follow_redirects=False)
        assert bye.status_code == 303 and bye.headers["location"] == "/console/login?bye=1"
    assert not wrong, "\n".join(wrong)


def test_without_a_login_nothing_is_served(client: TestClient, samples: dict[str, str]) -> None:
    for method, path in ROUTES:
        allowed = MATRIX[(method, path)]
        if allowed == PUBLIC:
            assert client.request(method, path).status_code in (200, 403)  # 403: no CSRF token
            continue
        if method == "GET":
            response = client.get(_url(path, samples), follow_redirects=False)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/console/login?next="), path
        else:
            response = client.post(_url(path, POST_SAMPLES), data={"csrf_token": "x"})
            assert response.status_code == 403, path
