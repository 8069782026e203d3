"""Counts every HTTP request in `sgb_http_requests_total` by method, route template and status, and
times it in `sgb_http_request_seconds` by method and route template.

A pure ASGI middleware rather than `@app.middleware("http")`: that wrapper buffers streamed bodies
and changes how exceptions surface, and this only needs to watch the response start go by.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from broker.metrics import Metrics

# Paths that matched no route are counted under one label: a scanner trying a million URLs must not
# make a million time series.
UNMATCHED = "<unmatched>"
# Likewise for methods: a client may send any token as one.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the client gets if the app raises before answering
        started = time.perf_counter()

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            _count(scope, status, time.perf_counter() - started)


def _count(scope: Scope, status: int, seconds: float) -> None:
    metrics: Metrics | None = getattr(scope["app"].state, "metrics", None)
    if metrics is None:  # before the lifespan opened the collaborators
        return
    method = scope["method"] if scope["method"] in METHODS else "OTHER"
    route = route_template(scope)
    metrics.requests.labels(method, route, str(status)).inc()
    metrics.request_latency.labels(method, route).observe(seconds)


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/v1/decisions/{seq}`), never the concrete path with its ids."""
    # The router writes the matched route into this same scope dict; a mount (the static files)
    # gives its prefix only, so the file asked for never becomes a label either.
    template = getattr(scope.get("route"), "path", None)
    return template if isinstance(template, str) else UNMATCHED
