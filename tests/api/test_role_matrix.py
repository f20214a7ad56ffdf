"""The role matrix (issue 14.8; docs/rules.md "Roles"): every route of the app × every role.

API.md is the contract: admins administer (users and tokens; with operators the reference data:
regions, fund ledgers, policies, institutions, enrollments, the calendar), operators operate,
accountants move money, auditors read everything, hospitals see only their own (scoping is
tested with each domain). A route missing from MATRIX fails the test: a new route must be
decided here.
"""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import Settings
from app.main import create_app
from tests.support import builders
from tests.support.builders import bearer

H, OP, C, U, A = "hospital", "operator", "accountant", "auditor", "admin"
ROLES = (H, OP, C, U, A)
EVERYONE = frozenset(ROLES)
STAFF = frozenset({OP, C, U, A})
REFERENCE = frozenset({OP, A})
PUBLIC = "public"  # no token needed
SIGNED = "signed"  # the bank signs; a bearer token of any role is no credential

MATRIX: dict[tuple[str, str], frozenset[str] | str] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    # Prometheus metrics (docs/operations.md): staff; the scraper uses an auditor's token
    ("GET", "/metrics"): STAFF,
    ("GET", "/api/v1/me"): EVERYONE,
    # users and tokens: admins; auditors read them (never a token secret)
    ("POST", "/api/v1/users"): frozenset({A}),
    ("GET", "/api/v1/users"): frozenset({A, U}),
    ("PATCH", "/api/v1/users/{name}"): frozenset({A}),
    ("POST", "/api/v1/users/{name}/tokens"): frozenset({A}),
    ("GET", "/api/v1/users/{name}/tokens"): frozenset({A, U}),
    ("POST", "/api/v1/tokens/{token_id}/revoke"): frozenset({A}),
    ("PUT", "/api/v1/users/{name}/password"): frozenset({A}),
    # reference data (API.md: operator or admin)
    ("POST", "/api/v1/regions"): REFERENCE,
    ("GET", "/api/v1/regions"): STAFF,
    ("GET", "/api/v1/regions/{code}"): STAFF,
    ("PATCH", "/api/v1/regions/{code}"): REFERENCE,
    ("POST", "/api/v1/fund-ledgers"): REFERENCE,
    ("GET", "/api/v1/fund-ledgers"): STAFF,
    ("GET", "/api/v1/fund-ledgers/{region_code}/{insutype}"): STAFF,
    ("PATCH", "/api/v1/fund-ledgers/{region_code}/{insutype}"): REFERENCE,
    ("POST", "/api/v1/fund-ledgers/{region_code}/{insutype}/policies"): REFERENCE,
    ("GET", "/api/v1/fund-ledgers/{region_code}/{insutype}/policy"): EVERYONE,
    ("POST", "/api/v1/institutions"): REFERENCE,
    ("GET", "/api/v1/institutions"): EVERYONE,
    ("GET", "/api/v1/institutions/{code}"): EVERYONE,
    ("PATCH", "/api/v1/institutions/{code}"): REFERENCE,
    ("POST", "/api/v1/institutions/{code}/enrollments"): REFERENCE,
    ("POST", "/api/v1/institutions/{code}/enrollments/{enrollment_id}/end"): REFERENCE,
    # payee changes under two people (issue 19): reference-data people ask, an accountant or
    # an admin other than the requester decides, a hospital reads its own
    ("POST", "/api/v1/institutions/{code}/payee-changes"): REFERENCE,
    ("GET", "/api/v1/institutions/{code}/payee-changes"): EVERYONE,
    ("POST", "/api/v1/institutions/{code}/payee-changes/{change_id}/approve"): frozenset({C, A}),
    ("POST", "/api/v1/institutions/{code}/payee-changes/{change_id}/reject"): frozenset({C, A}),
    ("GET", "/api/v1/calendar/{year}"): EVERYONE,
    ("PUT", "/api/v1/calendar/overrides/{day}"): REFERENCE,
    ("DELETE", "/api/v1/calendar/overrides/{day}"): REFERENCE,
    ("POST", "/api/v1/calendar/years/{year}/confirm"): REFERENCE,
    # oversight
    ("GET", "/api/v1/audit-events"): frozenset({U, A, OP}),
    ("GET", "/api/v1/alerts"): STAFF,
    ("POST", "/api/v1/alerts/{alert_id}/acknowledge"): frozenset({OP}),
    # ledger reads (a hospital its own accounts)
    ("GET", "/api/v1/ledger/accounts"): EVERYONE,
    ("GET", "/api/v1/ledger/accounts/{code}"): EVERYONE,
    ("GET", "/api/v1/ledger/accounts/{code}/statement"): EVERYONE,
    ("GET", "/api/v1/ledger/entries"): EVERYONE,
    ("GET", "/api/v1/ledger/entries/{entry_id}"): EVERYONE,
    ("GET", "/api/v1/ledger/trial-balance"): STAFF,
    # settlement intake: hospitals write their own
    ("POST", "/api/v1/settlements"): frozenset({H}),
    ("POST", "/api/v1/settlements/bulk"): frozenset({H}),
    ("POST", "/api/v1/settlements/{fixmedins_code}/{setl_id}/revoke"): frozenset({H}),
    ("POST", "/api/v1/settlements/{fixmedins_code}/{setl_id}/list"): frozenset({H}),
    ("GET", "/api/v1/settlements"): EVERYONE,
    ("GET", "/api/v1/settlements/{fixmedins_code}/{setl_id}"): EVERYONE,
    ("POST", "/api/v1/reconciliations"): frozenset({H}),
    ("GET", "/api/v1/reconciliations"): EVERYONE,
    # daily disbursement: operators push and hold, accountants approve and reject
    ("GET", "/api/v1/daily-batches"): STAFF,
    ("GET", "/api/v1/daily-batches/{batch_id}"): STAFF,
    ("GET", "/api/v1/daily-batches/{batch_id}/export.xlsx"): STAFF,
    ("GET", "/api/v1/daily-batches/{batch_id}/lines/{fixmedins_code}"): EVERYONE,
    ("POST", "/api/v1/daily-batches/{batch_id}/approve"): frozenset({C}),
    ("POST", "/api/v1/daily-batches/{batch_id}/reject"): frozenset({C}),
    ("POST", "/api/v1/daily-batches/{batch_id}/lines/{fixmedins_code}/hold"): frozenset({OP}),
    ("POST", "/api/v1/daily-batches/{batch_id}/push"): frozenset({OP}),
    ("GET", "/api/v1/daily-lines"): EVERYONE,
    # treasury and bank
    ("POST", "/api/v1/fund-ledgers/{region_code}/{insutype}/appropriations"): frozenset({C}),
    ("GET", "/api/v1/fund-ledgers/{region_code}/{insutype}/appropriations"): STAFF,
    ("GET", "/api/v1/funding-requests"): STAFF,
    ("GET", "/api/v1/funding-requests/export.xlsx"): STAFF,
    ("POST", "/api/v1/bank/receipts"): SIGNED,
    ("GET", "/api/v1/bank/instructions"): STAFF,
    ("GET", "/api/v1/bank/instructions/{instruction_id}"): EVERYONE,
    # monthly settlement
    ("POST", "/api/v1/declarations"): frozenset({H}),
    ("GET", "/api/v1/declarations/{fixmedins_code}/{insutype}/{period}"): EVERYONE,
    ("POST", "/api/v1/declarations/{fixmedins_code}/{insutype}/{period}/reopen"): frozenset({OP}),
    ("POST", "/api/v1/audits"): frozenset({OP}),
    ("POST", "/api/v1/audits/bulk"): frozenset({OP}),
    ("GET", "/api/v1/audits"): EVERYONE,
    ("GET", "/api/v1/audits/{fixmedins_code}/{setl_id}/{rule_code}"): EVERYONE,
    ("POST", "/api/v1/audits/{fixmedins_code}/{setl_id}/{rule_code}/appeal"): frozenset({H}),
    ("POST", "/api/v1/audits/{fixmedins_code}/{setl_id}/{rule_code}/review"): frozenset({OP}),
    ("POST", "/api/v1/audits/{fixmedins_code}/{setl_id}/{rule_code}/consultation"): frozenset({OP}),
    ("POST", "/api/v1/procurement-advances"): frozenset({OP}),
    ("GET", "/api/v1/procurement-advances"): EVERYONE,
    ("GET", "/api/v1/statements"): EVERYONE,
    ("GET", "/api/v1/statements/export.xlsx"): STAFF,
    ("GET", "/api/v1/statements/{statement_id}"): EVERYONE,
    ("GET", "/api/v1/statements/{statement_id}/export.xlsx"): EVERYONE,
    ("POST", "/api/v1/statements/{statement_id}/confirm"): frozenset({H}),
    ("POST", "/api/v1/statements/{statement_id}/dispute"): frozenset({H}),
    ("POST", "/api/v1/statements/{statement_id}/recompute"): frozenset({OP}),
    ("POST", "/api/v1/statements/{statement_id}/approve"): frozenset({C}),
    ("GET", "/api/v1/receivables"): EVERYONE,
    ("POST", "/api/v1/receivables/{region_code}/{insutype}/{fixmedins_code}/repayments"): frozenset(
        {C}
    ),
    # annual clearing
    ("POST", "/api/v1/annual/rules"): frozenset({OP}),
    ("GET", "/api/v1/annual/rules/{year}"): EVERYONE,
    ("POST", "/api/v1/annual/assessments"): frozenset({OP}),
    ("GET", "/api/v1/annual/assessments"): STAFF,
    ("GET", "/api/v1/annual/clearings"): EVERYONE,
    ("GET", "/api/v1/annual/clearings/export.xlsx"): STAFF,
    ("GET", "/api/v1/annual/clearings/{clearing_id}"): EVERYONE,
    ("GET", "/api/v1/annual/clearings/{clearing_id}/export.xlsx"): EVERYONE,
    ("POST", "/api/v1/annual/clearings/{clearing_id}/confirm"): frozenset({H}),
    ("POST", "/api/v1/annual/clearings/{clearing_id}/dispute"): frozenset({H}),
    ("POST", "/api/v1/annual/clearings/{clearing_id}/recompute"): frozenset({OP}),
    ("POST", "/api/v1/annual/clearings/{clearing_id}/approve"): frozenset({C}),
    # reports and jobs
    ("GET", "/api/v1/reports/daily-payments/{month}"): STAFF,
    ("GET", "/api/v1/reports/daily-payments/{month}/export.xlsx"): STAFF,
    # deadline reports and the summary tie (issue 19): a hospital reads its own
    ("GET", "/api/v1/reports/t1-compliance/{month}"): EVERYONE,
    ("GET", "/api/v1/reports/t1-compliance/{month}/export.xlsx"): EVERYONE,
    ("GET", "/api/v1/reports/monthly-compliance/{period}"): EVERYONE,
    ("GET", "/api/v1/reports/monthly-compliance/{period}/export.xlsx"): EVERYONE,
    ("GET", "/api/v1/reports/annual-compliance/{year}"): EVERYONE,
    ("GET", "/api/v1/reports/annual-compliance/{year}/export.xlsx"): EVERYONE,
    ("GET", "/api/v1/reports/daily-paid-tie/{month}"): EVERYONE,
    ("GET", "/api/v1/reports/daily-paid-tie/{month}/export.xlsx"): EVERYONE,
    ("GET", "/api/v1/jobs"): STAFF,
    ("POST", "/api/v1/jobs/{name}/run"): frozenset({OP}),
    # bank statements (银行对账单): staff read, an operator uploads the bank's file
    ("POST", "/api/v1/bank-statements"): frozenset({OP}),
    ("GET", "/api/v1/bank-statements"): STAFF,
    ("GET", "/api/v1/bank-statements/{statement_id}"): STAFF,
    # the three-flow check (三流核对)
    ("GET", "/api/v1/checks/three-flow"): STAFF,
    # medical assistance (issue 21): case workers are operators; staff read the register;
    # hospitals never read it (they see persons only through their own settlements)
    ("GET", "/api/v1/assistance/recipients"): STAFF,
    ("GET", "/api/v1/assistance/recipients/{psn_no}"): STAFF,
    ("PUT", "/api/v1/assistance/recipients/{psn_no}"): frozenset({OP}),
    ("POST", "/api/v1/assistance/recipient-imports"): frozenset({OP}),
    # payments to persons (issue 22.1-2): case workers record, accountants approve and take
    # repayments; staff read; hospitals never see persons
    ("POST", "/api/v1/assistance/applications"): frozenset({OP}),
    ("POST", "/api/v1/assistance/care-grants"): frozenset({OP}),
    ("GET", "/api/v1/assistance/person-payments"): STAFF,
    ("GET", "/api/v1/assistance/person-payments/{payment_id}"): STAFF,
    ("POST", "/api/v1/assistance/person-payments/{payment_id}/approve"): frozenset({C}),
    ("POST", "/api/v1/assistance/person-payments/{payment_id}/reject"): frozenset({C}),
    ("POST", "/api/v1/assistance/clearings/{reference}/notice-delivered"): frozenset({OP}),
    ("POST", "/api/v1/assistance/person-repayments"): frozenset({C}),
    ("GET", "/api/v1/assistance/person-receivables"): STAFF,
    # the person's statement of a year (issue 22.6): staff; hospitals never see persons here
    ("GET", "/api/v1/assistance/persons/{psn_no}/years/{year}/statement"): STAFF,
    ("GET", "/api/v1/assistance/persons/{psn_no}/years/{year}/statement.xlsx"): STAFF,
    # the assistance policy is reference data; the prepayment moves money (issue 21.6)
    ("POST", "/api/v1/assistance/policies"): REFERENCE,
    ("GET", "/api/v1/assistance/policies"): STAFF,
    ("GET", "/api/v1/assistance/prepayments"): STAFF,
    ("GET", "/api/v1/assistance/prepayments/{prepayment_id}"): STAFF,
    ("POST", "/api/v1/assistance/prepayments/{prepayment_id}/approve"): frozenset({C}),
    ("POST", "/api/v1/assistance/prepayments/{prepayment_id}/receive"): frozenset({C}),
    ("GET", "/api/v1/assistance/prepayments/{prepayment_id}/calculation.xlsx"): STAFF,
    # deduction data (issue 22.3): case workers record and import; staff read them and the
    # person-year; hospitals get 403
    ("POST", "/api/v1/assistance/deductions"): frozenset({OP}),
    ("GET", "/api/v1/assistance/deductions"): STAFF,
    ("POST", "/api/v1/assistance/deduction-imports"): frozenset({OP}),
    ("GET", "/api/v1/assistance/persons/{psn_no}/years/{year}"): STAFF,
    # assistance statements (issue 21.5): hospitals record documents of their settlements and
    # answer their statements, operators reject documents and recompute, accountants approve
    ("POST", "/api/v1/assistance/documents"): frozenset({H}),
    ("POST", "/api/v1/assistance/documents/bulk"): frozenset({H}),
    ("POST", "/api/v1/assistance/documents/reject"): frozenset({OP}),
    ("GET", "/api/v1/assistance/statements"): EVERYONE,
    ("GET", "/api/v1/assistance/statements/export.xlsx"): STAFF,
    ("GET", "/api/v1/assistance/statements/{statement_id}"): EVERYONE,
    ("POST", "/api/v1/assistance/statements/{statement_id}/confirm"): frozenset({H}),
    ("POST", "/api/v1/assistance/statements/{statement_id}/dispute"): frozenset({H}),
    ("POST", "/api/v1/assistance/statements/{statement_id}/recompute"): frozenset({OP}),
    ("POST", "/api/v1/assistance/statements/{statement_id}/approve"): frozenset({C}),
    # individual clearing (issue 22.4): case workers clear, the admin runs the annual
    # clearing, staff read results, notices and suggestions
    ("POST", "/api/v1/assistance/clearings"): frozenset({OP}),
    ("GET", "/api/v1/assistance/clearings"): STAFF,
    ("GET", "/api/v1/assistance/clearings/{reference}"): STAFF,
    ("GET", "/api/v1/assistance/clearings/{reference}/notice"): STAFF,
    ("POST", "/api/v1/assistance/annual-clearings"): frozenset({A}),
    ("GET", "/api/v1/assistance/clearing-suggestions"): STAFF,
    ("POST", "/api/v1/assistance/clearing-suggestions/clear"): frozenset({OP}),
}

