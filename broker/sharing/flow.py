"""One notification's life in the gateway: parse, decide, plan (and seal), record, then release.

The order is the guarantee. Nothing is written until OPA has decided; every decision (share or
not) is appended to the log in the same transaction as the outbox and pending rows; the relay is
woken only after that commit, so nothing reaches an inbox that the log does not already hold.
"""

from __future__ import annotations

import asyncio
import functools
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pydantic_core
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from audit.replay import notification_decided
from broker.admission import idempotency
from broker.admission.authorisation import AuthorisationCheck, Authoriser
from broker.admission.replay import OwedBurn
from broker.admission.tokens import Caller
from broker.delivery.calendar import WorkingCalendar
from broker.delivery.outbox import Outbox
from broker.errors import InvalidNotification, LogUnavailable, NotificationExists
from broker.partnership.registry import Registry
from broker.partnership.roles import a_role
from broker.review import access
from broker.sharing.decide import Decider
from broker.sharing.parse import parse
from broker.sharing.plan import Planned, plan
from broker.sharing.record import FirstAnswer, Recorder
from broker.sharing.seal import Sealer
from schemas.agencies import role_names
from schemas.api import NotificationReceipt, ObligationDue, RecipientReceipt, RuleReason
from schemas.notifications import Notification


@dataclass(frozen=True)
class Receipt:
    """What the gateway answers: 202 for a new notification, the first answer again for a retry.

    `content` is the answer's bytes, encoded once: the HTTP answer and the Idempotency-Key's record
    are the same bytes, so a retry gets exactly what the first request got.
    """

    status_code: int
    body: dict[str, Any]
    content: bytes

    @classmethod
    def new(cls, body: dict[str, Any]) -> Receipt:
        return cls(202, body, _encoded(body))

    @classmethod
    def again(cls, content: bytes) -> Receipt:
        """The first answer, for a retry with the same Idempotency-Key; of a correction, its receipt."""
        body = json.loads(content)
        if "replacement" in body:
            return cls(200, body["replacement"], _encoded(body["replacement"]))
        return cls(200, body, content)


def _encoded(body: dict[str, Any]) -> bytes:
    """The receipt's bytes: what Starlette's JSONResponse writes (no whitespace, UTF-8 as itself), so a
    stored first answer reads the same. pydantic-core's encoder gives those bytes (a test compares
    them with `json.dumps`) for a fifth of its CPU on a 7-10 KB receipt (17 against 91 µs alone)."""
    return pydantic_core.to_json(body)


async def submit(
    *,
    caller: Caller,
    body: bytes,
    idempotency_key: str | None,
    reader: Engine,
    decider: Decider,
    sealer: Sealer,
    calendar: WorkingCalendar,
    recorder: Recorder,
    outbox: Outbox,
    checkpoint: str | None,
    registry: Registry,
    authorisation: AuthorisationCheck | None = None,
    burn: OwedBurn | None = None,
    correcting: str | None = None,
) -> Receipt:
    """`authorisation`: the `Authorisation-Token` that came with the body, to be checked against it.
    `burn`: the sender token's jti, committed with the decisions when they are recorded.
    `correcting`: the notification this one corrects; its Idempotency-Key is bound to it with the
    decision, so a correction cut short before its recall is retried on that notification alone."""
    digest = idempotency.digest(body, correcting=correcting)
    if idempotency_key is not None:
        earlier = await idempotency.find(reader, caller.agency_id, idempotency_key, digest)
        if earlier is not None:
            return Receipt.again(earlier)
    notification = parse(body)
    check_sender(caller, notification, registry)
    check_recipient_roles(notification, registry)
    authoriser: Authoriser | None = None
    if authorisation is not None:
        authoriser = authorisation.verify(body=body, notification=notification, sender=caller)
    decision = await decider.decide(notification, authorisation_verified=authoriser is not None)
    now = datetime.now(UTC)
    planned = plan(notification, decision, sealer=sealer, calendar=calendar, now=now)
    receipt = Receipt.new(receipt_body(notification, planned, checkpoint=checkpoint))
    first = FirstAnswer(caller.agency_id, idempotency_key, digest, receipt.content) if idempotency_key else None
    try:
        await recorder.record(
            notification,
            decision,
            planned,
            sender=caller,
            first_answer=first,
            now=now,
            authoriser=authoriser,
            burn=burn,
        )
    except IntegrityError as exc:
        return await _answer_refused_record(reader, caller, idempotency_key, digest, notification, exc)
    outbox.wake()
    return receipt


