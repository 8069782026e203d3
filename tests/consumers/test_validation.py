"""The consumer checks every opened payload against its message type with the contract's own check
(`schemas.validate_projection`): what the broker seals opens and passes, for every message type, and
what no message type defines is refused as `schema_invalid`, naming no value. No Kafka needed: the
opener is what the runner calls on each record (tests/consumers/test_runner.py parks them on Kafka).
"""

from __future__ import annotations

from typing import Any

import pytest

import schemas
from broker.db.log import DecisionLog
from broker.partnership.cli import public_parts
from broker.partnership.keys import AgencyKeys, BrokerKeys
from broker.partnership.registry import Registry, register_agency
from broker.sharing.seal import Sealer
from consumers.errors import RejectedMessage
from consumers.opener import EnvelopeOpener
from consumers.validation import default_validator
from schemas.envelope import SealedEnvelope
from schemas.notifications import NOTIFICATION_MODELS, parse_notification, payload_of
from schemas.policy_decision import Reason, RecipientDecision
from schemas.policy_input import project
from schemas.vocab import HELD_OUTCOMES, SHARED_OUTCOMES, Outcome
from tests.consumers.conftest import MISFITS, NOW, seal_for
from tests.policy.bases import patched
from tests.policy.scenarios import ALL, SCENARIOS

AGENCY = "csc-fictional"


class _NoCheckpointYet(DecisionLog):
    """The sealer reads only the log's latest checkpoint note; before the first one there is none."""

    def __init__(self) -> None:
        self.checkpoint_note = None


@pytest.fixture
def sealer(agency_keys: AgencyKeys, broker_keys: BrokerKeys) -> Sealer:
    """The gateway's own sealing step, to this agency's registered key, signed by the broker's key."""
    jwt_key, encryption_key = public_parts(agency_keys, NOW)
    registry = register_agency(
        Registry(partnership_id="fenmere-test"),
        agency_id=AGENCY,
        name="Children's Social Care (fictional)",
        agency_type="csc_front_door",
        jwt_key=jwt_key,
        encryption_key=encryption_key,
        now=NOW,
    )
    return Sealer(
        registry=registry,
        keys=broker_keys,
        partnership_id="fenmere-test",
        namespace="test",
        decision_log=_NoCheckpointYet(),
    )


def test_the_consumer_checks_with_the_contracts_own_validator() -> None:
    assert default_validator() is schemas.validate_projection


def _shares() -> list[tuple[str, str, list[str]]]:
    """(scenario id, recipient, allowed fields) of every recipient a scenario shares with or holds for:
    the fields the real policy allows it (tests/policy/test_scenarios.py holds the policy to them)."""
    return [
        (scenario["id"], key, want["withheld"])
        for scenario in SCENARIOS
        for key, want in scenario["expect"].items()
        if Outcome(want["outcome"]) in SHARED_OUTCOMES | HELD_OUTCOMES and want["withheld"] != ALL
    ]


def _decision(outcome: Outcome, allowed: list[str]) -> RecipientDecision:
    reason = Reason(rule="GR4", message="Fictional: sharing is justified.", effect=None)
    return RecipientDecision(
        agency_id=AGENCY,
        role="mash_intake",
        outcome=outcome,
        decided_by=[reason],
        reasons=[reason],
        lawful_basis=None,
        allowed_fields=allowed,
        withheld_fields=[],
        obligations=[],
    )


def test_every_projection_the_broker_seals_opens_and_passes(
    sealer: Sealer, opener: EnvelopeOpener, agency_keys: AgencyKeys, broker_keys: BrokerKeys
) -> None:
    """Each scenario's shared projection, sealed by the gateway's sealer and opened by the consumer
    with its default check: every message type, every recipient's cut of it, delivered as sealed.
    The same cut with one value swapped for an object no type defines is refused, so the check
    that passed it is the type's own, not one any object of field names would pass."""
    scenarios = {scenario["id"]: scenario for scenario in SCENARIOS}
    opened_types: set[str] = set()
    for sid, key, withheld in _shares():
        scenario = scenarios[sid]
        notification = parse_notification(patched(scenario["base"], scenario["patch"]))
        allowed = sorted(set(payload_of(notification).present_field_classes()) - set(withheld))
        decision = _decision(Outcome(scenario["expect"][key]["outcome"]), allowed)
        sealed = sealer.seal(notification, decision, delivery_id=f"dlv-{sid}-{key}", now=NOW)
        assert sealed is not None
        delivery = opener(sealed.envelope)  # raises RejectedMessage(schema_invalid) if the check refused it
        assert delivery.payload == project(notification, allowed), f"{sid} {key}"
        opened_types.add(delivery.message_type)

        first = next(iter(delivery.payload))
        misfit = {**delivery.payload, first: {"unknown_part": 1}}
        forged = seal_for(agency_keys, broker_keys, misfit, message_type=delivery.message_type)
        with pytest.raises(RejectedMessage) as caught:
            opener(forged.to_bytes())
        assert caught.value.reason == "schema_invalid", f"{sid} {key}"
        assert f"payload.{first} " in str(caught.value)
    assert opened_types == {kind.value for kind, _ in NOTIFICATION_MODELS}


def _sealed_misfit(agency_keys: AgencyKeys, broker_keys: BrokerKeys, case: str) -> SealedEnvelope:
    kind, version, payload = MISFITS[case]
    # A delivery id without digits: the detail names it, and it must not pass for the age band's 7.
    return seal_for(
        agency_keys,
        broker_keys,
        payload,
        delivery_id=f"dlv-{case}",
        message_type=kind,
        schema_version=version,
    )


@pytest.mark.parametrize(
    ("case", "where"),
    [
        ("mistyped-fields", "payload.child does not fit its declared type (model_type)"),
        ("made-up-type", "message_type is not a registered message type"),
        ("unknown-version", "schema_version is not a version of safeguarding_referral"),
    ],
)
def test_a_broker_signed_envelope_that_fits_no_type_is_schema_invalid(
    opener: EnvelopeOpener, agency_keys: AgencyKeys, broker_keys: BrokerKeys, case: str, where: str
) -> None:
    envelope = _sealed_misfit(agency_keys, broker_keys, case)
    with pytest.raises(RejectedMessage) as caught:
        opener(envelope.to_bytes())
    assert caught.value.reason == "schema_invalid"
    detail = str(caught.value)
    assert where in detail
    for value in _values(MISFITS[case][2]):
        assert value not in detail
    assert "pupil_gossip_report" not in detail  # an unregistered type is not repeated either


def test_the_mistyped_payload_names_every_field_that_does_not_fit(
    opener: EnvelopeOpener, agency_keys: AgencyKeys, broker_keys: BrokerKeys
) -> None:
    with pytest.raises(RejectedMessage) as caught:
        opener(_sealed_misfit(agency_keys, broker_keys, "mistyped-fields").to_bytes())
    assert "payload.age_band does not fit its declared type (string_type)" in str(caught.value)


def _values(payload: dict[str, Any]) -> list[str]:
    return [str(value) for value in payload.values()]
