"""Withdrawal and correction end to end: the gateway over HTTP, its relay on Kafka, two agency consumers.

A school's referral reaches children's social care and the police; the school then withdraws it (or
corrects it). Each agency's consumer receives the broker's signed notice, removes the delivery from its
inbox (leaving a tombstone), and sends a signed receipt; the log links decided → published → delivered
→ withdrawn → notice published → withdrawal confirmed for each recipient, and still verifies.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

import audit
from broker.db.tables import OutboxRow
from consumers.ledger import Ledger
from consumers.runner import AgencyConsumer
from consumers.service import build_consumer
from consumers.sinks import SqliteInboxSink
from schemas.notice import NOTICE_CONTENT_TYPE, Notice
from schemas.record_headers import NoticeHeaders
from tests.broker.people import Person
from tests.consumers.conftest import wait_until
from tests.factories import school_referral
from tests.witness.conftest import CONSUMERS, CSC, Site, post_accepted, run_consumers

pytestmark = pytest.mark.stack
SCHOOL = "school-oakfield-primary"


def _kinds(site: Site, notification_id: str) -> dict[str, list[str]]:
    """Each delivery's log entries, by kind, in log order."""
    with Session(site.gateway.engine) as session:
        entries = session.exec(
            select(audit.Entry)
            .where(col(audit.Entry.notification_id) == notification_id)
            .order_by(col(audit.Entry.seq))
        )
        found: dict[str, list[str]] = {}
        for entry in entries:
            found.setdefault(entry.delivery_id, []).append(entry.kind)
        return found


class Agencies:
    """Both consumers, their inboxes and ledgers; `run_until` runs them until a condition holds."""

    def __init__(self, site: Site) -> None:
        settings = {agency: site.consumer_settings(agency) for agency in CONSUMERS}
        self.ledgers = {agency: Ledger(s.ledger_path) for agency, s in settings.items()}
        self.consumers: dict[str, AgencyConsumer] = {
            agency: build_consumer(s, ledger=self.ledgers[agency]) for agency, s in settings.items()
        }
        self.inboxes = {agency: SqliteInboxSink(Path(s.sink_target)) for agency, s in settings.items()}
        self.paths = {agency: Path(s.sink_target) for agency, s in settings.items()}

    async def run_until(self, done: Callable[[], bool]) -> None:
        await run_consumers(self.consumers, asyncio.Event(), done)

    def close(self) -> None:
        for ledger in self.ledgers.values():
            ledger.close()


def _logged(site: Site, notification_id: str, kind: str, count: int) -> bool:
    return sum(kinds.count(kind) for kinds in _kinds(site, notification_id).values()) >= count


async def _withdraw(site: Site, notification_id: str, reason: str, *, role: str = "agency_system") -> Any:
    token = site.gateway.token(SCHOOL, role)
    return await site.gateway.client.post(
        f"/v1/notifications/{notification_id}/withdrawal",
        json={"reason": reason},
        headers={"Authorization": f"Bearer {token}"},
    )


