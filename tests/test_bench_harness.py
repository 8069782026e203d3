"""The benchmark starts its worker and gateways with settings the broker accepts.

`make bench` is not part of `make test`, so a settings rule added to the broker (such as a metrics
port needing its token) would otherwise break the benchmark unseen until its next run. That the
broker refuses a metrics port without a token is tests/broker/test_worker_metrics.py's to check.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.harness import gateway_env, process_env, worker_env
from broker.settings import BrokerSettings


def _env(tmp_path: Path) -> dict[str, str]:
    stack = {
        "SGB_KAFKA_BOOTSTRAP": "127.0.0.1:1",
        "SGB_KAFKA_USER": "bench",
        "SGB_KAFKA_PASSWORD": "not-a-real-one-5Tq",
    }
    return gateway_env(
        partnership_root=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'gateway.db'}",
        opa_url="http://127.0.0.1:1",
        stack=stack,
        partnership_id="bench-partnership",
        namespace="bench-x",
    )


def test_the_workers_settings_are_accepted_and_its_metrics_carry_the_runs_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in worker_env(_env(tmp_path), 45_678, "run-token-1").items():
        monkeypatch.setenv(name, value)
    settings = BrokerSettings()
    assert settings.worker_metrics_port == 45_678
    assert settings.metrics_token is not None and settings.metrics_token.get_secret_value() == "run-token-1"


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_the_gateway_serves_metrics_only_as_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """`python -m broker.gateway --workers N` refuses N > 1 with a metrics token (broker/gateway.py): the scale
    curve's gateways must start without one, and the one-process gateway keeps it for `bench.breakdown`."""
    monkeypatch.delenv("SGB_METRICS_TOKEN", raising=False)  # only what the benchmark gives counts
    for name, value in process_env(_env(tmp_path), workers).items():
        monkeypatch.setenv(name, value)
    token = BrokerSettings().metrics_token
    assert (token is not None and bool(token.get_secret_value())) == (workers == 1)
