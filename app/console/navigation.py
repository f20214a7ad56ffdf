"""The navigation of each role: (label, path). A page is listed only for the roles that may
open it; the pages themselves check the role again (a hidden link is not a permission)."""

from __future__ import annotations

from typing import Final

HOME = ("首页", "/console/")

NAV: Final[dict[str, list[tuple[str, str]]]] = {
    "hospital": [HOME],
    "accountant": [
        HOME,
        ("待审批", "/console/fund/queue"),
        ("支付监控", "/console/fund/payments"),
        ("资金", "/console/fund/funds"),
    ],
    "operator": [HOME],
    "auditor": [HOME],
    "admin": [HOME],
}


def for_role(role: str) -> list[tuple[str, str]]:
    return NAV.get(role, [HOME])
