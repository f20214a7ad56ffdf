"""Who may open and who may act on the office pages (operator, auditor, admin).

The same sets as the API's role matrix (docs/rules.md "Roles"): staff read, operators
operate, operators and admins keep the reference data, admins administer users and tokens,
auditors read everything and write nothing. A page shows a write control only to a role in
its write set; the write route checks the set again (a hidden button is not a permission).
"""

from __future__ import annotations

from typing import Final

from app.auth.principal import Principal

OPERATOR: Final = "operator"
ACCOUNTANT: Final = "accountant"
AUDITOR: Final = "auditor"
ADMIN: Final = "admin"
HOSPITAL: Final = "hospital"

STAFF: Final = frozenset({OPERATOR, ACCOUNTANT, AUDITOR, ADMIN})
REFERENCE: Final = frozenset({OPERATOR, ADMIN})  # institutions, policies, the calendar
OPERATORS: Final = frozenset({OPERATOR})  # audits, advances, assessments, jobs, alerts
ADMINS: Final = frozenset({ADMIN})  # users, passwords, tokens
USER_READERS: Final = frozenset({ADMIN, AUDITOR})  # the user and token lists
TRAIL_READERS: Final = frozenset({AUDITOR, ADMIN, OPERATOR})  # the audit trail

# Nobody outside these sets ever gets a write control; the auditor is in none of them.
WRITERS: Final = (REFERENCE, OPERATORS, ADMINS)
assert all(AUDITOR not in roles for roles in WRITERS), "the auditor writes nothing"


def may(principal: Principal, roles: frozenset[str]) -> bool:
    return principal.role in roles
