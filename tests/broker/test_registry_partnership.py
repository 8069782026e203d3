"""A gateway or worker started on another partnership's registry refuses to start: it would seal,
route and log for one partnership under the other's name. Real gateway start (lifespan), the stack's OPA."""

from __future__ import annotations

import pytest

from broker.errors import RegistryError
from broker.partnership.registry import load_registry
from devstack.partnership import LocalPartnership
from tests.broker.conftest import GatewayFactory


async def test_a_gateway_on_another_partnerships_registry_does_not_start(gateway_factory: GatewayFactory) -> None:
    with pytest.raises(RegistryError, match="another-partnership"):
        await gateway_factory(partnership_id="another-partnership")


def test_the_registry_names_its_partnership(partnership: LocalPartnership) -> None:
    assert load_registry(partnership.registry_file, partnership_id=partnership.partnership_id).agencies
    with pytest.raises(RegistryError, match=partnership.partnership_id):
        load_registry(partnership.registry_file, partnership_id="another-partnership")
