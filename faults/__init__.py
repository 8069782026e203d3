"""The fault suite: kill -9 and restart each part under a steady load, then prove nothing was lost.

`harness` starts a site's real processes (gateway, worker, one consumer per agency, a private OPA)
on `process` children and `kafka` (the shared broker or a private one), optionally a private
PostgreSQL cluster (`postgres`); `fleet` runs several gateways and workers of one site; `load` drives
the load; `checks` and `exactly_once` hold the invariants; `cluster` launches a three-broker Kafka
cluster on loopback; `python -m faults` is the long run.
"""
