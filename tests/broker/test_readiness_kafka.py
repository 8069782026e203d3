"""/readyz says what is true of Kafka: a gateway whose relay runs in a worker never connects to Kafka,
so it says `not_used`, not `disconnected` (which read as Kafka being down, as compose runs it)."""

from __future__ import annotations

import pytest

from tests.broker.conftest import GatewayFactory

pytestmark = pytest.mark.stack


async def test_a_gateway_without_a_relay_says_kafka_is_not_used(gateway_factory: GatewayFactory) -> None:
    gateway = await gateway_factory(run_relay_in_gateway=False)
    ready = await gateway.client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["kafka"] == "not_used"


async def test_a_gateway_with_its_relay_reports_the_connection(gateway_factory: GatewayFactory) -> None:
    gateway = await gateway_factory()
    ready = await gateway.client.get("/readyz")
    assert ready.json()["kafka"] in {"connected", "disconnected"}
