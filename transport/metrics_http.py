"""Prometheus metrics over HTTP, served only to scrapes that carry a bearer token.

The worker's and each agency consumer's metrics ports sit on the network every agency's consumer
shares, so without a token one agency could read another's delivery counts and the relay's state.
This is prometheus_client's own exposition (`make_wsgi_app`) behind the same check the gateway makes on
its /metrics (broker/api/health.py), on a WSGI server in a daemon thread as `start_http_server` runs one.
"""

from __future__ import annotations

import hmac
import socket
import threading
from collections.abc import Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from prometheus_client import make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.registry import Collector


def bearer_matches(authorization: str, expected: bytes) -> bool:
    """Whether an Authorization header carries `expected` as its bearer token (constant-time)."""
    scheme, _, given = authorization.partition(" ")
    # Headers arrive decoded as latin-1 (WSGI and ASGI alike): encoding back gives the bytes sent.
    return scheme.lower() == "bearer" and hmac.compare_digest(given.encode("latin-1", "replace"), expected)


def require_bearer(app: WSGIApplication, *, token: str, setting: str) -> WSGIApplication:
    """`app` for requests carrying `token` as their bearer token; 401 for any other."""
    if not token:
        # An empty token would admit `Authorization: Bearer ` from anyone.
        raise ValueError(f"metrics are served only with {setting} set, to scrapes that carry it")
    expected = token.encode()
    refusal = f"a scrape of these metrics carries {setting} as its bearer token\n".encode()

    def guarded(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if bearer_matches(str(environ.get("HTTP_AUTHORIZATION", "")), expected):
            return app(environ, start_response)
        headers = [("Content-Type", "text/plain; charset=utf-8"), ("WWW-Authenticate", 'Bearer realm="metrics"')]
        start_response("401 Unauthorized", headers)
        return [refusal]

    return guarded


def serve_metrics(registry: Collector, *, host: str, port: int, token: str, setting: str) -> WSGIServer:
    """Serve `registry` on host:port to scrapes carrying `token`; `shutdown()` the server returned to stop.

    `setting` names where the token comes from, for the refusal a scraper without it gets. Raises
    ValueError without a token and OSError when the address cannot be bound.
    """
    app = require_bearer(make_wsgi_app(registry), token=token, setting=setting)
    server = make_server(host, port, app, server_class=_server_class(host, port), handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True).start()
    return server


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """A line per scrape would bury the process's own JSON log."""


def _server_class(host: str, port: int) -> type[WSGIServer]:
    # As start_http_server does: an IPv6 host needs an IPv6 socket.
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]

    class MetricsServer(ThreadingWSGIServer):
        address_family = family

    return MetricsServer