async def _answer_refused_record(
    reader: Engine,
    caller: Caller,
    idempotency_key: str | None,
    digest: str,
    notification: Notification,
    exc: IntegrityError,
) -> Receipt:
    """The log refused to record the decisions (`exc`): the first answer if a concurrent request with
    the same Idempotency-Key committed first, else 409 if the notification_id was already decided."""
    earlier = await idempotency.find(reader, caller.agency_id, idempotency_key or "", digest)
    if earlier is not None:
        return Receipt.again(earlier)
    if await asyncio.to_thread(notification_decided, reader, str(notification.notification_id)):
        # The log's unique index refused it (this check alone would race a concurrent twin): a
        # withdrawal, a correction and every review find a notification by its id.
        raise NotificationExists(
            f"notification_id {notification.notification_id} was already sent and decided: a retry "
            "carries the first request's Idempotency-Key and gets its answer; a new notification "
            "needs a new notification_id"
        ) from exc
    raise LogUnavailable("the decision could not be recorded") from None


def check_sender(caller: Caller, notification: Notification, registry: Registry) -> None:
    """The sender is the token: a body naming another agency, another person than the token's, or a
    role the token does not hold, is refused.

    The answer names the field, as any other invalid field is named (422).
    """
    sender = notification.sender
    if sender.agency_id != caller.agency_id:
        raise InvalidNotification(
            [
                {
                    "loc": ["sender", "agency_id"],
                    "type": "sender_mismatch",
                    "msg": f"must be the agency of the token, {caller.agency_id}",
                }
            ]
        )
    # The person a notification names as acting may read and withdraw it (broker.review.scope): a
    # person's token names themselves, never a colleague. An agency system names whom it posts for.
    if caller.user_ref is not None and sender.user_ref != caller.user_ref:
        said = f"must be the person of the token, {caller.user_ref}: a person's token sends only as themselves"
        raise InvalidNotification([{"loc": ["sender", "user_ref"], "type": "sender_mismatch", "msg": said}])
    allowed = access.sender_roles(caller.role, registry.granted_roles(caller.agency_id), agency_type=caller.agency_type)
    if sender.role.value not in allowed:
        # The agency's type is named: the roles it has are half of what decides (a police token, never `gp`).
        who = f"{a_role(caller.role)} token of {caller.agency_id}, a {caller.agency_type} agency,"
        may = ", ".join(sorted(allowed))
        said = (
            f"{who} may send as: {may}" if may else f"{who} may not send: it has none of the roles this token sends as"
        )
        raise InvalidNotification([{"loc": ["sender", "role"], "type": "sender_mismatch", "msg": said}])


def check_recipient_roles(notification: Notification, registry: Registry) -> None:
    """Each recipient is a role queue its agency has (`schemas.agencies`): a role its agency's type has
    not (a front door's LADO officer) is refused by name, with the roles it has, as a bad field is (422).

    Deliveries go to role queues, to those who need to know (Caldicott 4): a queue the agency does not
    have is no one's to read. An agency not registered has no type here; the policy refuses it (SYS-AGENCY).
    """
    errors: list[dict[str, object]] = []
    for i, recipient in enumerate(notification.recipients):
        agency = registry.agency(recipient.agency_id)
        if agency is None:
            continue
        roles = role_names(agency.type)
        if recipient.role.value not in roles:
            # The role sent is not repeated (a refusal never is); the registered agency and its roles are.
            has = ", ".join(sorted(roles)) or "no role a notification may be addressed to"
            said = f"recipients[{i}].role must be a role of {agency.id}, a {agency.type} agency: {has}"
            errors.append({"loc": ["recipients", i, "role"], "type": "role_not_at_agency", "msg": said})
    if errors:
        raise InvalidNotification(errors)


def receipt_body(notification: Notification, planned: list[Planned], *, checkpoint: str | None) -> dict[str, Any]:
    """The receipt, built as the published contract (`schemas.api.NotificationReceipt`) and kept as JSON.

    Field names, rules and deadlines only: a receipt never repeats a payload value.
    """
    receipt = NotificationReceipt(
        notification_id=notification.notification_id,
        checkpoint=checkpoint,
        recipients=[_recipient(p) for p in planned],
    )
    return receipt.model_dump(mode="json")


def _recipient(p: Planned) -> RecipientReceipt:
    d = p.decision
    return RecipientReceipt(
        delivery_id=p.delivery_id,
        agency_id=d.agency_id,
        role=d.role,
        outcome=d.outcome,
        # What set the outcome first; `reasons` then lists every finding, deciding ones first.
        decided_by=[_rule_reason(r.rule, r.message) for r in d.decided_by],
        reasons=[_rule_reason(r.rule, r.message) for r in d.reasons],
        blocking_reasons=list(p.marked[1]),
        lawful_basis=d.lawful_basis,
        allowed_fields=list(d.allowed_fields) if p.sealed is not None else [],
        # `started_at` is the clocks' (what a payload moment started), not part of the receipt.
        obligations=[ObligationDue.model_validate({k: v for k, v in o.items() if k != "started_at"}) for o in p.due],
        deadline=min((o["due_at"] for o in p.due if o["due_at"]), default=None),
    )


@functools.lru_cache(maxsize=4096)
def _rule_reason(rule: str, message: str) -> RuleReason:
    """A receipt's (frozen, validated) reason: the same few hundred pairs recur in every answer, so each
    is validated once and then shared; one that fails validation is not cached and fails every time."""
    return RuleReason(rule=rule, message=message)
