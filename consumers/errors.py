"""Errors of the agency consumer.

ConsumerError
├── ConfigurationError   keys, settings or topics are wrong; the consumer refuses to start, or stops
│   │                    uncommitted (a record sealed with a key it does not hold)
│   └── UnknownBrokerKey a record, or the checkpoint it carries, is signed by a broker key this
│                        consumer does not hold: a rotation not installed here (exit status 2, not 3)
├── SinkError            the agency's system did not take the message (retry; offset not committed)
│   └── SinkRejected     it refused this one delivery for good (dead-lettered as `sink_refused`,
│                        committed, no `delivered` receipt), so the records behind it go on
├── DeliveryWithdrawn    the agency's system keeps a tombstone for the delivery, so did not take it back
                         (committed, no `delivered` receipt)
├── RejectedMessage      the message itself is bad (parked on the dead-letter topic with `reason`)
├── KafkaUnavailable     Kafka could not be reached, or failed a request (`ack` sent nothing and exits 1:
│                        send it again; `run` waits and tries again); a Kafka that refuses this agency's
│                        login, group or topics is a `ConfigurationError` instead (`consumers.kafka_session`)
├── GatewayUnavailable   the gateway gave no proof or took no cosignature (logged; tried again later)
└── WitnessAlarm         the broker showed a checkpoint that contradicts the one this agency kept:
                         delivery stops (nothing committed, nothing dead-lettered) and the process
                         exits with status 3, saying why
"""

from __future__ import annotations

from typing import Final


class ConsumerError(Exception):
    """Base of every error the consumer raises."""


class ConfigurationError(ConsumerError):
    """A key file, setting or topic the consumer needs is missing or unsafe; fix it and restart."""


class UnknownBrokerKey(ConfigurationError):
    """Signed by a broker key this consumer does not hold: install the broker's signing history.

    Only the broker's relay may write to an agency's inbox, so a signature under a key the agency
    lacks is a rotation (`rotate-broker-keys`) whose history was not installed here, not a bad record
    nor a forked log: the consumer stops uncommitted, and reads the record again once it is installed.
    `key_id` is the kid an envelope or notice names, or the signed-note key id (`<origin>+<hex>`) of
    a checkpoint's signature, which is all a note says about a key it does not carry.
    """

    def __init__(self, what: str, key_id: str) -> None:
        super().__init__(
            f"{what} is signed with broker key {key_id}, which this consumer does not hold (a rotation of the "
            "broker's keys not installed here): install the broker's signing history (its signing-history.json, "
            "as CONSUMER_BROKER_PUBLIC_KEYS or --broker-keys) and start again; the record is read again"
        )
        self.key_id = key_id


class SinkError(ConsumerError):
    """Delivery to the agency's system failed; the offset stays uncommitted so it is retried."""


class SinkRejected(SinkError):
    """The agency's system refused this one delivery for good: another attempt would get the same answer.

    Retried, it would hold up every later record on its partition (other children's referrals) for
    ever. Only an answer about this record qualifies (which ones: `consumers.webhook`); a wrong URL or
    credential refuses every record alike and stays a `SinkError`, retried until the operator fixes it.
    `detail` says what the system answered (an HTTP status), never what the delivery holds: it goes
    on the dead-letter topic.
    """

    def __init__(self, delivery_id: str, detail: str) -> None:
        super().__init__(f"the agency's system refused delivery {delivery_id} for good ({detail})")
        self.delivery_id = delivery_id
        self.detail = detail


class DeliveryWithdrawn(ConsumerError):
    """The sink refused a delivery it keeps a tombstone for: withdrawn, corrected or erased earlier.

    Not a failure to retry (so not a `SinkError`): the delivery was read again, after a lost ledger or
    a topic re-read from the start, and the agency's system rightly does not hold it. No receipt may
    then say `delivered`. `kind` is the tombstone's notice kind (`withdrawal`, `correction`,
    `erasure`), or None when the sink cannot say which.
    """

    def __init__(self, delivery_id: str, kind: str | None = None) -> None:
        super().__init__(f"delivery {delivery_id} was recalled ({kind or 'withdrawn'}): its tombstone is kept, not it")
        self.delivery_id = delivery_id
        self.kind = kind


class RejectedMessage(ConsumerError):
    """A record that can never be delivered: bad signature, not ours, undecryptable or invalid.

    `reason` is a short code (the dead-letter header); `detail` never holds payload values, since
    both end up in logs and on the dead-letter topic.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class KafkaUnavailable(ConsumerError):
    """Kafka could not be reached, or failed the request: nothing was sent. The message names what failed
    and the settings to check (`consumers.kafka_session.diagnose`)."""


class GatewayUnavailable(ConsumerError):
    """The gateway could not be reached, or refused a witness call; nothing was learnt about the log.

    Not an alarm: without the proof the consumer neither accepts nor rejects the checkpoint, keeps the
    one it has, and asks again with a later record. Deliveries go on meanwhile, since each envelope
    carries the broker's own signature. `status` and `code` are the gateway's answer, when it gave one.
    """

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


FORK: Final = "fork"
INCONSISTENT: Final = "inconsistent"
CHECKPOINT_INVALID: Final = "checkpoint_invalid"


class WitnessAlarm(ConsumerError):
    """The decision log, as the broker now shows it, contradicts a checkpoint this agency kept.

    `reason` is `fork` (two signed trees of one size), `inconsistent` (no valid proof that the kept
    tree is a prefix of the new one: history was rewritten or truncated) or `checkpoint_invalid`
    (a checkpoint whose signature line under one of the broker's keys does not verify, that carries
    no signature under the log's name, or that a retired key signed too late: `consumers.broker_keys`).
    A checkpoint signed by a key this agency does not hold at all is an `UnknownBrokerKey` instead.
    `evidence` holds sizes, roots and where the record came from: what the agency sends to the
    partnership's operators and auditors.
    """

    def __init__(self, reason: str, message: str, evidence: dict[str, object]) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.evidence = evidence