async def test_a_delivered_referral_is_withdrawn_from_every_inbox_and_the_log_links_it(site: Site) -> None:
    agencies = Agencies(site)
    try:
        notification = str((await post_accepted(site.gateway)).json()["notification_id"])
        await agencies.run_until(lambda: all(len(agencies.inboxes[a].rows()) == 1 for a in CONSUMERS))
        await wait_until(lambda: _logged(site, notification, "delivered", len(CONSUMERS)), timeout=60)
        held = {a: _longest_value(agencies.inboxes[a].rows()[0]["payload"]) for a in CONSUMERS}
        assert all(_on_disk(agencies.paths[a], held[a]) for a in CONSUMERS), "the payload is in each inbox file"

        # Another agency may not withdraw it; the answer is as if it did not exist.
        stranger = site.gateway.token("health-visiting-fenmere")
        refused = await site.gateway.client.post(
            f"/v1/notifications/{notification}/withdrawal",
            json={"reason": "malicious"},
            headers={"Authorization": f"Bearer {stranger}"},
        )
        assert refused.status_code in (403, 404), refused.text
        bad = await _withdraw(site, notification, "because")
        assert bad.status_code == 422 and "reason" in bad.text

        # A checkpoint now covers the deliveries' decisions, and the notices will carry it.
        await asyncio.to_thread(site.gateway.decision_log.refresh_checkpoint)
        covering = audit.Checkpoint.parse(site.gateway.decision_log.checkpoint_note or "", verify_with=None)
        answer = await _withdraw(site, notification, "malicious")
        assert answer.status_code == 200, answer.text
        recalled = {d["agency_id"]: (d["was"], d["now"]) for d in answer.json()["deliveries"]}
        assert {a: recalled[a] for a in CONSUMERS} == {a: ("published", "notice sent") for a in CONSUMERS}
        again = await _withdraw(site, notification, "malicious")
        assert again.status_code == 409 and again.json()["error"] == "already_withdrawn"

        await agencies.run_until(lambda: all(agencies.consumers[a].withdrawn == 1 for a in CONSUMERS))
        await wait_until(lambda: _logged(site, notification, "withdrawal_confirmed", len(CONSUMERS)), timeout=60)
        # Each agency's witness checked the notice's checkpoint, kept it and cosigned it.
        kept = {a: agencies.ledgers[a].kept_checkpoint(covering.origin) for a in CONSUMERS}
        assert {a: k.tree_size if k else None for a, k in kept.items()} == dict.fromkeys(CONSUMERS, covering.size)
    finally:
        agencies.close()

    for agency in CONSUMERS:
        assert agencies.inboxes[agency].rows() == [], f"{agency} still holds the withdrawn referral"
        (tombstone,) = agencies.inboxes[agency].withdrawn()
        assert (tombstone["notification_id"], tombstone["kind"], tombstone["reason"]) == (
            notification,
            "withdrawal",
            "malicious",
        )
        # secure_delete: the payload's bytes are gone from the file (and its WAL), not only from the table.
        assert not _on_disk(agencies.paths[agency], held[agency]), f"{agency}'s inbox file still holds the payload"
    chains = _kinds(site, notification)
    for delivery_id, kinds in chains.items():
        if "published" not in kinds:
            continue
        assert kinds[:3] == ["decided", "published", "delivered"], kinds
        assert kinds[3:] == ["withdrawn", "notice_published", "withdrawal_confirmed"], (delivery_id, kinds)
    with Session(site.gateway.engine) as session:
        stored = session.exec(select(OutboxRow).where(col(OutboxRow.notification_id) == notification)).all()
        withdrawn_rows = [r for r in stored if "notice_for" not in r.log_context]
        assert withdrawn_rows and all(r.envelope == b"" for r in withdrawn_rows), "the broker keeps no copy"
        notice_rows = [r for r in stored if r.headers["content-type"] == NOTICE_CONTENT_TYPE]
        notices = [Notice.from_bytes(r.envelope) for r in notice_rows]
        for row in notice_rows:  # the headers the relay sent, as the AsyncAPI document has them
            assert NoticeHeaders.model_validate(row.headers).sgb_checkpoint == covering.note
        assert {n.recipient_agency for n in notices} >= set(CONSUMERS)
        report = audit.verify_log(session, site.gateway.keys.signing_key.public_key())
    assert report.signatures_checked and report.size >= sum(len(kinds) for kinds in chains.values())


def _longest_value(payload: dict[str, Any]) -> str:
    texts = [v for v in payload.values() if isinstance(v, str)]
    return max(texts, key=len)


def _on_disk(path: Path, text: str) -> bool:
    needle = text.encode()
    files = [path, path.with_name(path.name + "-wal")]
    return any(needle in f.read_bytes() for f in files if f.exists())


