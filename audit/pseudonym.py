"""Keyed pseudonyms: how subjects appear in the log (Caldicott 2-3: no names, no dates of birth)."""

from __future__ import annotations

import hashlib
import hmac
import re

from audit.errors import AuditError

# A prefix keeps these HMACs apart from any other use of the same secret.
_DOMAIN = b"sgb/subject-pseudonym/v1\x00"
MIN_SECRET_BYTES = 32
PSEUDONYM_PATTERN = re.compile(r"^[0-9a-f]{64}$")


def pseudonymise(secret: bytes, subject_ref: str) -> str:
    """Return the keyed pseudonym (HMAC-SHA256, lowercase hex) of a subject reference.

    The caller owns ``secret`` (at least 32 random bytes, kept out of the database): without it
    nobody can link a pseudonym back to a reference by guessing likely references.
    """
    if len(secret) < MIN_SECRET_BYTES:
        raise AuditError(f"pseudonym secret must be at least {MIN_SECRET_BYTES} bytes")
    if not subject_ref:
        raise AuditError("subject reference must not be empty")
    return hmac.new(secret, _DOMAIN + subject_ref.encode("utf-8"), hashlib.sha256).hexdigest()
