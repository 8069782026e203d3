"""Crypto-shredding per case: every copy the gateway keeps about one child is under that case's key;
the partnership's IG lead destroys the key, the copies can no longer be read (outbox and held, even
with a held key kept elsewhere), the other child's deliveries carry on, the log says who and why and
still verifies, and a later notification about the same child starts a new key. Real gateway (SQLite
and PostgreSQL), its own relay, the stack's Kafka and OPA."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import inspect, text, update
from sqlmodel import Session, col, select

import audit
from broker.db import migration
from broker.db.provisioning import prepare_database
from broker.db.tables import CaseKey, HeldDelivery, HeldKey, OutboxRow
from broker.delivery import case_keys, held
from broker.delivery.background import build_relay
from broker.delivery.calendar import WorkingCalendar
from broker.delivery.retention import Retention, purge_and_log
from broker.errors import HeldDeliveryGone
from broker.metrics import Metrics
from broker.review import shredding
from broker.review.access import Viewer
from broker.review.case_review import pseudonym
from schemas.notice import Notice
from tests.broker.conftest import Gateway, GatewayFactory
from tests.broker.kafka_reader import records, wait_published
from tests.broker.migrations import downgrade
from tests.broker.people import Person
from tests.broker.test_case_review import nhs_number
from tests.factories import school_referral

HV, SCHOOL, CSC = "health-visiting-fenmere", "school-oakfield-primary", "csc-fenmere-mash"
TO_CSC = {"agency_id": CSC, "role": "mash_intake", "need_to_know": "assess_and_decide"}
TO_POLICE = {"agency_id": "police-fenmere", "role": "police_public_protection", "need_to_know": "investigate_crime"}
CHILD_A, CHILD_B = nhs_number("400000013"), nhs_number("400000021")
DECISION = "IG-2026-0143"


async def _refer(
    sender: Person,
    ref: str,
    nhs: str,
    recipients: list[dict[str, str]],
    extra_subjects: Sequence[dict[str, Any]] = (),
    **extra: Any,
) -> dict[str, Any]:
    child = {"subject_ref": ref, "role_in_case": "child", "age_years": 6, "nhs_number": nhs}
    body = school_referral(recipients=recipients, subjects=[child, *extra_subjects], **extra)
    body["sender"] = {
        "agency_id": sender.agency,
        "role": sender.sends_as,
        "user_ref": sender.user_ref,
        "is_professional": True,
    }
    response = await sender.api("POST", "/v1/notifications", json=body)
    assert response.status_code == 202, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _outbox(gateway: Gateway, notification_ids: set[str]) -> list[OutboxRow]:
    with Session(gateway.engine) as session:
        query = select(OutboxRow).where(col(OutboxRow.notification_id).in_(notification_ids))
        return list(session.exec(query.order_by(col(OutboxRow.id))))


def _entries(gateway: Gateway, kind: audit.EventKind) -> list[audit.Entry]:
    with Session(gateway.engine) as session:
        query = select(audit.Entry).where(col(audit.Entry.kind) == kind).order_by(col(audit.Entry.seq))
        return list(session.exec(query))


def _opened(gateway: Gateway, row: OutboxRow) -> bytes:
    with Session(gateway.engine) as session:
        return case_keys.read_envelope(session, row)


async def _kafka(kafka_admin_config: dict[str, Any], rows: list[OutboxRow]) -> dict[str, bytes]:
    """What the relay put on Kafka for these rows, by delivery id."""
    found: dict[str, bytes] = {}
    for topic in {row.topic for row in rows}:
        want = {row.delivery_id for row in rows if row.topic == topic}
        for record in await records(kafka_admin_config, topic, want=want):
            found[dict(record.headers)["ce_id"].decode()] = record.value
    return found


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.stack)])
async def gateway_on(request: pytest.FixtureRequest, gateway_factory: GatewayFactory) -> Gateway:
    if request.param == "sqlite":
        started: Gateway = await gateway_factory()
    else:
        started = await gateway_factory(database_url=request.getfixturevalue("postgres_url"))
    return started


@pytest.mark.stack
async def test_shredding_a_case_makes_every_copy_unreadable_and_the_rest_carries_on(
    gateway_on: Gateway, kafka_admin_config: dict[str, Any]
) -> None:
    gateway = gateway_on
    school_dsl, hv_dsl = Person(gateway, SCHOOL, "dsl", "dsl-school-31"), Person(gateway, HV, "dsl", "hv-dsl-31")
    a_school = await _refer(school_dsl, "pupil-3101", CHILD_A, [TO_CSC, TO_POLICE])
    a_hv = await _refer(hv_dsl, "hv-case-3101", CHILD_A, [TO_CSC])
    a_held = await _refer(school_dsl, "pupil-3101", CHILD_A, [TO_CSC], sender_in_doubt=True)
    b_school = await _refer(school_dsl, "pupil-3102", CHILD_B, [TO_CSC, TO_POLICE])
    await wait_published(gateway.outbox)
    a_rows = _outbox(gateway, {a_school["notification_id"], a_hv["notification_id"]})
    b_rows = _outbox(gateway, {b_school["notification_id"]})
    assert len(a_rows) == 3 and len(b_rows) == 2
    # One case key per child, whichever agency sent it; every envelope is stored under it.
    assert len({r.case_key_id for r in a_rows}) == 1 and {r.case_key_id for r in b_rows} != {a_rows[0].case_key_id}
    assert all(r.case_key_id is not None and r.nonce for r in a_rows + b_rows)
    on_kafka = await _kafka(kafka_admin_config, a_rows + b_rows)
    for row in a_rows + b_rows:  # the relay decrypted each just before producing: Kafka has the sealed envelope
        assert row.envelope != on_kafka[row.delivery_id] == _opened(gateway, row)
    (held_id,) = [r["delivery_id"] for r in a_held["recipients"] if r["outcome"] == "needs_advice"]
    with Session(gateway.engine) as session:
        held_row, held_key = session.get(HeldDelivery, held_id), session.get(HeldKey, held_id)
        assert held_row is not None and held_key is not None and held_row.case_key_id == a_rows[0].case_key_id
        backup = (held_row.nonce, held_row.ciphertext, held_row.case_nonce, held_key.key)  # as a backup keeps them

    refused = {"nhs_number": CHILD_A, "reason_code": "sent_in_error", "decision_ref": DECISION}
    assert (await school_dsl.api("POST", "/v1/case-shredding", json=refused)).status_code == 403
    hv_lead = Person(gateway, HV, "ig_lead", "hv-ig-lead-31")  # an agency's IG lead: not theirs to do
    assert (await hv_lead.api("POST", "/v1/case-shredding", json=refused)).status_code == 403
    lead = Person(gateway, CSC, "ig_lead", "csc-ig-lead-31")  # the partnership's IG lead
    # Words about the person would stay in the log for as long as it lasts: a reference, never words.
    worded = await lead.api("POST", "/v1/case-shredding", json={**refused, "decision_ref": "Wrong pupil, per the DSL"})
    assert worded.status_code == 422 and "decision_ref" in worded.text, worded.text
    legacy = await lead.api("POST", "/v1/case-shredding", json={**refused, "reason": "Sent about the wrong pupil."})
    assert legacy.status_code == 422 and "reason" in legacy.text, legacy.text
    shredded = await lead.api("POST", "/v1/case-shredding", json=refused)
    assert shredded.status_code == 200, shredded.text
    answer = shredded.json()
    person = pseudonym(gateway.keys.log_pseudonym_secret, nhs_number=CHILD_A, agency_id=CSC, subject_ref=None)
    assert answer == {
        "person": person,
        "keys_destroyed": 1,
        "unreadable": {"outbox_envelopes": 3, "held_deliveries": 1},
        "deliveries_logged": 4,
        "published_deliveries": 3,
        "erasure_notices": 3,
    }
    assert CHILD_A not in shredded.text
    again = await lead.api("POST", "/v1/case-shredding", json=refused)
    assert again.status_code == 404 and "nothing was shared" in again.json()["detail"], again.text

    _assert_unreadable(gateway, a_rows, held_id, backup)
    for row in b_rows:  # the other child's copies still open
        assert _opened(gateway, row) == on_kafka[row.delivery_id]
    released = await school_dsl.api("POST", f"/v1/queues/{held_id}", json={"decision": "release", "reason": "Fine."})
    assert released.status_code == 404, released.text  # gone from the queue: nothing left to release
    csc_system = Person(gateway, CSC, "agency_system", None)
    republish = await csc_system.api("POST", f"/v1/deliveries/{a_rows[0].delivery_id}/republish")
    assert republish.status_code == 404, republish.text

    await _assert_logged(gateway, lead, a_rows, held_id, person)
    await _assert_relay_skips_and_new_generation(gateway, kafka_admin_config, a_rows, school_dsl)
    _assert_hook(gateway, b_rows, lead)


def _assert_unreadable(gateway: Gateway, a_rows: list[OutboxRow], held_id: str, backup: tuple[Any, ...]) -> None:
    with Session(gateway.engine) as session:
        key = session.get(CaseKey, a_rows[0].case_key_id)
        assert key is not None and key.key is None and key.shredded_by == "csc-ig-lead-31" and key.shredded_at
        for row in a_rows:
            with pytest.raises(case_keys.CaseShredded):
                case_keys.read_envelope(session, row)
        held_row = session.get(HeldDelivery, held_id)
        assert held_row is not None and held_row.resolution == "shredded" and session.get(HeldKey, held_id) is None
        with pytest.raises(HeldDeliveryGone):
            held.release(session, held_id, now=datetime.now(UTC), calendar=WorkingCalendar())
    # Even a backup of the held row with its own key yields only the case ciphertext, and that key is gone.
    nonce, ciphertext, case_nonce, held_key = backup
    inner = AESGCM(held_key).decrypt(
        nonce, ciphertext, f"sgb/held/v1\x00{held_id}\x00{held_row.notification_id}".encode()
    )
    with pytest.raises(case_keys.CaseShredded):
        case_keys.decrypt(key.key, nonce=case_nonce, delivery_id=held_id, ciphertext=inner)


async def _assert_logged(gateway: Gateway, lead: Person, a_rows: list[OutboxRow], held_id: str, person: str) -> None:
    entries = _entries(gateway, audit.EventKind.SHREDDED)
    per_delivery = {e.delivery_id: e for e in entries if e.message_type != "case_shredding"}
    assert set(per_delivery) == {r.delivery_id for r in a_rows} | {held_id}
    for row in a_rows:
        entry = per_delivery[row.delivery_id]
        assert entry.follows == [row.log_context["decided_seq"]]
        assert (entry.actor, entry.actor_role, entry.actor_agency) == ("csc-ig-lead-31", "ig_lead", CSC)
        assert entry.reasons == [
            {"rule": "SYS-SHRED", "message": f"Case shredded (sent_in_error) under the decision {DECISION}."}
        ]
    (case_entry,) = [e for e in entries if e.message_type == "case_shredding"]
    assert case_entry.subjects == [person] and case_entry.reasons[0]["message"].endswith(
        f" 1 case key destroyed; the stored copies of {len(per_delivery)} deliveries made unreadable."
    )
    with Session(gateway.engine) as session:
        report = audit.verify_log(session)
    assert report.size > max(e.seq for e in entries)  # the log still verifies, shredding entries included

    review = await lead.api("POST", "/v1/case-review", json={"nhs_number": CHILD_A})
    then = {d["delivery_id"]: [e["kind"] for e in d["then"]] for d in review.json()["decisions"]}
    assert all("shredded" in then[row.delivery_id] for row in a_rows), then
    await lead.sign_in()
    page = await lead.page("GET", f"/ui/decisions/{a_rows[0].log_context['decided_seq']}")
    assert page.status_code == 200 and "shredded" in page.text and DECISION in page.text
    await lead.close()


async def _assert_relay_skips_and_new_generation(
    gateway: Gateway, kafka_admin_config: dict[str, Any], a_rows: list[OutboxRow], sender: Person
) -> None:
    # A row of the case still waiting when it was shredded: marked done, never produced, nothing logged.
    waiting = a_rows[0]
    with Session(gateway.engine) as session, session.begin():
        session.execute(update(OutboxRow).where(col(OutboxRow.id) == waiting.id).values(published_at=None))
    published_before = len(_entries(gateway, audit.EventKind.PUBLISHED))
    gateway.outbox.wake()
    await wait_published(gateway.outbox)
    after = _entries(gateway, audit.EventKind.PUBLISHED)
    assert len(after) == published_before and (_outbox(gateway, {waiting.notification_id})[0].published_at)

    again = await _refer(sender, "pupil-3101", CHILD_A, [TO_CSC])  # the same child, afterwards
    await wait_published(gateway.outbox)
    (row,) = _outbox(gateway, {again["notification_id"]})
    assert row.case_key_id is not None and row.case_key_id != waiting.case_key_id  # a new generation
    assert (await _kafka(kafka_admin_config, [row]))[row.delivery_id] == _opened(gateway, row)
    with Session(gateway.engine) as session:
        keys = session.exec(select(CaseKey).where(col(CaseKey.case_ref) == _case_ref(gateway))).all()
    assert sorted(k.key is None for k in keys) == [False, True]


def _case_ref(gateway: Gateway) -> str:
    return pseudonym(gateway.keys.log_pseudonym_secret, nhs_number=CHILD_A, agency_id=CSC, subject_ref=None)


def _assert_hook(gateway: Gateway, b_rows: list[OutboxRow], lead: Person) -> None:
    """The erasure-notice hook gets, inside the transaction, where each published delivery went."""
    seen: list[tuple[bool, list[shredding.ShreddedDelivery]]] = []
    agency = gateway.registry.agency(CSC)
    assert agency is not None
    viewer = Viewer(CSC, agency.type, "ig_lead", lead.user, lead.office)
    case_ref = pseudonym(gateway.keys.log_pseudonym_secret, nhs_number=CHILD_B, agency_id=CSC, subject_ref=None)
    shredding.shred_case(
        gateway.engine,
        case_ref=case_ref,
        viewer=viewer,
        reason_code="court_order",
        decision_ref="IG-2026-0105",
        on_shredded=lambda session, published: seen.append((session.in_transaction(), list(published))),
    )
    ((in_transaction, published),) = seen
    assert in_transaction
    assert sorted((p.recipient_agency, p.topic, p.key, p.notification_id, p.delivery_ids) for p in published) == sorted(
        (r.recipient_agency, r.topic, r.key, r.notification_id, (r.delivery_id,)) for r in b_rows
    )


async def test_a_delivery_published_as_its_case_is_shredded_still_gets_an_erasure_notice(
    gateway_factory: GatewayFactory,
) -> None:
    """The relay reads a row, the case is shredded, the relay (having produced it) marks it published:
    the shredding found it queued and sent its erasure then, with its reason; marking it adds none."""
    gateway = await gateway_factory(run_relay_in_gateway=False)  # this test is the relay
    sent = await _refer(Person(gateway, SCHOOL, "dsl", "dsl-school-32"), "pupil-3201", CHILD_A, [TO_CSC])
    relay = build_relay(settings=gateway.settings, engine=gateway.engine, metrics=Metrics())
    read = relay._pending()  # as `publish_once` reads its batch, before producing it
    ((row, envelope),) = [(r, value) for r, value in read if r.notification_id == sent["notification_id"]]
    assert isinstance(envelope, bytes)
    lead = Person(gateway, CSC, "ig_lead", "csc-ig-lead-32")
    shredding = {"nhs_number": CHILD_A, "reason_code": "court_order", "decision_ref": "IG-2026-0101"}
    answer = await lead.api("POST", "/v1/case-shredding", json=shredding)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["published_deliveries"], answer.json()["erasure_notices"]) == (0, 1)
    relay._mark_published([row])  # as `publish_once` marks the batch it produced
    with Session(gateway.engine) as session:
        notices = [r for r in session.exec(select(OutboxRow)) if r.log_context.get("notice_for") == row.delivery_id]
    ((notice,),) = [notices]
    assert notice.log_context["notice_kind"] == "erasure" and notice.published_at is None
    assert (notice.topic, notice.key, notice.recipient_agency) == (row.topic, row.key, row.recipient_agency)
    parsed = Notice.from_bytes(notice.envelope)
    assert (parsed.kind, parsed.reason, parsed.delivery_id) == ("erasure", "court_order", row.delivery_id)
    (shredded,) = [e.seq for e in _entries(gateway, audit.EventKind.SHREDDED) if e.delivery_id == row.delivery_id]
    (published,) = [e.seq for e in _entries(gateway, audit.EventKind.PUBLISHED) if e.delivery_id == row.delivery_id]
    assert shredded < published  # the log shows it went out after the shredding


async def test_a_delivery_past_retention_still_gets_its_erasure_notice(gateway_factory: GatewayFactory) -> None:
    """Retention empties a delivered envelope but keeps where it went: shredding the case later still
    tells that agency to erase its copy, and the emptied copy can no longer be sent again."""
    gateway = await gateway_factory()
    sent = await _refer(Person(gateway, SCHOOL, "dsl", "dsl-school-33"), "pupil-3301", CHILD_B, [TO_CSC])
    await wait_published(gateway.outbox)
    (row,) = _outbox(gateway, {sent["notification_id"]})
    with Session(gateway.engine) as session, session.begin():
        long_ago = datetime.now(UTC) - timedelta(days=31)
        session.execute(update(OutboxRow).where(col(OutboxRow.id) == row.id).values(published_at=long_ago))
    assert purge_and_log(gateway.engine, Retention(delivered_days=30))["delivered envelopes"] == 1
    (emptied,) = _outbox(gateway, {sent["notification_id"]})
    assert emptied.envelope == b"" and emptied.nonce is None and emptied.key == row.key
    csc_system = Person(gateway, CSC, "agency_system", None)
    republish = await csc_system.api("POST", f"/v1/deliveries/{row.delivery_id}/republish")
    assert republish.status_code == 404, republish.text
    lead = Person(gateway, CSC, "ig_lead", "csc-ig-lead-33")
    shredding = {"nhs_number": CHILD_B, "reason_code": "retention_ended", "decision_ref": "IG-2026-0102"}
    answer = await lead.api("POST", "/v1/case-shredding", json=shredding)
    assert answer.status_code == 200 and answer.json()["published_deliveries"] == 1, answer.text
    with Session(gateway.engine) as session:
        notices = [r for r in session.exec(select(OutboxRow)) if r.log_context.get("notice_for") == row.delivery_id]
    ((notice,),) = [notices]
    parsed = Notice.from_bytes(notice.envelope)
    assert (parsed.kind, parsed.reason, notice.key) == ("erasure", "retention_ended", row.key)


def test_the_case_ciphertext_is_bound_to_its_delivery() -> None:
    """Two rows under one case key: swapping their ciphertexts (with or without nonces) never opens."""
    key = AESGCM.generate_key(bit_length=256)
    rows = [
        OutboxRow(
            delivery_id=f"d-{n}",
            notification_id="n-1",
            recipient_agency=CSC,
            topic="t",
            key="k",
            headers={},
            envelope=f'{{"sealed": {n}}}'.encode(),
            log_context={},
            created_at=datetime.now(UTC),
        )
        for n in (1, 2)
    ]
    for row in rows:
        case_keys.encrypt_row(row, 7, key)
    first, second = rows
    assert case_keys.opened(first, key) == b'{"sealed": 1}' and case_keys.opened(second, key) == b'{"sealed": 2}'
    assert first.nonce is not None and second.nonce is not None
    with pytest.raises(InvalidTag):
        case_keys.decrypt(key, nonce=second.nonce, delivery_id=first.delivery_id, ciphertext=second.envelope)
    with pytest.raises(InvalidTag):
        case_keys.decrypt(key, nonce=first.nonce, delivery_id=first.delivery_id, ciphertext=second.envelope)
    with pytest.raises(case_keys.CaseShredded):
        case_keys.opened(first, None)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.stack)])
def test_b0003_adds_case_keys_to_a_database_that_had_none(backend: str, request: pytest.FixtureRequest) -> None:
    """From b0002 (no case columns, a plaintext row waiting) to head: the row is still read as plaintext."""
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "postgres_url")
    engine = audit.create_engine_for(url)
    try:
        prepare_database(engine)
        downgrade(engine, "b0002")
        assert "case_key" not in inspect(engine).get_table_names()
        assert "case_key_id" not in {c["name"] for c in inspect(engine).get_columns("outbox")}
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO outbox (delivery_id, notification_id, recipient_agency, topic, key, headers, "
                    "envelope, log_context, created_at) VALUES ('d-old', 'n-old', 'a', 't', 'k', '{}', :env, '{}', "
                    ":now)"
                ),
                {"env": b'{"sealed": "before"}', "now": datetime.now(UTC)},
            )
        migration.upgrade(engine)
        with Session(engine) as session:
            (row,) = session.exec(select(OutboxRow)).all()
            assert row.case_key_id is None and case_keys.read_envelope(session, row) == b'{"sealed": "before"}'
            first = case_keys.live_key(session, "case-1", now=datetime.now(UTC))
            assert case_keys.live_key(session, "case-1", now=datetime.now(UTC)) == first  # one live key per case
            session.commit()
    finally:
        engine.dispose()


@pytest.mark.stack
def test_two_writers_making_one_case_key_at_once_share_it(postgres_url: str) -> None:
    """The second writer's INSERT waits for the first's uncommitted key, then finds it (PostgreSQL)."""
    engine = audit.create_engine_for(postgres_url)
    prepare_database(engine)
    inserted = threading.Event()
    got: dict[str, tuple[int, bytes]] = {}

    def first() -> None:
        with Session(engine) as session:
            got["first"] = case_keys.live_key(session, "case-race", now=datetime.now(UTC))
            inserted.set()
            time.sleep(0.5)  # the second writer is now blocked on the unique index
            session.commit()

    def second() -> None:
        inserted.wait(5)
        with Session(engine) as session:
            got["second"] = case_keys.live_key(session, "case-race", now=datetime.now(UTC))
            session.commit()

    try:
        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert got["first"] == got["second"]
        with Session(engine) as session:
            assert len(session.exec(select(CaseKey).where(col(CaseKey.case_ref) == "case-race")).all()) == 1
    finally:
        engine.dispose()
