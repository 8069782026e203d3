"""One notification's life in the gateway: validate, decide, seal, record, then release.

The order is the guarantee. Nothing is written until OPA has decided; every decision (share or
not) is appended to the log in the same transaction as the outbox and pending rows; the relay is
woken only after that commit, so nothing reaches an inbox that the log does not already hold.
"""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session

import audit
from broker.admission import idempotency
from broker.admission.tokens import Caller
from broker.db.tables import OutboxRow
from broker.delivery import clocks, held
from broker.errors import Forbidden, InvalidNotification, LogUnavailable, PolicyUnavailable
from broker.runtime import Runtime
from broker.sharing import contract
from schemas.envelope import EnvelopeHeader, seal
from schemas.topics import inbox_topic

SHARE_OUTCOMES = frozenset({"share", "share_minimised", "share_urgent_review_after"})
HOLD_OUTCOMES = frozenset({"hold_for_authorisation", "needs_advice"})


@dataclass(frozen=True)
class Receipt:
    """What the gateway answers: 202 for a new notification, the first answer again for a retry."""

    status_code: int
    body: dict[str, Any]


@dataclass(frozen=True)
class _Sealed:
    """A sealed delivery's outbox fields. Its `OutboxRow` (an ORM object, costly to build) is made
    once, inside the log transaction, when its log context is known."""

    delivery_id: str
    notification_id: str
    recipient_agency: str
    topic: str
    key: str
    envelope: bytes
    headers: dict[str, str]
    created_at: datetime

    def row(self, log_context: dict[str, object]) -> OutboxRow:
        return OutboxRow(
            delivery_id=self.delivery_id, notification_id=self.notification_id,
            recipient_agency=self.recipient_agency, topic=self.topic, key=self.key, envelope=self.envelope,
            headers=self.headers, log_context=log_context, created_at=self.created_at,
        )


@dataclass
class _Planned:
    """One recipient's decision with, if it is shared or held, its sealed delivery."""

    decision: contract.RecipientDecision
    delivery_id: str
    sealed: _Sealed | None
    due: list[dict[str, Any]]


