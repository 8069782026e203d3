"""`create_app()`: the FastAPI gateway; its collaborators are opened in `broker.lifespan`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from broker.api import (
    access,
    case_review,
    case_shredding,
    decisions,
    deliveries,
    health,
    log,
    notifications,
    review,
    withdrawal,
)
from broker.api import errors as http_errors
from broker.api.deps import single_query_values
from broker.api.request_metrics import RequestMetrics
from broker.errors import BrokerError
from broker.lifespan import gateway_lifespan
from broker.settings import BrokerSettings
from broker.ui import (
    access_page,
    audit_page,
    case_review_page,
    case_shredding_page,
    correction_page,
    notification_page,
    render,
    replay_page,
    reply_page,
    routes,
    submit,
    withdrawal_page,
)

logger = logging.getLogger("broker.app")

# The pages, left out of the OpenAPI; with it they are every route the access table must cover.
UI_ROUTERS = (
    routes.router,
    access_page.router,
    audit_page.router,
    replay_page.router,
    case_review_page.router,
    case_shredding_page.router,
    withdrawal_page.router,
    correction_page.router,
    reply_page.router,
    notification_page.router,
    submit.router,
)


# Query parameters are single values on every /v1 route (see `single_query_values`).
ONCE = [Depends(single_query_values)]
# The API, in the order its routes are matched; the agencies witness the log (`log`): consistency
# proofs in, cosignatures out.
API_ROUTERS = (
    notifications.router,
    withdrawal.router,
    decisions.router,
    review.router,
    access.router,
    case_review.router,
    case_shredding.router,
    deliveries.router,
    health.router,
    log.router,
)


def create_app(settings: BrokerSettings | None = None) -> FastAPI:
    settings = settings or BrokerSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        started = False
        try:
            async with gateway_lifespan(app, settings):
                started = True
                yield
        except BrokerError as exc:
            # Uvicorn logs the start's traceback as one long record; this line says what to put right.
            if not started:
                logger.error("the gateway refuses to start: %s", exc, extra={"error": type(exc).__name__})
            raise

    app = FastAPI(
        title="Safeguarding information-sharing broker",
        version="0.1.0",
        lifespan=lifespan,
        description="Decides, records and routes safeguarding notifications between partner agencies.",
    )
    app.add_middleware(RequestMetrics)
    http_errors.install(
        app,
        retry_after_seconds=settings.retry_after_seconds,
        html=render.error_page,
        on_denial=access.record_denial,
    )
    for router in API_ROUTERS:
        # Every API route refuses a repeated query parameter, but the probes, which take none.
        app.include_router(router, dependencies=[] if router is health.router else ONCE)
    for ui in UI_ROUTERS:
        app.include_router(ui)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    return app
