"""Errors of the agency consumer.

ConsumerError
├── ConfigurationError   keys, settings or topics are wrong; the consumer refuses to start
├── SinkError            the agency's system did not take the message (retry; offset not committed)
└── RejectedMessage      the message itself is bad (parked on the dead-letter topic with `reason`)
"""

from __future__ import annotations


class ConsumerError(Exception):
    """Base of every error the consumer raises."""


class ConfigurationError(ConsumerError):
    """A key file, setting or topic the consumer needs is missing or unsafe; fix it and restart."""


class SinkError(ConsumerError):
    """Delivery to the agency's system failed; the offset stays uncommitted so it is retried."""


class RejectedMessage(ConsumerError):
    """A record that can never be delivered: bad signature, not ours, undecryptable or invalid.

    `reason` is a short code (the dead-letter header); `detail` never holds payload values, since
    both end up in logs and on the dead-letter topic.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
