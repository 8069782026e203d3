"""Schemathesis against the gateway's own OpenAPI, over real HTTP, with a fresh valid token per case.

Checks on every response: no 5xx, the status code is declared, the content type and headers are
the declared ones, the body matches the declared schema (2xx bodies against the `schemas.api`
models, refusals against `ApiError`), and schema-invalid input is refused. Generated notifications
are sent as a registered agency with that agency's token, so real receipts (202) are checked too.
`make test` runs SGB_ATTACK_EXAMPLES (default 40) examples per operation; `make attacks` runs
enough for more than 10,000 cases and prints the count.
"""

from __future__ import annotations

import contextlib
import os
import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from requests.structures import CaseInsensitiveDict
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.core.result import Err
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.attacks.conftest import LiveGateway

pytestmark = pytest.mark.stack

EXAMPLES = int(os.environ.get("SGB_ATTACK_EXAMPLES", "40"))  # per operation and mode
# In `make test` the same cases every run, so a verdict is reproducible and CI never turns on luck (a
# negative case can serialise to a valid request: a one-item array in a query string reads as the
# string); `make attacks` explores afresh each time.
DERANDOMIZE = "SGB_ATTACK_EXAMPLES" not in os.environ
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
# The HTTP client's own framing: a generated value (an empty Content-Length on a GET) is refused by the
# server's HTTP parser as not HTTP at all (400, text/plain) before any operation of the API sees it.
FRAMING_HEADERS = ("Content-Length", "Transfer-Encoding", "Host", "Connection")
CASES: Counter[str] = Counter()
STATUSES: Counter[int] = Counter()
SUCCESSES: Counter[str] = Counter()  # 2xx answers per operation, each checked against its model


@dataclass
class Failure:
    operation: str
    mode: str
    status: int
    message: str


FAILURES: list[Failure] = []

# schemathesis' generic parameters (parameter, responses, security and schema types) are its internals.
Operation = APIOperation[Any, Any, Any, Any]


def _fuzz(operation: Operation, mode: GenerationMode, gateway: LiveGateway, examples: int) -> None:
    label = f"{operation.method.upper()} {operation.path}"

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        derandomize=DERANDOMIZE,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case[Operation]) -> None:
        agency = _send_as_registered(case, mode, gateway)
        headers = CaseInsensitiveDict(case.headers)
        for name in FRAMING_HEADERS:
            headers.pop(name, None)
        if not _authorization_mutated(case):
            token = gateway.token(agency, "agency_system") if agency else gateway.token()
            headers["Authorization"] = f"Bearer {token}"
        case.headers = headers
        response = case.call(timeout=30)
        CASES[label] += 1
        STATUSES[response.status_code] += 1
        if 200 <= response.status_code < 300:
            SUCCESSES[label] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except (AssertionError, BaseExceptionGroup) as exc:  # every failure is collected; the run goes on
            if len(FAILURES) < 200:
                FAILURES.append(Failure(label, mode.value, response.status_code, str(exc)[:1500]))

    run()


def _authorization_mutated(case: schemathesis.Case[Operation]) -> bool:
    """Whether this negative case's invalid part is its Authorization header (removed or malformed).

    Such a case is sent as generated, to be refused 401: a valid token put in its place would make it a
    valid request that the check still expects refused (first seen in a `make attacks` run, beside a
    query value whose mutation a query string cannot carry, so only the header made it invalid).
    """
    meta = case.meta
    if meta is None or not meta.generation.mode.is_negative:
        return False
    header = meta.components.get(ParameterLocation.HEADER)
    if header is None or not header.mode.is_negative:
        return False
    mutations = meta.phase.data.mutations
    named = {m.parameter.lower() for m in mutations if m.parameter_location is ParameterLocation.HEADER and m.parameter}
    return not named or "authorization" in named


def _send_as_registered(case: schemathesis.Case[Operation], mode: GenerationMode, gateway: LiveGateway) -> str | None:
    """For a valid generated notification: a registered agency and a role it was granted, made its sender.

    Otherwise a generated sender is never the token's agency, and every notification is refused
    before a receipt is made. The token's role is agency_system, as an agency's case system posts.
    """
    body = case.body
    if mode is not GenerationMode.POSITIVE or not isinstance(body, dict):
        return None
    sender = body.get("sender")
    if not isinstance(sender, dict):
        return None
    if not gateway.senders:
        return None
    agency = random.choice(sorted(gateway.senders))  # noqa: S311 - test data, not security
    sender.update(agency_id=agency, role=random.choice(gateway.senders[agency]))  # noqa: S311
    return agency


def test_every_response_is_declared_and_never_5xx(live_gateway: LiveGateway) -> None:
    """Positive and negative cases for every operation; more negative ones where inputs are free."""
    schema = schemathesis.openapi.from_url(f"{live_gateway.url}/openapi.json")
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            with contextlib.suppress(Unsatisfiable):  # nothing negative to say about a parameterless GET
                _fuzz(operation, mode, live_gateway, EXAMPLES)
    print(summary())
    assert not FAILURES, "\n\n".join(f"{f.operation} [{f.mode}] -> {f.status}: {f.message}" for f in FAILURES[:20])
    assert sum(CASES.values()) >= EXAMPLES * 7
    assert live_gateway.senders, "the test registry grants no agency a role it may send notifications as"
    assert SUCCESSES["POST /v1/notifications"], "no generated notification was accepted, so no receipt was checked"


def summary() -> str:
    by_status = ", ".join(f"{code}: {n}" for code, n in sorted(STATUSES.items()))
    checked = ", ".join(f"{label}: {n}" for label, n in sorted(SUCCESSES.items()))
    return (
        f"schemathesis: {sum(CASES.values())} cases over {len(CASES)} operations; statuses {by_status}; "
        f"2xx bodies checked {checked}; {len(FAILURES)} failures"
    )
