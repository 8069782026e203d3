"""The worker's and consumers' metrics HTTP server answers only scrapes carrying its bearer token.

A real server on a free loopback port, scraped over HTTP; the processes that use it are scraped in
tests/broker/test_worker_metrics.py and tests/consumers/test_consumer_metrics.py.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter

from transport.metrics_http import serve_metrics

TOKEN = "a-scrape-token-for-the-test"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def url() -> Iterator[str]:
    registry = CollectorRegistry()
    Counter("sgb_test_scrapes", "A series to find", registry=registry).inc()
    port = _free_port()
    server = serve_metrics(registry, host="127.0.0.1", port=port, token=TOKEN, setting="TEST_METRICS_TOKEN")
    try:
        yield f"http://127.0.0.1:{port}/metrics"
    finally:
        server.shutdown()
        server.server_close()


def test_the_right_token_gets_the_metrics(url: str) -> None:
    response = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert "sgb_test_scrapes_total 1.0" in response.text


@pytest.mark.parametrize(
    "authorization",
    # The last: bytes no token is, as a client may send them (latin-1, as WSGI reads them).
    [
        None,
        "Bearer wrong-token",
        f"Bearer {TOKEN}x",
        f"Basic {TOKEN}",
        f"Bearer{TOKEN}",
        "Bearer",
        "Bearer \xe9".encode("latin-1"),
    ],
)
def test_any_other_scrape_is_refused(url: str, authorization: str | bytes | None) -> None:
    given = authorization.encode() if isinstance(authorization, str) else authorization
    headers: dict[bytes, bytes] = {} if given is None else {b"Authorization": given}
    response = httpx.get(url, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "TEST_METRICS_TOKEN" in response.text
    assert "sgb_test_scrapes" not in response.text


def test_no_token_serves_nothing() -> None:
    port = _free_port()
    with pytest.raises(ValueError, match="TEST_METRICS_TOKEN"):
        serve_metrics(CollectorRegistry(), host="127.0.0.1", port=port, token="", setting="TEST_METRICS_TOKEN")
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/metrics")
