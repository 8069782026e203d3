"""Defects found reviewing how the gateway takes bad or unusual input, each pinned on the real gateway:

- a share decided for an agency the sealer did not know yet (a registry change reaching the two a
  moment apart) was logged as a share with nothing queued, and the receipt said "share";
- an integer of over 4,300 digits answered 500, not 422;
- an unverified Authorisation-Token's own text (its `alg`, say) went into the append-only log;
- a malformed Idempotency-Key was a 409 "conflict", not a 422 naming the header;
- a correction whose recall failed answered "Nothing was shared" although its replacement was;
- a NUL byte in an id in the path was a 500 on PostgreSQL.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from sqlmodel import Session, col, select

import audit
from broker.db.tables import HeldDelivery, OutboxRow
from broker.errors import InvalidNotification
from broker.review import withdrawal
from broker.sharing.parse import parse
from tests.broker.conftest import Gateway, GatewayFactory
from tests.broker.people import Person
from tests.broker.test_authorisation_token import _post, _referral
from tests.factories import PERSONAL_VALUES, school_referral

pytestmark = pytest.mark.stack
SCHOOL, CSC = "school-oakfield-primary", "csc-fenmere-mash"


def _entries(gateway: Gateway, **where: Any) -> list[audit.Entry]:
    with Session(gateway.engine) as session:
        query = select(audit.Entry)
        for name, value in where.items():
            query = query.where(col(getattr(audit.Entry, name)) == value)
        return list(session.exec(query))


async def test_a_share_with_an_agency_the_sealer_does_not_know_yet_is_a_no_share_said_so(gateway: Gateway) -> None:
    sealer = gateway.app.state.sealer
    lagging = gateway.registry.model_copy(
        update={"agencies": {k: v for k, v in gateway.registry.agencies.items() if k != CSC}}
    )
    await sealer.use(lagging)  # OPA's data has the MASH; sealing does not, yet
    response = await gateway.post(school_referral())
    assert response.status_code == 202, response.text
    mash = {r["agency_id"]: r for r in response.json()["recipients"]}[CSC]
    assert mash["outcome"] == "no_share" and [r["rule"] for r in mash["decided_by"]] == ["SYS-AGENCY"], mash
    assert "nothing is shared" in mash["decided_by"][0]["message"] and mash["allowed_fields"] == []
    (entry,) = _entries(gateway, delivery_id=mash["delivery_id"])
    assert entry.outcome == "no_share", "the log agrees with the receipt"
    with Session(gateway.engine) as session:
        assert session.get(OutboxRow, mash["delivery_id"]) is None
        assert session.get(HeldDelivery, mash["delivery_id"]) is None
    police = {r["agency_id"]: r for r in response.json()["recipients"]}["police-fenmere"]
    assert police["outcome"].startswith("share"), "the rest go as decided"


async def test_a_number_too_long_for_python_is_a_422(gateway: Gateway) -> None:
    body = json.dumps(school_referral()).replace('"notification_id"', '"zz": ' + "9" * 5000 + ', "notification_id"')
    token = gateway.token(SCHOOL)
    response = await gateway.client.post(
        "/v1/notifications",
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["msg"] == "a number in the body is too long"


def _unsigned_token(header: dict[str, str]) -> str:
    """A registered issuer, so the refusal gets as far as the key; signed by nobody."""
    header_part, claims_part = (
        base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
        for part in (header, {"iss": "health-visiting-fenmere"})
    )
    return f"{header_part}.{claims_part}.c2ln"


@pytest.mark.parametrize(("field", "code"), [("alg", "disallowed_algorithm"), ("kid", "unknown_key")])
async def test_an_unverified_authorisation_tokens_words_never_reach_the_log(
    gateway: Gateway, field: str, code: str
) -> None:
    personal = PERSONAL_VALUES[0]
    header = {"alg": "EdDSA", "kid": "k-1", field: personal}
    response = await _post(gateway, _referral(), _unsigned_token(header))
    assert response.status_code == 422, response.text
    assert personal not in response.text
    refused = _entries(gateway, kind=audit.EventKind.ACCESS_REFUSED)
    assert refused and all(personal not in json.dumps(e.reasons) for e in refused)
    assert refused[0].reasons[0]["message"].endswith(f"the authoriser's token was refused: {code}")


@pytest.mark.parametrize("key", ["", "k" * 201, "line\tbreak"], ids=["empty", "too-long", "control"])
async def test_a_malformed_idempotency_key_is_a_422_naming_the_header(gateway: Gateway, key: str) -> None:
    response = await gateway.post(school_referral(), headers={"Idempotency-Key": key})
    assert response.status_code == 422, response.text
    assert [e["loc"] for e in response.json()["errors"]] == [["header", "Idempotency-Key"]]


async def test_a_correction_whose_recall_fails_says_its_replacement_went(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    sender = Person(gateway, SCHOOL, "dsl", "dsl-oak-61")
    sent = await sender.send("share")
    fresh = sender.notification("share")

    async def refused(*_: Any, **__: Any) -> None:
        raise audit.Pushback("the log's queue is full")  # as a busy log refuses the recall's commit

    monkeypatch.setattr(withdrawal, "withdraw", refused)
    answer = await sender.api("POST", f"/v1/notifications/{sent['notification_id']}/correction", json=fresh)
    assert answer.status_code == 503, answer.text
    body = answer.json()
    assert body["error"] == "correction_incomplete" and "urgent" not in body, "not 'Nothing was shared'"
    assert fresh["notification_id"] in body["detail"] and "still stands" in body["detail"]
    assert _entries(gateway, notification_id=fresh["notification_id"], kind="decided"), "the replacement went"
    assert _entries(gateway, notification_id=sent["notification_id"], kind="corrected") == []


async def test_a_nul_in_an_id_is_refused_on_postgresql(
    gateway_factory: GatewayFactory, request: pytest.FixtureRequest
) -> None:
    gateway = await gateway_factory(database_url=request.getfixturevalue("postgres_url"))
    headers = {"Authorization": f"Bearer {gateway.token(SCHOOL, role='dsl')}"}
    response = await gateway.client.get("/v1/notifications/a%00b", headers=headers)
    assert response.status_code in (404, 422), response.text
    assert "NUL" not in response.text and "psycopg" not in response.text, "no driver's words"


async def test_a_typed_bodys_refusal_names_the_field_without_repeating_the_value(gateway: Gateway) -> None:
    """FastAPI's own 422 echoed the input: here a near-valid NHS number, on the way back to the caller."""
    ig_lead = Person(gateway, CSC, "ig_lead", "ig-office-01")
    near = "943 476 5919"
    answer = await ig_lead.api("POST", "/v1/case-review", json={"nhs_number": near})
    assert answer.status_code == 422, answer.text
    assert near not in answer.text
    assert [e["loc"] for e in answer.json()["detail"]] == [["nhs_number"]]


