"""The 首页 of the office roles, with what each needs first: the operator's open alerts, jobs'
last runs and appeals waiting; the auditor's trial balance and the verification; the admin's
users. (app/console/pages.py's home() hands these roles over here.)"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.clock import Clock, business_date
from app.console.office import labels, queries, roles
from app.console.office.common import page

ROLES = frozenset({roles.OPERATOR, roles.AUDITOR, roles.ADMIN})
ALERTS_SHOWN = 10


def home(request: Request, principal: Principal, session: Session, clock: Clock) -> Response:
    assert principal.role in ROLES
    if principal.role == roles.OPERATOR:
        return _operator(request, principal, session, clock)
    if principal.role == roles.AUDITOR:
        return _auditor(request, principal, session)
    return _admin(request, principal, session)


def _operator(request: Request, principal: Principal, session: Session, clock: Clock) -> Response:
    alerts = queries.alert_page(
        session, kind=None, open_only=True, after_id=None, limit=queries.OPEN_ALERTS_MAX
    )
    waiting = sorted(alerts, key=lambda a: (a.acknowledged_at is not None, -a.id))
    next_year = business_date(clock.now()).year + 1
    return page(
        request,
        "office/home_operator.html",
        principal,
        {
            "title": "首页",
            "alerts": waiting[:ALERTS_SHOWN],
            "open_alerts": len(alerts),
            "unacknowledged": sum(1 for a in alerts if a.acknowledged_at is None),
            "jobs": queries.job_list(session, clock),
            "appealed": queries.count_audits(session, "APPEALED"),
            "reviewed": queries.count_audits(session, "REVIEWED"),
            "next_year_confirmed": queries.year_confirmation(session, next_year) is not None,
            "next_year": next_year,
            "labels": labels,
        },
    )


def _auditor(request: Request, principal: Principal, session: Session) -> Response:
    trial = queries.trial_balance(session, region_code=None, insutype=None, as_of=None)
    return page(
        request,
        "office/home_auditor.html",
        principal,
        {"title": "首页", "trial": trial, "accounts": len(trial.accounts)},
    )


def _admin(request: Request, principal: Principal, session: Session) -> Response:
    users = queries.users(session)
    return page(
        request,
        "office/home_admin.html",
        principal,
        {
            "title": "首页",
            "users": users,
            "now": request.app.state.clock.now(),
            "by_role": {
                role: sum(1 for u in users if u.role == role and u.active)
                for role in ("hospital", "operator", "accountant", "auditor", "admin")
            },
        },
    )
