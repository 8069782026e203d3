"""Consumer groups carry the partnership id (issue #16), after the namespace, so a test run's groups
keep its namespace prefix; the consumer, its ACL and the AsyncAPI document agree on the name."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from broker.partnership import kafka_access
from consumers.settings import ConsumerSettings
from schemas import topics
from tests.conftest import TEST_NAMESPACE

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_the_group_names_namespace_partnership_and_agency() -> None:
    group = topics.consumer_group("csc-example", namespace=TEST_NAMESPACE, partnership_id="fenmere_scp")
    assert group == f"{TEST_NAMESPACE}.consumer.fenmere_scp.csc-example"


@pytest.mark.parametrize("bad", ["", "a.b", "Fenmere", "x" * 70, "*"])
def test_a_partnership_id_that_could_widen_a_name_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="partnership"):
        topics.consumer_group("csc-example", partnership_id=bad)


def test_the_acl_is_granted_on_the_group_the_consumer_joins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSUMER_PARTNERSHIP_ID", "fenmere_scp")
    settings = ConsumerSettings(
        agency_id="csc-example",
        topic_namespace=TEST_NAMESPACE,
        kafka_password="not-a-placeholder",
        kafka_security_protocol="SASL_SSL",
    )
    joined = topics.consumer_group(
        settings.agency_id, namespace=settings.topic_namespace, partnership_id=settings.partnership_id
    )
    grants = kafka_access.agency_grants("csc-example", namespace=TEST_NAMESPACE, partnership_id="fenmere_scp")
    assert [g.name for g in grants if g.resource_type == "group"] == [joined]
    assert joined.startswith(f"{TEST_NAMESPACE}.consumer.fenmere_scp.")


def test_the_asyncapi_document_describes_the_group_name() -> None:
    document = json.loads((DOCS / "asyncapi.json").read_text())
    pattern = document["operations"]["consumeDelivery"]["bindings"]["kafka"]["groupId"]["pattern"]
    assert re.fullmatch(pattern, topics.consumer_group("csc-example", partnership_id="fenmere_scp"))
