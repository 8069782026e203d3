"""Liveness, readiness and metrics for operators and orchestrators."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from sqlalchemy import text

from broker.errors import PolicyUnavailable
from broker.runtime import Runtime

router = APIRouter(tags=["operations"])


@router.get("/livez")
async def livez() -> dict[str, str]:
    """The process is up; says nothing about its dependencies."""
    return {"status": "ok"}


class Readiness(BaseModel):
    database: str
    policy: str
    kafka: str


@router.get("/readyz", response_model=Readiness,
            responses={503: {"model": Readiness, "description": "The database or OPA (with our registry) is down"}})
async def readyz(request: Request) -> JSONResponse:
    """Ready when the database and OPA (with our registry) answer; Kafka is reported, not required."""
    runtime: Runtime = request.app.state.runtime
    database = await asyncio.to_thread(_database_ok, runtime)
    revision = await runtime.policy.registry_revision()
    policy = revision == runtime.registry.revision
    if not policy:
        # OPA restarted and lost the registry (or holds another): give ours back so decisions resume.
        with contextlib.suppress(PolicyUnavailable):
            await runtime.load_registry_into_policy()
        policy = await runtime.policy.registry_revision() == runtime.registry.revision
    body = {
        "database": "ok" if database else "unavailable",
        "policy": "ok" if policy else "unavailable",
        # The outbox absorbs Kafka outages, so Kafka being down does not make the gateway unready.
        "kafka": "connected" if runtime.relay_connected() else "disconnected",
    }
    return JSONResponse(body, status_code=200 if database and policy else 503)


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    runtime.metrics.outbox_depth.set(await asyncio.to_thread(runtime.outbox_depth))
    return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)


def _database_ok(runtime: Runtime) -> bool:
    try:
        with runtime.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:  # any failure means not ready; the reason is in the database's own logs
        return False
    return True
