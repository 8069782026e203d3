"""The fault suite: kill -9 and restart each part under a steady load, then prove nothing was lost.

`harness` starts real processes (gateway, worker, one consumer per agency, a private OPA, optionally
a private Kafka broker and PostgreSQL cluster) and drives a load; `checks` holds the invariants;
`cluster` launches a three-broker Kafka cluster on loopback; `python -m faults` is the long run.
"""