async def test_a_correction_replaces_the_referral_in_each_inbox(site: Site) -> None:
    agencies = Agencies(site)
    try:
        first = str((await post_accepted(site.gateway)).json()["notification_id"])
        await agencies.run_until(lambda: all(len(agencies.inboxes[a].rows()) == 1 for a in CONSUMERS))
        corrected = school_referral()
        token = site.gateway.token(SCHOOL)
        answer = await site.gateway.client.post(
            f"/v1/notifications/{first}/correction", json=corrected, headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 202, answer.text
        second = str(answer.json()["replacement"]["notification_id"])
        assert answer.json()["corrected"]["superseded_by"] == second

        def replaced() -> bool:
            return all([r["notification_id"] for r in agencies.inboxes[a].rows()] == [second] for a in CONSUMERS)

        await agencies.run_until(replaced)
        await wait_until(lambda: _logged(site, first, "withdrawal_confirmed", len(CONSUMERS)), timeout=60)
    finally:
        agencies.close()
    tombstone = agencies.inboxes[CSC].withdrawn()[0]
    assert (tombstone["kind"], tombstone["superseded_by"]) == ("correction", second)
    assert any("corrected" in kinds for kinds in _kinds(site, first).values())
    # The sender's page of the first says each recipient removed it, not that it was "withdrawn": it was replaced.
    with Session(site.gateway.engine) as session:
        decided = min(
            e.seq
            for e in session.exec(select(audit.Entry).where(col(audit.Entry.notification_id) == first))
            if e.kind == audit.EventKind.DECIDED
        )
    sender = Person(site.gateway, SCHOOL, "dsl", "dsl-history-01")
    await sender.sign_in()
    try:
        history = (await sender.page("GET", f"/ui/decisions/{decided}")).text
    finally:
        await sender.close()
    assert "<td>removal confirmed by the recipient</td>" in history and "withdrawal confirmed" not in history


async def test_a_shredded_case_is_erased_from_each_inbox(site: Site) -> None:
    agencies = Agencies(site)
    child = {"subject_ref": "pupil-0815", "role_in_case": "child", "age_years": 9, "nhs_number": CHILD_NHS}
    other = {"subject_ref": "pupil-0816", "role_in_case": "child", "age_years": 8}
    try:
        shredded = await _post_about(site, child)
        kept = await _post_about(site, other)
        await agencies.run_until(lambda: all(len(agencies.inboxes[a].rows()) == 2 for a in CONSUMERS))
        lead = site.gateway.token(CSC, "ig_lead", subject="ig-lead-office-01")
        answer = await site.gateway.client.post(
            "/v1/case-shredding",
            json={"nhs_number": CHILD_NHS, "reason_code": "malicious", "decision_ref": "CG/2026/07"},
            headers={"Authorization": f"Bearer {lead}"},
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["published_deliveries"] == len(CONSUMERS)
        await agencies.run_until(lambda: all(agencies.consumers[a].withdrawn == 1 for a in CONSUMERS))
        await wait_until(lambda: _logged(site, shredded, "erasure_confirmed", len(CONSUMERS)), timeout=60)
    finally:
        agencies.close()
    for agency in CONSUMERS:
        assert [r["notification_id"] for r in agencies.inboxes[agency].rows()] == [kept]
        (tombstone,) = agencies.inboxes[agency].withdrawn()
        assert (tombstone["notification_id"], tombstone["kind"], tombstone["reason"]) == (
            shredded,
            "erasure",
            "malicious",
        )
    for kinds in _kinds(site, shredded).values():
        if "published" in kinds:
            assert kinds[-3:] == ["shredded", "notice_published", "erasure_confirmed"], kinds
    with Session(site.gateway.engine) as session:
        audit.verify_log(session, site.gateway.keys.signing_key.public_key())


# A valid NHS number (modulus 11), invented: the 400 000 0xxx range is for testing.
CHILD_NHS = "4000000055"


async def _post_about(site: Site, subject: dict[str, Any]) -> str:
    body = school_referral(
        subjects=[subject],
        consent=[
            {
                "subject_ref": subject["subject_ref"],
                "giver": "parent_pr",
                "status": "not_sought",
                "not_sought_reason": "risk_significant_harm",
            }
        ],
    )
    response = await site.gateway.post(body)
    assert response.status_code == 202, response.text
    return str(response.json()["notification_id"])
