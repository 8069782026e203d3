"""Every metric the gateway declares is exposed on /metrics and moves when its event happens.

The declarations are read from `broker.metrics.Metrics` itself, so a metric added there without
being wired to its event fails `test_every_declared_metric_moves` until it is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text, update
from sqlmodel import Session, select

from broker import metrics_state
from broker.db import verification
from broker.db.tables import ObligationClock
from broker.metrics import Metrics
from tests.broker.conftest import METRICS_TOKEN, Gateway, GatewayFactory
from tests.broker.kafka_reader import wait_published
from tests.broker.people import HELD, POLICE
from tests.factories import school_referral

pytestmark = pytest.mark.stack

Samples = dict[str, dict[tuple[tuple[str, str], ...], float]]


def declared() -> dict[str, str]:
    """Family name -> type of every collector `Metrics` declares."""
    return {family.name: family.type for family in Metrics().registry.collect()}


def parse(text: str) -> Samples:
    """Family name -> {sorted labels (sample name included) -> value}, `_created` timestamps left out."""
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        samples = found.setdefault(family.name, {})
        for sample in family.samples:
            if not sample.name.endswith("_created"):
                samples[(("__name__", sample.name), *sorted(sample.labels.items()))] = sample.value
    return found


# What a gateway that has done nothing would show: a fresh set of collectors.
BASELINE = parse(generate_latest(Metrics().registry).decode())


async def scrape(gateway: Gateway) -> Samples:
    response = await gateway.client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200
    return parse(response.text)


def moved(samples: Samples) -> set[str]:
    """Families present in `samples` whose values differ from a fresh gateway's."""
    return {name for name, values in samples.items() if name in declared() and values != BASELINE.get(name, {})}


def value(samples: Samples, sample: str, **labels: str) -> float:
    """Sum of the samples named `sample` whose labels include `labels`."""
    family = samples.get(sample.removesuffix("_total").removesuffix("_count").removesuffix("_sum"), {})
    return sum(
        v
        for key, v in family.items()
        if dict(key)["__name__"] == sample and all(dict(key).get(k) == w for k, w in labels.items())
    )


async def until(gateway: Gateway, check: Callable[[Samples], bool], timeout: float = 20.0) -> Samples:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        samples = await scrape(gateway)
        if check(samples) or asyncio.get_running_loop().time() > deadline:
            return samples
        await asyncio.sleep(0.2)


@dataclass
class Seen:
    families: set[str]

    def add(self, samples: Samples) -> Samples:
        self.families |= moved(samples)
        return samples


def _advice_referral() -> dict[str, object]:
    return school_referral(recipients=[POLICE], **HELD["needs_advice"])


async def _quiet_gateway(factory: GatewayFactory, seen: Seen) -> None:
    """No relay: what is decided stays in the outbox, and held items wait."""
    quiet: Gateway = await factory(run_relay_in_gateway=False, log_verify_seconds=0)
    assert (await quiet.post(school_referral())).status_code == 202
    assert (await quiet.post(_advice_referral())).status_code == 202
    samples = seen.add(await scrape(quiet))
    assert value(samples, "sgb_outbox_depth") >= 1
    assert value(samples, "sgb_held_deliveries") == 1
    assert value(samples, "sgb_http_requests_total", method="POST", route="/v1/notifications", status="202") == 2
    # Each notification timed once, whole and its log commit: the commit is part of the answer's time.
    assert value(samples, "sgb_http_request_seconds_count", method="POST", route="/v1/notifications") == 2
    assert value(samples, "sgb_log_commit_seconds_count") == 2
    answered = value(samples, "sgb_http_request_seconds_sum", method="POST", route="/v1/notifications")
    assert 0 < value(samples, "sgb_log_commit_seconds_sum") < answered
    assert value(samples, "sgb_log_verification_ok") == -1, "not verified yet is neither pass nor fail"


async def _live_gateway(factory: GatewayFactory, seen: Seen, monkeypatch: pytest.MonkeyPatch) -> Gateway:
    """Relay and clocks running: publishes, runs clocks out, verifies the log, fails a checkpoint."""
    live: Gateway = await factory(clock_check_seconds=0.2, checkpoint_seconds=0.2)
    await wait_published(live.outbox)
    with Session(live.engine) as session:
        assert session.exec(select(ObligationClock)).first() is not None, "the referral started no clock"
        session.execute(update(ObligationClock).values(due_at=datetime.now(UTC) - timedelta(days=1)))
        session.commit()

    def refuse() -> None:
        raise OSError("disk full")

    monkeypatch.setattr(live.decision_log, "refresh_checkpoint", refuse)
    samples = seen.add(
        await until(live, lambda s: value(s, "sgb_overdue_total") > 0 and value(s, "sgb_checkpoint_failures_total") > 0)
    )
    assert value(samples, "sgb_published_total") >= 1
    assert value(samples, "sgb_outbox_depth") == 0
    assert value(samples, "sgb_overdue_clocks") >= 1
    assert value(samples, "sgb_log_verification_ok") == 1
    assert value(samples, "sgb_log_verification_timestamp_seconds") > 0
    return live


