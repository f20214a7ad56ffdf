"""Who may open and who may act on the accountant's pages: staff read them (the auditor
too, without a write control), only an accountant writes (the API's roles), a hospital is
refused."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.auth.deps import STAFF
from app.auth.principal import Principal
from app.console.security import require

Staff = Annotated[Principal, Depends(require(*STAFF))]
Accountant = Annotated[Principal, Depends(require("accountant"))]


def can_write(principal: Principal) -> bool:
    return principal.role == "accountant"
