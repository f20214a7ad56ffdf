"""The hospital area's routers, in the order the console installs them (before its 404)."""

from __future__ import annotations

from app.console.hospital import (
    account,
    assistance,
    audits,
    clearings,
    daily,
    declarations,
    settlements,
    statements,
)

ROUTERS = (
    settlements.router,
    daily.router,
    statements.router,
    audits.router,
    audits.files_router,
    clearings.router,
    account.router,
    declarations.router,
    assistance.router,
)
