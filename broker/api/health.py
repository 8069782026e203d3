"""Liveness, readiness and metrics for operators and orchestrators."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Annotated

from fastapi import APIRouter, Header, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, SecretStr
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from broker import metrics_state
from broker.api.deps import DeciderDep, LogDep, MetricsDep, OutboxDep, SettingsDep
from broker.api.json_body import JsonRoute
from broker.api.responses import json_errors, ok
from broker.db.log import DecisionLog
from broker.errors import NotFound, PolicyUnavailable, ScrapeRefused
from schemas import api, api_examples
from transport.metrics_http import bearer_matches

router = APIRouter(tags=["operations"], route_class=JsonRoute)
log = logging.getLogger("broker.api.health")


@router.get("/livez", response_model=api.Liveness, responses=ok(200, ("live", "The process is up", api_examples.LIVE)))
async def livez() -> dict[str, str]:
    """The process is up; says nothing about its dependencies."""
    return {"status": "ok"}


class Readiness(BaseModel):
    database: str
    policy: str
    kafka: str


@router.get(
    "/readyz",
    response_model=api.Readiness,
    responses={
        **ok(200, ("ready", "Database and OPA answer", api_examples.READY)),
        **ok(
            503,
            ("policy_down", "OPA does not answer", api_examples.NOT_READY),
            model=api.Readiness,
            description="The database or OPA (with our registry) is down",
        ),
    },
)
async def readyz(decision_log: LogDep, decider: DeciderDep, outbox: OutboxDep) -> JSONResponse:
    """Ready when the database and OPA (with our registry) answer; Kafka is reported, not required."""
    database = await asyncio.to_thread(_database_ok, decision_log)
    policy = await decider.registry_loaded()
    if not policy:
        # OPA restarted and lost the registry (or holds another): give ours back so decisions resume.
        with contextlib.suppress(PolicyUnavailable):
            await decider.load_registry()
        policy = await decider.registry_loaded()
    body = {
        "database": "ok" if database else "unavailable",
        "policy": "ok" if policy else "unavailable",
        # The outbox absorbs Kafka outages, so Kafka being down does not make the gateway unready.
        "kafka": outbox.kafka_state(),
    }
    return JSONResponse(body, status_code=200 if database and policy else 503)


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={
        **ok(200, ("metrics", "Prometheus text format", api_examples.METRICS), media_type="text/plain"),
        **json_errors(401, 404),
    },
)
async def metrics(
    metrics: MetricsDep,
    decision_log: LogDep,
    settings: SettingsDep,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    check_scrape(settings.metrics_token, authorization)
    # The reader: a scrape must never wait behind the log's write lock.
    try:
        await asyncio.to_thread(metrics_state.refresh, metrics, decision_log.reader)
    except SQLAlchemyError as exc:
        # Still answer with the counters: a failed scrape would look like a gateway that is down,
        # and /readyz already says the database is. The state gauges keep their last values.
        log.warning("metrics: database unavailable (%s)", type(exc).__name__)
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


def check_scrape(token: SecretStr | None, authorization: str | None) -> None:
    """Refuse a scrape without the configured bearer token; with none configured, there is no /metrics."""
    expected = token.get_secret_value() if token is not None else ""
    if not expected:
        raise NotFound("metrics are served only with SGB_METRICS_TOKEN set, to scrapes that carry it")
    if not bearer_matches(authorization or "", expected.encode()):
        raise ScrapeRefused("a scrape of /metrics carries SGB_METRICS_TOKEN as its bearer token")


def _database_ok(decision_log: DecisionLog) -> bool:
    try:
        with decision_log.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:  # any failure means not ready; the reason is in the database's own logs
        return False
    return True
