"""The composition root: every collaborator the gateway holds for its lifetime, opened and closed here.

Each is put on `app.state` under its own name and reaches routes only through the `Annotated`
dependencies in `broker.api.deps`; nothing else reads `app.state`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

from fastapi import FastAPI

import audit
from broker import heap
from broker.admission.capacity import Capacity
from broker.admission.replay import TokenBurner
from broker.db.log import DecisionLog
from broker.db.verification import keep_verifying
from broker.delivery import case_keys
from broker.delivery.background import build_ingester, build_relay, delivery_tasks
from broker.delivery.calendar import DueUnit, WorkingCalendar
from broker.delivery.outbox import Outbox
from broker.metrics import Metrics
from broker.partnership.changes import verify_access_changes
from broker.partnership.keys import BrokerKeys, load_broker_keys
from broker.partnership.registry import Registry, load_registry
from broker.partnership.watch import RegistryWatch
from broker.review import access_log
from broker.settings import BrokerSettings
from broker.sharing.decide import Decider
from broker.sharing.policy import PolicyEngine
from broker.sharing.record import Recorder
from broker.sharing.rules import RuleCatalogue
from broker.sharing.seal import Sealer

log = logging.getLogger("broker.lifespan")


@contextlib.asynccontextmanager
async def gateway_lifespan(app: FastAPI, settings: BrokerSettings) -> AsyncIterator[None]:
    """Open the log, the OPA client and (optionally) the delivery tasks; close them after."""
    keys = load_broker_keys(settings.keys_dir)
    registry = load_registry(settings.registry_file, partnership_id=settings.partnership_id)
    metrics = Metrics()
    policy = _policy_engine(settings)
    signer = audit.Signer(settings.log_origin, keys.signing_key)
    async with (
        policy,
        DecisionLog.opened(
            settings.database_url,
            signer=signer,
            migration_url=settings.migration_database_url,
            wal_checkpoints=settings.wal_checkpoint_seconds > 0,
            prepare=case_keys.prefetch,
            # Checkpoints signed before a key rotation verify with the retired keys the history keeps.
            verify_keys=[key for _, key in keys.verify_keys],
            # A log that no longer extends the checkpoint filed there refuses the start (AnchorRefused).
            anchor_file=settings.anchor_file,
            # The gauge drops the moment the signer finds the log tampered with, not at the next full pass.
            on_alarm=lambda: metrics.record_verification(False),
        ) as decision_log,
    ):
        await _check_registry(decision_log, registry, keys, settings)
        decider = Decider(policy=policy, registry=registry, partnership_id=settings.partnership_id, metrics=metrics)
        state = app.state
        state.settings, state.registry, state.keys, state.metrics = settings, registry, keys, metrics
        state.decision_log, state.policy, state.decider = decision_log, policy, decider
        state.outbox = Outbox(engine=decision_log.engine)
        state.rules = RuleCatalogue(policy=policy)
        state.calendar = WorkingCalendar(
            unclear_days_as=DueUnit(settings.unclear_days_unit), school_holidays=settings.school_holidays()
        )
        state.sealer = Sealer(
            registry=registry,
            keys=keys,
            partnership_id=settings.partnership_id,
            namespace=settings.topic_namespace,
            decision_log=decision_log,
        )
        state.recorder = Recorder(
            decision_log=decision_log,
            log_pseudonym_secret=keys.log_pseudonym_secret,
            hold_expiry=timedelta(hours=settings.hold_expiry_hours),
            metrics=metrics,
        )
        state.token_burner = TokenBurner(decision_log.engine)
        state.capacity = Capacity(settings.max_in_flight)
        # Who granted what, and a registry revision the log has not seen, before any request is served.
        await access_log.record_registry(
            decision_log,
            registry,
            accept_revision=settings.registry_accept_revision,
            signing_key_id=keys.signing_key_id,
        )
        await _load_registry(decider)
        state.registry_watch = _watch(app, settings, keys, registry)
        heap.settle()
        async with _background(state.outbox, decision_log, settings, metrics, state.registry_watch, decider):
            yield


def _policy_engine(settings: BrokerSettings) -> PolicyEngine:
    # The token OPA's API authorisation admits the gateway by (deploy/opa/authz.rego), when set.
    return PolicyEngine(
        settings.opa_url,
        timeout=settings.opa_timeout_seconds,
        entrypoint=settings.opa_entrypoint,
        token=settings.opa_token,
    )


async def _check_registry(
    decision_log: DecisionLog, registry: Registry, keys: BrokerKeys, settings: BrokerSettings
) -> None:
    """Agencies, keys and grants count only if they came from changes signed with the broker's key.

    The log is asked first: a copy cut back to look older than the changes it recorded is named as
    that, not sent to `adopt` as a registry from before the agencies were signed. A change signed with
    a retired broker key is `access_log.record_registry`'s to refuse, under the lock it logs in.
    """
    await asyncio.to_thread(
        access_log.refuse_if_behind, decision_log.engine, registry, accept_revision=settings.registry_accept_revision
    )
    verify_access_changes(registry, keys.verify_keys)


def _watch(app: FastAPI, settings: BrokerSettings, keys: BrokerKeys, registry: Registry) -> RegistryWatch:
    """Who takes a new registry revision, in order: the log first (a change is on record before it
    counts), then sealing (before OPA, so the policy never shares with an agency the sealer does not
    know yet), then OPA's data, and last the requests' registry."""
    state = app.state

    async def serve(new: Registry) -> None:
        state.registry = new

    async def record(new: Registry) -> None:
        await access_log.record_registry(state.decision_log, new, accept_revision=settings.registry_accept_revision)

    return RegistryWatch(
        path=settings.registry_file,
        current=registry,
        verify_keys=keys.verify_keys,
        listeners=(record, state.sealer.use, state.decider.use, serve),
    )


async def _load_registry(decider: Decider) -> None:
    try:
        await decider.load_registry()
    except Exception as exc:  # OPA may start after us; readiness reloads it, decisions fail closed
        log.warning("registry not loaded into OPA yet: %s", exc)


@contextlib.asynccontextmanager
async def _background(
    outbox: Outbox,
    decision_log: DecisionLog,
    settings: BrokerSettings,
    metrics: Metrics,
    watch: RegistryWatch,
    decider: Decider,
) -> AsyncIterator[None]:
    stop = asyncio.Event()
    checkpoints = decision_log.keep_checkpoints(
        stop,
        every=settings.checkpoint_seconds,
        carry_every=settings.checkpoint_carry_seconds,
        on_failure=metrics.checkpoint_failures.inc,
    )
    tasks = [asyncio.create_task(checkpoints, name="checkpoints")]
    if settings.wal_checkpoint_seconds > 0:
        wal = decision_log.keep_wal_checkpointed(stop, every=settings.wal_checkpoint_seconds)
        tasks.append(asyncio.create_task(wal, name="wal-checkpoints"))
    if settings.log_verify_seconds > 0:
        verifying = keep_verifying(
            decision_log, metrics, stop, every=settings.log_verify_seconds, registry=lambda: watch.current
        )
        tasks.append(asyncio.create_task(verifying, name="log-verification"))
    if settings.policy_digest_seconds > 0:
        digests = decider.keep_bundle_current(stop, every=settings.policy_digest_seconds)
        tasks.append(asyncio.create_task(digests, name="policy-digest"))
    if settings.run_relay_in_gateway:
        outbox.relay = build_relay(
            settings=settings, engine=decision_log.engine, metrics=metrics, read_engine=decision_log.reader
        )
        ingester = build_ingester(settings=settings, engine=decision_log.engine, registry=watch.current)
        watch.listen(ingester.use)
        tasks += delivery_tasks(
            relay=outbox.relay,
            ingester=ingester,
            engine=decision_log.engine,
            settings=settings,
            metrics=metrics,
            stop=stop,
        )
    if settings.registry_poll_seconds > 0:
        watching = watch.keep_watching(stop, every=settings.registry_poll_seconds)
        tasks.append(asyncio.create_task(watching, name="registry-watch"))
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
