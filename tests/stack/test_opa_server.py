"""The local OPA server is real: opa-python-client loads a policy and gets decisions from it."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from opa_client import AsyncOpaClient

# Needs the running stack: the stack's OPA itself.
pytestmark = pytest.mark.stack

POLICY = """package {package}

default allow := false

allow if {{
    input.recipient in data.{package}.allowed
}}
"""


async def test_decision_from_real_opa(opa_url: str, unique_name: str) -> None:
    parts = urlsplit(opa_url)
    package = f"stacktest.{unique_name}"
    host, port = parts.hostname or "", parts.port or 80
    async with AsyncOpaClient(host=host, port=port, retries=0, timeout=5) as client:
        await client.update_policy_from_string(POLICY.format(package=package), unique_name)
        await client.update_or_create_data({"allowed": ["police"]}, package.replace(".", "/"))
        try:
            yes = await client.query_rule({"recipient": "police"}, package.replace(".", "/"), "allow")
            no = await client.query_rule({"recipient": "housing"}, package.replace(".", "/"), "allow")
        finally:
            await client.delete_policy(unique_name)
            await client.delete_data(package.replace(".", "/"))
    assert yes["result"] is True
    assert no["result"] is False