SAMPLES = {
    "name": "nobody",
    "token_id": "999999",
    "code": "H404",
    "region_code": "640100",
    "insutype": "310",
    "enrollment_id": "999999",
    "year": "2026",
    "day": "2026-03-07",
    "entry_id": "999999",
    "fixmedins_code": "H404",
    "setl_id": "S404",
    "batch_id": "999999",
    "instruction_id": "D260306-6401310-H404",
    "period": "2026-03",
    "rule_code": "R404",
    "statement_id": "999999",
    "clearing_id": "999999",
    "month": "2026-03",
    "alert_id": "999999",
    "change_id": "999999",
    "psn_no": "P404",
    "payment_id": "999999",
    "reference": "C404",
    "prepayment_id": "999999",
}


def _routes() -> list[tuple[str, str]]:
    app = create_app(Settings(environment="test", database_url="sqlite://"))
    return sorted(
        (method, context.path)
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
        # the API, health and metrics; the console's pages have their own matrix
        # (tests/api/test_console_role_matrix.py), /docs and /redoc are public pages
        and (
            context.path.startswith("/api/") or context.path in ("/healthz", "/readyz", "/metrics")
        )
        for method in context.methods or ()
    )


ROUTES = _routes()


def test_every_route_of_the_app_is_in_the_matrix() -> None:
    missing = [route for route in ROUTES if route not in MATRIX]
    assert not missing, f"decide the roles of {missing} in MATRIX (and docs/rules.md)"
    stale = [route for route in MATRIX if route not in ROUTES]
    assert not stale, f"MATRIX names routes the app no longer has: {stale}"


