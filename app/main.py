"""create_app(): routers, the problem-JSON handler, health. It never starts the scheduler."""

from __future__ import annotations

from importlib import resources
from typing import Any

from fastapi import FastAPI, Response
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from app import errors, openapi
from app.auth.deps import Staff
from app.clock import Clock, SystemClock
from app.config import BODY_LIMIT_BYTES_BANK, BODY_LIMIT_BYTES_UPLOAD, Settings, get_settings
from app.console.pages import install as install_console
from app.db import make_engine, make_sessionmaker, pool_options
from app.deps import SessionDep
from app.http import BodyLimitMiddleware, StrictJSONRoute
from app.migrate import is_at_head
from app.ops import metrics
from app.wiring import wire

API_PREFIX = "/api/v1"
# Swagger UI and ReDoc come from the installed `fastapi-offline` package, served by the
# service itself: the deployment is a government intranet, where a CDN is out of reach.
DOCS_ASSETS_URL = "/docs-assets"


def create_app(
    settings: Settings | None = None,
    *,
    session_factory: sessionmaker[Session] | None = None,
    clock: Clock | None = None,
    **state: Any,
) -> FastAPI:
    settings = settings or get_settings()
    wire()
    if session_factory is None:
        session_factory = make_sessionmaker(engine_for(settings))
    app = FastAPI(
        title="fundledger",
        version="0.1.0",
        summary="Medical insurance fund: daily T+1 payments, monthly settlement, annual clearing",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.router.route_class = StrictJSONRoute  # the health routes too (the text rule)
    app.state.settings = settings
    app.state.session_factory = session_factory
    app.state.clock = clock or SystemClock()
    for key, value in state.items():
        setattr(app.state, key, value)
    errors.install(app)
    app.add_middleware(
        BodyLimitMiddleware,
        default_bytes=settings.body_limit_bytes,
        limits={
            "/settlements/bulk": settings.bulk_body_limit_bytes,
            "/assistance/recipient-imports": settings.bulk_body_limit_bytes,
            "/assistance/deduction-imports": BODY_LIMIT_BYTES_UPLOAD,  # an XLSX or CSV file
            "/assistance/documents/bulk": settings.bulk_body_limit_bytes,
            # the console's smart-audit import: the file, then its checked rows to confirm
            "/console/audits/import": settings.bulk_body_limit_bytes,
            "/console/audits/import/confirm": settings.bulk_body_limit_bytes,
            "/bank/receipts": BODY_LIMIT_BYTES_BANK,
            "-upload": BODY_LIMIT_BYTES_UPLOAD,  # console forms with a file
        },
    )
    app.add_middleware(errors.CatchAllMiddleware)
    # added last, the outermost of ours: the request id is set before anything logs, and the
    # latency histogram sees the answers the catch-all turned into 500s
    app.add_middleware(metrics.RequestMiddleware)
    _health_routes(app)
    _metrics_route(app)
    _docs_routes(app)
    _include_routers(app)
    install_console(app)  # the web console for people: /console, and / leads there
    openapi.install(app)  # the problem answers of every operation
    return app


def engine_for(settings: Settings) -> Engine:
    """The API process's engine, its pool sized by the settings (docs/operations.md)."""
    pool = pool_options(
        settings.database_url,
        size=settings.db_pool_size,
        overflow=settings.db_max_overflow,
        timeout_s=settings.db_pool_timeout_s,
    )
    return make_engine(settings.database_url, **pool)


def create_served_app(settings: Settings | None = None) -> FastAPI:
    """The app `fundledger serve` runs: the settings' logging, the real clock and the bank
    over HTTP. Also the factory each worker process builds (`serve --workers N`)."""
    from app.bank.gateway import HttpBankGateway
    from app.ops import logs

    settings = settings or get_settings()
    logs.configure(settings.log_level, settings.log_format)
    clock = SystemClock()
    gateway = HttpBankGateway.from_settings(settings, clock)
    return create_app(settings, clock=clock, bank_gateway=gateway)


def _include_routers(app: FastAPI) -> None:
    from app.alerts.router import router as alerts_router
    from app.annual.router import router as annual_router
    from app.assistance.clearings_router import router as assistance_clearings_router
    from app.assistance.deductions_router import router as assistance_deductions_router
    from app.assistance.person_router import router as assistance_person_router
    from app.assistance.person_statement_router import router as person_statement_router
    from app.assistance.policies_router import router as assistance_policies_router
    from app.assistance.prepayments_router import router as prepayments_router
    from app.assistance.router import router as assistance_router
    from app.assistance.statements_router import router as assistance_statements_router
    from app.auth.router import router as auth_router
    from app.bank.router import router as bank_router
    from app.bankrecon.router import router as bank_statements_router
    from app.compliance.router import router as compliance_router
    from app.daily.reports import router as reports_router
    from app.daily.router import router as daily_router
    from app.institutions.router import router as institutions_router
    from app.ledger.router import router as ledger_router
    from app.monthly.router import router as monthly_router
    from app.scheduling.router import router as jobs_router
    from app.settlements.router import router as settlements_router
    from app.threeflow.router import router as checks_router
    from app.trail.router import router as trail_router
    from app.treasury.router import router as treasury_router
    from app.workdays.router import router as calendar_router

    for router in (
        auth_router,
        institutions_router,
        calendar_router,
        trail_router,
        alerts_router,
        ledger_router,
        settlements_router,
        daily_router,
        treasury_router,
        bank_router,
        bank_statements_router,
        monthly_router,
        annual_router,
        assistance_router,
        assistance_person_router,
        assistance_policies_router,
        prepayments_router,
        assistance_deductions_router,
        person_statement_router,
        assistance_statements_router,
        assistance_clearings_router,
        reports_router,
        compliance_router,
        jobs_router,
        checks_router,
    ):
        app.include_router(router)


def _docs_routes(app: FastAPI) -> None:
    """`/docs` (Swagger UI) and `/redoc` with every asset served from the installed
    environment: nothing is loaded from the internet (no CDN, no web fonts, no validator)."""
    folder = resources.files("fastapi_offline") / "static"
    app.mount(DOCS_ASSETS_URL, StaticFiles(directory=str(folder)), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} API",
            swagger_js_url=f"{DOCS_ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS_URL}/favicon.png",
            # the default validator badge is fetched from swagger.io
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} API",
            redoc_js_url=f"{DOCS_ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )


def _health_routes(app: FastAPI) -> None:
    @app.get("/healthz", tags=["health"], summary="The process is up")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], summary="Database reachable and migrations at head")
    def readyz(session: SessionDep, response: Response) -> dict[str, str]:
        try:
            session.execute(text("SELECT 1"))
            ready = is_at_head(session.connection())
        except Exception as exc:  # any database failure means "not ready"
            response.status_code = 503
            return {"status": "unavailable", "detail": type(exc).__name__}
        if not ready:
            response.status_code = 503
            return {"status": "unavailable", "detail": "migrations are not at head"}
        return {"status": "ready"}


def _metrics_route(app: FastAPI) -> None:
    """`/metrics` for Prometheus (text format, so not in the OpenAPI document): staff bearer
    tokens only (docs/operations.md: an auditor-role user for the scraper), like any reading
    of the service's state; hospitals get 403."""

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics(_: Staff, session: SessionDep) -> Response:
        body = metrics.exposition(session, app.state.clock.now())
        return Response(body, media_type=metrics.CONTENT_TYPE)