def test_a_list_the_sender_sets_the_length_of_is_bounded() -> None:
    """3,000 subjects parsed, and each decided entry stored every subject's pseudonym: about 10 MB of
    append-only log per request. A sender's lists are bounded as the recipients always were."""
    body = school_referral()
    one = body["subjects"][0]
    body["subjects"] = [{**one, "subject_ref": f"child-{n}"} for n in range(51)]
    with pytest.raises(InvalidNotification) as refused:
        parse(json.dumps(body).encode())
    assert [e["loc"] for e in refused.value.errors] == [["subjects"]]


def _twice(gateway: Gateway, name: str) -> list[tuple[str, str]]:
    if name == "Authorization":  # two of the sender's own tokens
        return [(name, f"Bearer {gateway.token(SCHOOL)}"), (name, f"Bearer {gateway.token(SCHOOL)}")]
    return [("Authorization", f"Bearer {gateway.token(SCHOOL)}"), (name, "key-1"), (name, "key-2")]


@pytest.mark.parametrize("name", ["Idempotency-Key", "Authorization"])
async def test_a_header_given_twice_is_refused_naming_it(gateway: Gateway, name: str) -> None:
    """Starlette takes the first; a proxy honouring the last would act on another request."""
    response = await gateway.client.post("/v1/notifications", json=school_referral(), headers=_twice(gateway, name))
    assert response.status_code == 422, response.text
    assert [e["loc"] for e in response.json()["detail"]] == [["header", name]]
    assert _entries(gateway, kind=audit.EventKind.DECIDED) == [], "nothing decided"


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"message_type": None}, ["message_type"]),
        ({"schema_version": None}, ["schema_version"]),
        ({"schema_version": 1.0}, ["schema_version"]),
        ({"schema_version": "2.0"}, ["schema_version"]),
    ],
    ids=["no-type", "no-version", "version-not-a-string", "unknown-version"],
)
def test_the_field_that_chooses_the_model_is_named(change: dict[str, Any], loc: list[str]) -> None:
    """pydantic's own answer had no path and named an internal function (`_discriminate()`)."""
    body = {k: v for k, v in {**school_referral(), **change}.items() if v is not None}
    with pytest.raises(InvalidNotification) as refused:
        parse(json.dumps(body).encode())
    (error,) = refused.value.errors
    assert error["loc"] == loc and "_discriminate" not in str(error["msg"]), error
    assert "1.0" in str(error["msg"]) or loc == ["message_type"], "says what would be accepted"


def test_a_body_that_is_not_one_notification_is_said_so() -> None:
    with pytest.raises(InvalidNotification) as refused:
        parse(json.dumps([school_referral()]).encode())
    assert refused.value.errors == [
        {"loc": [], "msg": "the body must be one notification, a JSON object", "type": "model_type"}
    ]


def test_a_refusal_about_the_people_of_a_notification_does_not_quote_their_references() -> None:
    body = school_referral()
    body["subjects"][0]["subject_ref"] = "alpha-testchild"
    body["recipients"][0]["agency_id"] = "alpha-testchild"
    with pytest.raises(InvalidNotification) as refused:
        parse(json.dumps(body).encode())
    assert "alpha-testchild" not in json.dumps(refused.value.errors)
    assert "people are never recipients" in json.dumps(refused.value.errors)
