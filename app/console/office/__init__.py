"""The office pages: the operator's (医保经办), the auditor's (审计, read-only) and the admin's.

`router` holds them all; app/console/pages.py installs it before its catch-all 404 page and
hands these roles' 首页 to office.homes."""

from __future__ import annotations

from fastapi import APIRouter

from app.console.office import (
    assistance,
    audits,
    calendar,
    institutions,
    jobs,
    ledger,
    records,
    users,
)
from app.console.office import assistance_clearing as assistance_pages

router = APIRouter()
for module in (institutions, calendar, audits, records, jobs, ledger, users, assistance):
    router.include_router(module.pages)
router.include_router(assistance_pages.pages)  # 实时清算提示, 事前告知书