class SharingService:
    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime

    async def submit(self, *, caller: Caller, body: bytes, idempotency_key: str | None) -> Receipt:
        digest = hashlib.sha256(body).hexdigest()
        if idempotency_key is not None:
            earlier = await idempotency.find(self._rt.reader, caller.agency_id, idempotency_key, digest)
            if earlier is not None:
                return Receipt(200, earlier)
        notification = _parse(body)
        if contract.sender_agency(notification) != caller.agency_id:
            raise Forbidden("an agency may only send notifications as itself")
        decision = await self._decide(notification)
        now = datetime.now(UTC)
        planned = [self._plan(notification, d, now) for d in decision.recipients]
        response = self._response(notification, planned)
        try:
            await self._record(notification, decision, planned, caller, idempotency_key, digest, response, now)
        except IntegrityError:
            # A concurrent request with the same Idempotency-Key committed first: answer as it did.
            earlier = await idempotency.find(self._rt.reader, caller.agency_id, idempotency_key or "", digest)
            if earlier is None:
                raise LogUnavailable("the decision could not be recorded") from None
            return Receipt(200, earlier)
        self._rt.wake_relay()
        return Receipt(202, response)

    async def _decide(self, notification: contract.Notification) -> contract.Decision:
        decision = await self._ask(notification)
        if decision.registry_revision != self._rt.registry_revision:
            # OPA restarted or holds another registry: reload ours and ask again, once.
            await self._rt.load_registry_into_policy()
            decision = await self._ask(notification)
            if decision.registry_revision != self._rt.registry_revision:
                raise PolicyUnavailable("the policy engine is not using this gateway's agency registry")
        return decision

    async def _ask(self, notification: contract.Notification) -> contract.Decision:
        policy_input = contract.policy_input(notification, self._rt.settings.partnership_id)
        metrics = self._rt.metrics
        with metrics.opa_latency.time():
            try:
                raw = await self._rt.policy.decide(policy_input)
            except PolicyUnavailable:
                metrics.opa_failures.inc()
                raise
        try:
            return contract.decision(raw.result, raw.decision_id, notification)
        except ValidationError as exc:
            metrics.opa_failures.inc()
            raise PolicyUnavailable("the policy engine's answer did not match the decision contract") from exc

    def _plan(self, notification: contract.Notification, decision: contract.RecipientDecision,
              now: datetime) -> _Planned:
        delivery_id = str(uuid.uuid4())
        due = [{**ob, "due_at": self._due_at(now, ob)} for ob in decision.obligations]
        sealed = None
        if decision.outcome in SHARE_OUTCOMES | HOLD_OUTCOMES:
            sealed = self._seal(notification, decision, delivery_id, now)
        return _Planned(decision, delivery_id, sealed, due)

    def _due_at(self, now: datetime, obligation: dict[str, Any]) -> str | None:
        if obligation["amount"] is None:
            return None  # "as soon as possible": no fixed limit in the source documents
        return self._rt.calendar.due(now, obligation["amount"], obligation["unit"]).isoformat()

    def _seal(self, notification: contract.Notification, decision: contract.RecipientDecision,
              delivery_id: str, now: datetime) -> _Sealed | None:
        agency = self._rt.registry.agency(decision.agency_id)
        if agency is None:
            return None
        key = agency.current_encryption_key
        header = EnvelopeHeader(
            delivery_id=delivery_id, notification_id=contract.notification_id(notification),
            sender_agency=contract.sender_agency(notification), recipient_agency=agency.id,
            message_type=contract.message_type(notification),
            schema_version=contract.schema_version(notification), recipient_key_id=key.kid,
        )
        envelope = seal(
            contract.project(notification, decision.allowed_fields), header=header,
            recipient_public_key=key.x25519(), signing_key=self._rt.keys.signing_key,
            signing_key_id=self._rt.keys.signing_key_id, sealed_at=now,
        )
        routing = audit.pseudonymise(self._rt.keys.kafka_key_secret, contract.routing_subject(notification))
        return _Sealed(
            delivery_id=delivery_id, notification_id=header.notification_id, recipient_agency=agency.id,
            topic=inbox_topic(agency.id), key=routing, envelope=envelope.to_bytes(),
            headers=_cloudevents(header, self._rt.settings.partnership_id, now, self._rt.checkpoint_note),
            created_at=now,
        )

    async def _record(
        self, notification: contract.Notification, decision: contract.Decision, planned: list[_Planned],
        caller: Caller, idempotency_key: str | None, digest: str, response: dict[str, Any], now: datetime,
    ) -> None:
        drafts = [self._draft(notification, decision, p) for p in planned]
        expires = now + timedelta(hours=self._rt.settings.hold_expiry_hours)

        def extra_rows(session: Session, entries: list[audit.Entry]) -> None:
            # May run twice (the batcher retries a failed batch per request): only ever add rows.
            for plan, entry in zip(planned, entries, strict=True):
                if plan.sealed is None:
                    continue
                # Purpose and obligations travel with the row: a held delivery's reviewers see the
                # purpose, and its clocks start when it is released.
                context = {**_log_context(entry), "purpose": contract.purpose(notification),
                           "obligations": plan.due}
                row = plan.sealed.row(context)
                if plan.decision.outcome in HOLD_OUTCOMES:
                    held.hold(session, row, outcome=plan.decision.outcome, now=now,
                              expires_at=expires)
                else:
                    session.add(row)
                    clocks.start_clocks(session, delivery_id=plan.delivery_id, notification_id=row.notification_id,
                                        context=context, obligations=plan.due)
            reply_to = contract.in_reply_to(notification)
            if reply_to is not None:
                clocks.stop_on_reply(
                    session, in_reply_to=reply_to, replying_agency=contract.sender_agency(notification),
                    message_type=contract.message_type(notification), now=now,
                )
            if idempotency_key is not None:
                idempotency.remember(session, caller.agency_id, idempotency_key, digest,
                                     contract.notification_id(notification), response, now)

        try:
            await self._rt.batcher.submit(drafts, extra_rows)
        except IntegrityError:
            raise
        except (audit.AuditError, SQLAlchemyError, OSError) as exc:
            raise LogUnavailable("the decision log could not be written; nothing was shared") from exc
        for plan in planned:
            self._rt.metrics.decisions.labels(plan.decision.outcome, contract.message_type(notification)).inc()

    def _draft(self, notification: contract.Notification, decision: contract.Decision,
               plan: _Planned) -> audit.EntryDraft:
        d = plan.decision
        released = d.allowed_fields if plan.sealed is not None else ()
        digest = None
        if plan.sealed is not None:
            digest = hashlib.sha256(plan.sealed.envelope).hexdigest()
        secret = self._rt.keys.log_pseudonym_secret
        return audit.EntryDraft(
            notification_id=contract.notification_id(notification), delivery_id=plan.delivery_id,
            kind=audit.EventKind.DECIDED, outcome=d.outcome,
            sender_agency=contract.sender_agency(notification), sender_role=contract.sender_role(notification),
            recipient_agency=d.agency_id, message_type=contract.message_type(notification),
            reasons=tuple(_log_reason(r.rule, r.message) for r in d.reasons),
            lawful_basis=d.lawful_basis, consent_state=contract.consent_state(notification),
            fields_released=tuple(released), projection_digest=digest,
            policy_revision=decision.revision, decision_id=decision.decision_id,
            subjects=tuple(audit.pseudonymise(secret, ref) for ref in contract.subject_refs(notification)),
        )

    def _response(self, notification: contract.Notification, planned: list[_Planned]) -> dict[str, Any]:
        # Field names, rules and deadlines only: a receipt never repeats a payload value.
        return {
            "notification_id": contract.notification_id(notification),
            "checkpoint": self._rt.checkpoint_note,
            "recipients": [
                {
                    "delivery_id": p.delivery_id, "agency_id": p.decision.agency_id, "role": p.decision.role,
                    "outcome": p.decision.outcome,
                    "reasons": [{"rule": r.rule, "message": r.message} for r in p.decision.reasons],
                    "lawful_basis": p.decision.lawful_basis,
                    "allowed_fields": list(p.decision.allowed_fields) if p.sealed is not None else [],
                    "obligations": p.due,
                    "deadline": min((o["due_at"] for o in p.due if o["due_at"]), default=None),
                }
                for p in planned
            ],
        }