def _url(path: str) -> str:
    for name, value in SAMPLES.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"add a sample value for {path} to SAMPLES"
    return path


@pytest.fixture
def tokens(session: Session) -> dict[str, dict[str, str]]:
    builders.institution(session, "H001")
    result = {
        role: bearer(
            builders.user_token(session, f"matrix-{role}", role, "H001" if role == H else None)
        )
        for role in ROLES
    }
    session.commit()
    return result


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_route_by_role(
    client: TestClient, tokens: dict[str, dict[str, str]], method: str, path: str
) -> None:
    """Each role is refused (403) or let past the role check (anything but 401/403: the
    sample resources do not exist and no body is sent, so nothing is written); without a
    token, 401."""
    allowed = MATRIX[(method, path)]
    url = _url(path)
    anonymous = client.request(method, url)
    if allowed == PUBLIC:
        assert anonymous.status_code not in (401, 403), anonymous.text
    else:
        assert anonymous.status_code == 401, anonymous.text
    for role in ROLES:
        response = client.request(method, url, headers=tokens[role])
        if allowed == SIGNED:
            assert response.status_code == 401, (role, response.text)
        elif allowed == PUBLIC or role in allowed:
            assert response.status_code not in (401, 403), (role, response.text)
        else:
            assert response.status_code == 403, (role, response.text)
            assert response.json()["type"] == "/problems/forbidden"
