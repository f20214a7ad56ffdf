"""The navigation of each role: (label, path). A page is listed only for the roles that may
open it; the pages themselves check the role again (a hidden link is not a permission)."""

from __future__ import annotations

from typing import Final

HOME = ("首页", "/console/")

NAV: Final[dict[str, list[tuple[str, str]]]] = {
    "hospital": [
        HOME,
        ("结算明细", "/console/hospital/settlements"),
        ("日拨付到账", "/console/hospital/daily"),
        ("月度结算单", "/console/hospital/statements"),
        ("审核扣款", "/console/hospital/audits"),
        ("年度清算", "/console/hospital/clearings"),
        ("往来对账单", "/console/hospital/account"),
        ("对账与申报", "/console/hospital/declarations"),
    ],
    "accountant": [HOME],
    "operator": [HOME],
    "auditor": [HOME],
    "admin": [HOME],
}


def for_role(role: str) -> list[tuple[str, str]]:
    return NAV.get(role, [HOME])
