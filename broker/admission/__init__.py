"""Admission: who is calling (agency tokens), that a token is used once, and idempotent retries."""
