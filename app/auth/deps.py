"""Route dependencies: the current user, role checks and hospital scoping."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth.principal import Principal
from app.auth.service import authenticate
from app.errors import Forbidden, NotFound

_bearer = HTTPBearer(auto_error=False, description="Bearer token issued per user or client")

STAFF = ("operator", "accountant", "auditor", "admin")
READERS = ("hospital", *STAFF)


def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    token = credentials.credentials if credentials else None
    with request.app.state.session_factory() as session:
        principal = authenticate(session, token)
    request.state.principal = principal
    return principal


CurrentUser = Annotated[Principal, Depends(current_user)]


def require(*roles: str) -> Callable[[Principal], Principal]:
    """A dependency admitting only the given roles (403 for the others)."""

    def check(principal: CurrentUser) -> Principal:
        if principal.role not in roles:
            raise Forbidden(f"role {principal.role!r} may not do this; needs {' or '.join(roles)}")
        return principal

    return check


def scope(principal: Principal, fixmedins_code: str) -> None:
    """A hospital sees only its own institution: anything else is 404, never a leak."""
    if principal.is_hospital and principal.fixmedins_code != fixmedins_code:
        raise NotFound(f"no institution {fixmedins_code!r}")


# The role matrix (docs/rules.md "Roles"; tests/api/test_role_matrix.py checks every route).
# Admins administer (users, tokens; with operators the reference data), operators operate,
# accountants move money, auditors read everything, hospitals see only their own.
Reader = Annotated[Principal, Depends(require(*READERS))]
Staff = Annotated[Principal, Depends(require(*STAFF))]
Operator = Annotated[Principal, Depends(require("operator"))]
ReferenceData = Annotated[Principal, Depends(require("operator", "admin"))]
Admin = Annotated[Principal, Depends(require("admin"))]
AdminReader = Annotated[Principal, Depends(require("admin", "auditor"))]
Accountant = Annotated[Principal, Depends(require("accountant"))]
# The second person of a payee change (收款账户变更): an accountant or an admin.
PayeeChecker = Annotated[Principal, Depends(require("accountant", "admin"))]
Hospital = Annotated[Principal, Depends(require("hospital"))]