async def test_every_declared_metric_moves(gateway_factory: GatewayFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = Seen(set())
    await _quiet_gateway(gateway_factory, seen)
    await _live_gateway(gateway_factory, seen, monkeypatch)
    broken: Gateway = await gateway_factory(opa_url="http://127.0.0.1:9", opa_timeout_seconds=0.5)
    assert (await broken.post(school_referral())).status_code == 503
    samples = seen.add(await scrape(broken))
    assert value(samples, "sgb_opa_failures_total") == 1
    assert value(samples, "sgb_http_requests_total", route="/v1/notifications", status="503") == 1
    assert seen.families == set(declared()), f"declared but never moved: {sorted(set(declared()) - seen.families)}"


async def test_requests_are_labelled_by_route_template_never_by_concrete_path(gateway: Gateway) -> None:
    await gateway.client.get("/v1/notifications/4a1e2c1b-0000-4000-8000-000000000000")
    await gateway.client.get("/no/such/path/12345")
    await gateway.client.request("BREW", "/livez")  # any token is a method to HTTP
    samples = await scrape(gateway)
    routes = {dict(key).get("route") for key in samples["sgb_http_requests"]}
    assert "/v1/notifications/{notification_id}" in routes
    assert "<unmatched>" in routes
    assert not any("4a1e2c1b" in str(route) or "12345" in str(route) for route in routes), routes
    assert value(samples, "sgb_http_requests_total", method="GET", route="<unmatched>", status="404") == 1
    assert value(samples, "sgb_http_requests_total", method="OTHER", route="/livez", status="405") == 1


async def test_the_worker_refreshes_the_state_gauges_without_a_scrape(gateway: Gateway) -> None:
    assert (await gateway.post(_advice_referral())).status_code == 202
    metrics, stop = Metrics(), asyncio.Event()
    task = asyncio.create_task(metrics_state.keep_refreshing(metrics, gateway.engine, stop, every=0.1))
    try:
        for _ in range(100):
            if metrics.registry.get_sample_value("sgb_held_deliveries") == 1:
                break
            await asyncio.sleep(0.05)
        assert metrics.registry.get_sample_value("sgb_held_deliveries") == 1
    finally:
        stop.set()
        await task


async def test_a_log_that_does_not_verify_sets_the_gauge_to_zero(gateway_factory: GatewayFactory) -> None:
    gateway: Gateway = await gateway_factory(log_verify_seconds=0)  # no timer to overwrite the verdict

    @dataclass
    class SignedByStranger:  # the same rows, checked against a key that never signed them
        reader = gateway.decision_log.reader
        public_key = Ed25519PrivateKey.generate().public_key()
        verify_keys = (public_key,)  # what the verification checks signatures with

    metrics: Metrics = gateway.app.state.metrics
    assert await asyncio.to_thread(verification.verify, SignedByStranger(), metrics) is False  # type: ignore[arg-type]
    assert value(await scrape(gateway), "sgb_log_verification_ok") == 0


async def test_metrics_still_answer_when_the_database_is_gone(
    gateway_factory: GatewayFactory, postgres_url: str, postgres_admin_url: str
) -> None:
    gateway: Gateway = await gateway_factory(database_url=postgres_url, log_verify_seconds=0)
    assert (await gateway.post(school_referral())).status_code == 202
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{postgres_url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()
    samples = await scrape(gateway)  # a failed scrape would read as "gateway down", not "database down"
    assert value(samples, "sgb_http_requests_total", route="/v1/notifications", status="202") == 1


async def test_metrics_are_served_only_to_a_scrape_carrying_the_configured_token(
    gateway_factory: GatewayFactory,
) -> None:
    """Decisions by outcome and message type are partnership activity, on the port agencies reach."""
    gateway: Gateway = await gateway_factory()
    assert (await gateway.post(school_referral())).status_code == 202
    for headers in ({}, {"Authorization": "Bearer not-the-token"}, {"Authorization": METRICS_TOKEN}):
        refused = await gateway.client.get("/metrics", headers=headers)
        assert refused.status_code == 401, refused.text
        assert refused.json()["reason"] == "metrics_token"
        assert "sgb_decisions_total" not in refused.text
    unset: Gateway = await gateway_factory(metrics_token=None)
    absent = await unset.client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert absent.status_code == 404, absent.text
    assert "SGB_METRICS_TOKEN" in absent.json()["detail"]
    assert value(await scrape(gateway), "sgb_decisions_total") >= 1