def _parse(body: bytes) -> contract.Notification:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidNotification([{"loc": [], "msg": "the body is not valid JSON", "type": "json"}]) from exc
    except RecursionError as exc:  # a small body can still nest thousands of levels deep
        raise InvalidNotification([{"loc": [], "msg": "the body is nested too deeply", "type": "json"}]) from exc
    try:
        return contract.parse(data)
    except ValidationError as exc:
        raise InvalidNotification([_safe_error(e) for e in exc.errors()]) from exc


def _safe_error(error: ErrorDetails) -> dict[str, Any]:
    """The error's path, message and type, with any submitted value cut out of the message.

    pydantic quotes some inputs in its messages (an unknown `message_type` tag, for one); a refusal
    never repeats what was sent.
    """
    msg = error["msg"]
    ctx = error.get("ctx") or {}
    for value in (error.get("input"), ctx.get("tag")):
        if isinstance(value, str) and value:
            msg = msg.replace(f"'{value}'", "'<submitted value>'")
    return {"loc": list(error["loc"]), "msg": msg, "type": error["type"]}


@functools.lru_cache(maxsize=4096)
def _log_reason(rule: str, message: str) -> audit.Reason:
    """The log's (frozen, validated) Reason for a rule and message: the same few hundred pairs recur
    in every decision, so each is validated once and then shared."""
    return audit.Reason(rule=rule, message=message)


def _log_context(entry: audit.Entry) -> dict[str, object]:
    return {
        "decided_seq": entry.seq, "outcome": entry.outcome, "sender_agency": entry.sender_agency,
        "sender_role": entry.sender_role, "recipient_agency": entry.recipient_agency,
        "message_type": entry.message_type,
    }


def _cloudevents(header: EnvelopeHeader, partnership_id: str, now: datetime,
                 checkpoint: str | None) -> dict[str, str]:
    # The latest signed checkpoint rides with every delivery, so each agency keeps a copy of the
    # log's state and a rewritten history would contradict what they hold.
    extra = {"sgb_checkpoint": checkpoint} if checkpoint else {}
    return {
        **extra,
        "ce_specversion": "1.0",
        "ce_id": header.delivery_id,
        "ce_source": f"/sgb/{partnership_id}",
        "ce_type": f"uk.safeguarding.{header.message_type}.v{header.schema_version}",
        "ce_time": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "content-type": "application/vnd.sgb.envelope+json",
        "sgb_notification_id": header.notification_id,
    }
