"""Errors of the agency consumer.

ConsumerError
├── SinkError            the agency's system did not take the message (retry; offset not committed)
└── RejectedMessage      the message itself is bad (parked on the dead-letter topic with `reason`)
"""

from __future__ import annotations


class ConsumerError(Exception):
    """Base of every error the consumer raises."""


class SinkError(ConsumerError):
    """Delivery to the agency's system failed; the offset stays uncommitted so it is retried."""


class RejectedMessage(ConsumerError):
    """A record that can never be delivered: bad signature, not ours, undecryptable or invalid."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
