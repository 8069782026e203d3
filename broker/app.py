"""`create_app()`: the FastAPI gateway, with its runtime opened in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from broker import http_errors
from broker.api import health, notifications
from broker.runtime import open_runtime
from broker.settings import BrokerSettings


def create_app(settings: BrokerSettings | None = None) -> FastAPI:
    settings = settings or BrokerSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(settings) as runtime:
            app.state.runtime = runtime
            yield

    app = FastAPI(
        title="Safeguarding information-sharing broker",
        version="0.1.0",
        lifespan=lifespan,
        description="Decides, records and routes safeguarding notifications between partner agencies.",
    )
    http_errors.install(app, retry_after_seconds=settings.retry_after_seconds)
    app.include_router(notifications.router)
    app.include_router(health.router)
    return app
