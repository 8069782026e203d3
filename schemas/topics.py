"""Kafka topic names, built in one place so the gateway's relay and the agency consumers agree."""

from __future__ import annotations

import re

PREFIX = "sgb"
RECEIPTS_TOPIC = f"{PREFIX}.receipts"
_AGENCY_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


def _checked(agency_id: str) -> str:
    # Topic names become ACL resource names: an id that could widen a prefix match is refused.
    if not _AGENCY_ID.fullmatch(agency_id):
        raise ValueError(f"agency id {agency_id!r} is not a valid topic component")
    return agency_id


def inbox_topic(agency_id: str) -> str:
    """The only topic an agency's consumer may read."""
    return f"{PREFIX}.inbox.{_checked(agency_id)}"


def dead_letter_topic(agency_id: str) -> str:
    """Where an agency's consumer parks what it cannot verify, open or validate."""
    return f"{PREFIX}.dlq.{_checked(agency_id)}"
