"""The consumer's Kafka session kept going, and what went wrong with it said in an operator's words.

aiokafka answers "Unable to bootstrap" whether Kafka is down or refused the agency's password: the
refusal itself (`SaslAuthenticationFailed`) only reaches aiokafka's own log. The consumer listens to
that log while a session runs (`logged_errors`), so `diagnose` can tell the two apart and name the
setting to check: the bootstrap servers, the principal's credentials, the group's partnership id or
the topics' namespace. A process runs one agency's consumer, so what its Kafka clients log is its own.

A refusal is logged as an error, not as a wait, but still tried again (from `initial` seconds,
doubling to `most`): the operator may put the grant or the password right on Kafka's side, and the
gateway's own sessions never give up either (`transport.supervisor`, whose back-off this reuses; its
`supervise` logs an error's type alone, hence this loop of the consumer's own). Kafka's errors name
hosts, groups and topics, never a record's content, so their words are logged whole, unlike other
exceptions (`consumers.logs`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Final

from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    KafkaTimeoutError,
    NoBrokersAvailable,
    SaslAuthenticationFailed,
    TopicAuthorizationFailedError,
    UnsupportedSaslMechanismError,
)

from transport.supervisor import supervise

LOGIN: Final = "CONSUMER_KAFKA_USER, CONSUMER_KAFKA_PASSWORD and CONSUMER_KAFKA_SASL_MECHANISM"
REACH: Final = "CONSUMER_KAFKA_BOOTSTRAP (--bootstrap) and CONSUMER_KAFKA_SECURITY_PROTOCOL"
NAMESPACE: Final = "CONSUMER_TOPIC_NAMESPACE, which must equal the gateway's SGB_TOPIC_NAMESPACE"
# No broker answered at all (as opposed to one answering with an error code).
UNREACHED: Final = (KafkaConnectionError, NoBrokersAvailable, KafkaTimeoutError, OSError)


@dataclass(frozen=True)
class KafkaPlace:
    """Where one agency meets Kafka: what a diagnosis names."""

    principal: str
    bootstrap: str
    namespace: str
    group: str | None = None


@dataclass(frozen=True)
class Diagnosis:
    """What failed, in one line naming the settings to check. `misconfigured`: Kafka was reached and a
    setting of this consumer is at fault (login, group or topic refused, TLS failed), not Kafka's
    absence. `reason` is a fixed code for alerting."""

    reason: str
    message: str
    misconfigured: bool

    def __str__(self) -> str:
        return self.message


class _Collector(logging.Handler):
    """Keeps the exceptions aiokafka's log records carry as arguments."""

    def __init__(self, into: list[BaseException]) -> None:
        super().__init__(logging.WARNING)
        self._into = into

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        self._into.extend(arg for arg in args if isinstance(arg, BaseException))


@contextlib.contextmanager
def logged_errors() -> Iterator[list[BaseException]]:
    """Collect the errors aiokafka logs meanwhile (a refused login among them), which its callers never see."""
    seen: list[BaseException] = []
    collector = _Collector(seen)
    kafka_log = logging.getLogger("aiokafka")
    kafka_log.addHandler(collector)
    try:
        yield seen
    finally:
        kafka_log.removeHandler(collector)


def diagnose(exc: BaseException, place: KafkaPlace, seen: list[BaseException] | None = None) -> Diagnosis:
    """Say what `exc` (with what aiokafka logged meanwhile, `seen`) means for `place`, and what to check."""
    last = seen[-1] if seen else None  # the newest: an earlier one may be long past
    cause = next((e for e in (exc, last) if isinstance(e, SaslAuthenticationFailed | ssl.SSLError)), None)
    who = f"principal {place.principal}"
    if isinstance(exc, GroupAuthorizationFailedError):
        return Diagnosis(
            "kafka_group_refused",
            f"Kafka refused {who} the consumer group {place.group} ({_words(exc)}): check CONSUMER_PARTNERSHIP_ID "
            f"and CONSUMER_TOPIC_NAMESPACE, which name the group and must equal the gateway's SGB_PARTNERSHIP_ID "
            "and SGB_TOPIC_NAMESPACE, and that the operator granted this agency that group",
            misconfigured=True,
        )
    if isinstance(exc, TopicAuthorizationFailedError):
        return Diagnosis(
            "kafka_topic_refused",
            f"Kafka refused {who} a topic ({_words(exc)}): check {NAMESPACE} (it is {place.namespace}), "
            "and the agency's Kafka grants",
            misconfigured=True,
        )
    if isinstance(cause, SaslAuthenticationFailed) or isinstance(exc, UnsupportedSaslMechanismError):
        return Diagnosis(
            "kafka_login_refused",
            f"Kafka at {place.bootstrap} refused the login of {who} ({_words(cause or exc)}): check {LOGIN}",
            misconfigured=True,
        )
    if isinstance(cause, ssl.SSLError):
        return Diagnosis(
            "kafka_tls_failed",
            f"no TLS connection to Kafka at {place.bootstrap} ({_words(cause)}): check CONSUMER_KAFKA_CA_FILE "
            f"and {REACH}",
            misconfigured=True,
        )
    if isinstance(exc, UNREACHED):
        said = _words(last or exc)
        return Diagnosis(
            "kafka_unreachable",
            f"cannot reach Kafka at {place.bootstrap} ({said}): check {REACH}, and that Kafka is running",
            misconfigured=False,
        )
    return Diagnosis("kafka_error", f"Kafka at {place.bootstrap} failed ({_words(exc)})", misconfigured=False)


def _words(exc: BaseException) -> str:
    said = str(exc).strip()
    return said.splitlines()[0] if said else type(exc).__name__


async def keep_connected(
    session: Callable[[], Awaitable[None]],
    *,
    stop: asyncio.Event,
    place: KafkaPlace,
    name: str,
    log: logging.Logger,
    initial: float = 1.0,
    most: float = 30.0,
    settled: float = 60.0,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Run `session` until `stop` is set; after a Kafka error, say what it means and run it again,
    waiting `initial` seconds, doubling to `most`, and from `initial` again once a session ran
    `settled` seconds. Any other error is raised at once. A stop ends a wait at once."""
    seen: list[BaseException] = []

    async def watched() -> None:
        # What aiokafka logged before it raised: it tells a refused login from a Kafka that is down.
        with logged_errors() as logged:
            try:
                await session()
            finally:
                seen[:] = logged

    def report(error: BaseException | None, seconds: float) -> None:
        again = f"trying again in {seconds:g} s"
        if error is None:
            log.warning("%s: its Kafka session ended before it was stopped; %s", name, again)
            return
        found = diagnose(error, place, seen)
        level = logging.ERROR if found.misconfigured else logging.WARNING
        log.log(level, "%s waiting for Kafka: %s; %s", name, found, again, extra={"reason": found.reason})

    await supervise(
        watched,
        stop=stop,
        name=name,
        log=log,
        wait_initial=initial,
        wait_max=most,
        settled_seconds=settled,
        clock=clock,
        report=report,
    )
