"""Type-and-version discrimination: a v2 of one message type sits beside its v1.

The test defines a v2 of the M02 referral acknowledgement with one extra field, builds the
notification union over every production model plus that v2, and checks that both versions parse
to their own model and both are decided by the real OPA (the policy pack lists "2.0" among the
M02 schema versions). v1 bodies keep their v1 error paths.
"""

from __future__ import annotations

from typing import Any, Literal

import pytest
from pydantic import TypeAdapter, ValidationError

from schemas.common import EnvelopeFields
from schemas.fields import SHORT_TEXT, classed
from schemas.notifications import NOTIFICATION_MODELS, ReferralAcknowledgement, notification_union, union_tag
from schemas.payloads.referrals import ReferralAcknowledgementPayload
from schemas.policy_decision import PolicyDecision
from schemas.policy_input import build_policy_input
from schemas.vocab import DataClass, MessageType
from tests.policy.bases import BASES, patched
from tests.policy.conftest import REGISTRY, Decide


class ReferralAcknowledgementPayloadV2(ReferralAcknowledgementPayload):
    """M02 v2 (test only): names the duty worker the referrer can call."""

    duty_contact: str | None = classed(
        DataClass.CASE_ADMIN, "Duty team phone line for queries", default=None, max_length=SHORT_TEXT
    )


class ReferralAcknowledgementV2(EnvelopeFields):
    schema_version: Literal["2.0"]
    message_type: Literal[MessageType.REFERRAL_ACKNOWLEDGEMENT]
    payload: ReferralAcknowledgementPayloadV2


MODELS: dict[tuple[MessageType, str], type[EnvelopeFields]] = {
    **NOTIFICATION_MODELS,
    (MessageType.REFERRAL_ACKNOWLEDGEMENT, "2.0"): ReferralAcknowledgementV2,
}
ADAPTER: TypeAdapter[Any] = TypeAdapter(notification_union(MODELS))
V1 = BASES["acknowledgement"]
V2 = patched("acknowledgement", {"schema_version": "2.0", "payload": {"duty_contact": "01632 960999"}})


def test_v1_and_v2_parse_to_their_own_models() -> None:
    assert type(ADAPTER.validate_python(V1)) is ReferralAcknowledgement
    v2 = ADAPTER.validate_python(V2)
    assert type(v2) is ReferralAcknowledgementV2
    assert v2.payload.duty_contact == "01632 960999"


def test_v1_refuses_the_v2_field_with_its_v1_path() -> None:
    with pytest.raises(ValidationError) as caught:
        ADAPTER.validate_python({**V2, "schema_version": "1.0"})
    assert [tuple(e["loc"]) for e in caught.value.errors()] == [("referral_acknowledgement", "payload", "duty_contact")]


def test_v2_errors_name_the_version() -> None:
    with pytest.raises(ValidationError) as caught:
        ADAPTER.validate_python(patched("acknowledgement", {"schema_version": "2.0", "payload": {"extra": 1}}))
    assert caught.value.errors()[0]["loc"][0] == union_tag("referral_acknowledgement", "2.0")


def test_unknown_version_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        ADAPTER.validate_python({**V1, "schema_version": "3.0"})
    assert [e["type"] for e in caught.value.errors()] == ["union_tag_invalid"]


def test_union_without_versions_in_it_rejects_v2() -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(notification_union(NOTIFICATION_MODELS)).validate_python(V2)


@pytest.mark.stack
@pytest.mark.parametrize("body", [V1, V2], ids=["v1", "v2"])
def test_both_versions_decide_through_opa(body: dict[str, Any], decide: Decide) -> None:
    notification = ADAPTER.validate_python(body)
    policy_input = build_policy_input(notification, REGISTRY["partnership_id"])
    assert policy_input.schema_version == body["schema_version"]
    decision = PolicyDecision.model_validate(decide(policy_input.model_dump(mode="json")))
    assert decision.errors == []
    got = decision.decision_for("school-oakfield-primary", "dsl")
    assert got.outcome == "share"
    assert got.decided_by[0].rule == "GR1"
    assert got.allowed_fields == sorted(body["payload"])


@pytest.mark.stack
def test_a_version_the_pack_does_not_list_is_no_share(decide: Decide) -> None:
    notification = ADAPTER.validate_python(V1)
    policy_input = build_policy_input(notification, REGISTRY["partnership_id"]).model_dump(mode="json")
    decision = PolicyDecision.model_validate(decide({**policy_input, "schema_version": "7.0"}))
    assert [e.rule for e in decision.errors] == ["SYS-INPUT"]
    assert decision.decision_for("school-oakfield-primary", "dsl").outcome == "no_share"


def test_openapi_mapping_only_while_one_version_per_type() -> None:
    assert set(TypeAdapter(notification_union(NOTIFICATION_MODELS)).json_schema()["discriminator"]["mapping"]) == {
        kind.value for kind, _ in NOTIFICATION_MODELS
    }
    assert "discriminator" not in ADAPTER.json_schema()
