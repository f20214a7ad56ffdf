"""The path and query parameters the report routes share, and the scope a reader may see
(moved out of app/compliance/router.py as they were)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Query

from app.auth.deps import scope
from app.auth.principal import Principal
from app.compliance.service import Scope

Month = Annotated[str, Path(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]


Year = Annotated[int, Path(ge=2000, le=2100)]


RegionQuery = Annotated[str | None, Query(pattern=r"^[0-9]{6}$")]


InsutypeQuery = Literal["310", "390"] | None


CodeQuery = Annotated[str | None, Query(pattern=r"^[A-Z0-9]{1,12}$")]


def _scope(
    principal: Principal, region_code: str | None, insutype: str | None, code: str | None
) -> Scope:
    if principal.is_hospital:
        if code is not None:
            scope(principal, code)
        code = principal.fixmedins_code
    return Scope(region_code, insutype, code)
