"""Request dependencies: each collaborator the lifespan opened, the authenticated caller, a size-limited body.

Routes name what they use (`decision_log: LogDep`, `decider: DeciderDep`), so a route's signature is
the whole list of what it touches; only this module reads `app.state` (`settings_of` and
`registry_of` serve the page renderer and the error handlers, which have a request but no route).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Request
from fastapi.exceptions import RequestValidationError

from broker.admission import idempotency
from broker.admission.authorisation import HEADER as AUTHORISATION_HEADER
from broker.admission.authorisation import AuthorisationCheck
from broker.admission.capacity import Capacity
from broker.admission.replay import OwedBurn, TokenBurner
from broker.admission.tokens import Caller, verify_token
from broker.db.log import DecisionLog
from broker.delivery.calendar import WorkingCalendar
from broker.delivery.outbox import Outbox
from broker.errors import Forbidden, MalformedToken, RoleNotGranted
from broker.metrics import Metrics
from broker.partnership.keys import BrokerKeys
from broker.partnership.registry import Registry
from broker.review import access, access_log
from broker.settings import BrokerSettings
from broker.sharing import flow
from broker.sharing.decide import Decider
from broker.sharing.flow import Receipt
from broker.sharing.record import Recorder
from broker.sharing.rules import RuleCatalogue
from broker.sharing.seal import Sealer


def settings_of(request: Request) -> BrokerSettings:
    settings: BrokerSettings = request.app.state.settings
    return settings


def registry_of(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


async def _log(request: Request) -> DecisionLog:
    decision_log: DecisionLog = request.app.state.decision_log
    return decision_log


async def _outbox(request: Request) -> Outbox:
    outbox: Outbox = request.app.state.outbox
    return outbox


async def _decider(request: Request) -> Decider:
    decider: Decider = request.app.state.decider
    return decider


async def _sealer(request: Request) -> Sealer:
    sealer: Sealer = request.app.state.sealer
    return sealer


async def _keys(request: Request) -> BrokerKeys:
    keys: BrokerKeys = request.app.state.keys
    return keys


async def _recorder(request: Request) -> Recorder:
    recorder: Recorder = request.app.state.recorder
    return recorder


async def _calendar(request: Request) -> WorkingCalendar:
    calendar: WorkingCalendar = request.app.state.calendar
    return calendar


async def _rules(request: Request) -> RuleCatalogue:
    rules: RuleCatalogue = request.app.state.rules
    return rules


async def _metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


async def _burner(request: Request) -> TokenBurner:
    burner: TokenBurner = request.app.state.token_burner
    return burner


async def _settings(request: Request) -> BrokerSettings:
    return settings_of(request)


async def _registry(request: Request) -> Registry:
    return registry_of(request)


# Every dependency is `async def`: FastAPI runs a plain `def` one in a worker thread, and a dozen
# thread hops per request were a third of the gateway's CPU (issue #17 profile).
SettingsDep = Annotated[BrokerSettings, Depends(_settings)]
RegistryDep = Annotated[Registry, Depends(_registry)]
LogDep = Annotated[DecisionLog, Depends(_log)]
OutboxDep = Annotated[Outbox, Depends(_outbox)]
DeciderDep = Annotated[Decider, Depends(_decider)]
SealerDep = Annotated[Sealer, Depends(_sealer)]
RecorderDep = Annotated[Recorder, Depends(_recorder)]
KeysDep = Annotated[BrokerKeys, Depends(_keys)]
CalendarDep = Annotated[WorkingCalendar, Depends(_calendar)]
RulesDep = Annotated[RuleCatalogue, Depends(_rules)]
MetricsDep = Annotated[Metrics, Depends(_metrics)]
BurnerDep = Annotated[TokenBurner, Depends(_burner)]


@dataclass(frozen=True)
class Sharing:
    """Everything the sharing flow uses, as one dependency: the busiest route resolving eight separate
    ones cost FastAPI more per request than the lookups themselves (issue #17 profile). The API, the
    correction route and the guided form all send through `submit`, so they share one wiring."""

    settings: BrokerSettings
    registry: Registry
    decision_log: DecisionLog
    decider: Decider
    sealer: Sealer
    calendar: WorkingCalendar
    recorder: Recorder
    outbox: Outbox
    capacity: Capacity
    burner: TokenBurner

    def authorisation(self, token: str | None) -> AuthorisationCheck | None:
        """The check of an `Authorisation-Token` header against the body, once it is parsed."""
        if token is None:
            return None
        return AuthorisationCheck(
            token.strip(),
            registry=self.registry,
            audience=self.settings.audience,
            max_lifetime=timedelta(seconds=self.settings.max_token_lifetime_seconds),
        )

    async def submit(
        self,
        *,
        caller: Caller,
        body: bytes,
        idempotency_key: str | None,
        authorisation: AuthorisationCheck | None = None,
        burn: OwedBurn | None = None,
        correcting: str | None = None,
    ) -> Receipt:
        """Decide, record and route one notification (`flow.submit`) with this gateway's collaborators."""
        return await flow.submit(
            caller=caller,
            body=body,
            idempotency_key=idempotency_key,
            reader=self.decision_log.lookups,
            decider=self.decider,
            sealer=self.sealer,
            calendar=self.calendar,
            recorder=self.recorder,
            outbox=self.outbox,
            checkpoint=self.decision_log.checkpoint_note,
            registry=self.registry,
            authorisation=authorisation,
            burn=burn,
            correcting=correcting,
        )


async def _sharing(request: Request) -> Sharing:
    state = request.app.state
    return Sharing(
        settings=state.settings,
        registry=state.registry,  # read per request: a new registry revision replaces it
        decision_log=state.decision_log,
        decider=state.decider,
        sealer=state.sealer,
        calendar=state.calendar,
        recorder=state.recorder,
        outbox=state.outbox,
        capacity=state.capacity,
        burner=state.token_burner,
    )


SharingDep = Annotated[Sharing, Depends(_sharing)]
AuthorisationTokenHeader = Annotated[
    str | None,
    Header(
        alias=AUTHORISATION_HEADER,
        description=(
            "The authoriser's own agency JWT (a line manager or named professional of the sending agency, "
            "not the sender) with `notification_digest` = `sha256:<hex of this request body>`. Without it an "
            "`authorisation` block in the body is not evidence and the share stays held for authorisation."
        ),
    ),
]


def _key_schema(schema: dict[str, Any]) -> None:
    # A header is a string or absent, never null: the key's rule in place of `str | None`'s anyOf.
    schema.pop("anyOf", None)
    schema.update(type="string", minLength=1, maxLength=idempotency.MAX_KEY_LENGTH, pattern=idempotency.KEY_PATTERN)


# The key's rule is published (`json_schema_extra`), not enforced by FastAPI: `idempotency.check_key`
# refuses a bad key inside the route, after the sender's token is burned, in the API's own 422 shape.
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description=(
            "Makes a retry safe: the same key and body again get the first answer (200), byte for byte; the key "
            f"with another body is a 409. 1-{idempotency.MAX_KEY_LENGTH} printable characters."
        ),
        json_schema_extra=_key_schema,
    ),
]


async def _admitted(request: Request) -> AsyncIterator[None]:
    """Hold one of the gateway's places for deciding until the answer is made (`Overloaded` if none is
    free). Declared before the caller, so a full gateway refuses before reading a token or a body."""
    capacity: Capacity = request.app.state.capacity
    with capacity.admit():
        yield


AdmittedDep = Annotated[None, Depends(_admitted)]


async def _caller(request: Request) -> Caller:
    """Verify the bearer token and burn its jti before anything else happens (replay refusal), then
    refuse a route the access table does not open to the caller's role."""
    caller = await _verified(request)
    _known(request, caller)
    burner: TokenBurner = request.app.state.token_burner
    # Committed before we go on (group commit with the other requests being admitted), so every
    # worker sees the jti as used at once.
    await burner.burn(caller)
    _open_route(request)
    return caller


async def _sender(request: Request) -> Caller:
    """`POST /v1/notifications`: as `_caller`, but the jti is only claimed in this worker here; it is
    committed with the notification's decisions, in their transaction (`flow.submit`), which saves
    each notification a transaction of its own. A refused route commits it at once."""
    caller = await _verified(request)
    _known(request, caller)
    burner: TokenBurner = request.app.state.token_burner
    burner.claim(caller)
    try:
        _open_route(request)
    except Forbidden:
        await burner.burn_claimed(caller)
        raise
    return caller


async def _verified(request: Request) -> Caller:
    # Read here rather than declared as four sub-dependencies: every request authenticates, and
    # FastAPI resolving each one cost more than the lookup it wraps.
    state = request.app.state
    registry: Registry = state.registry
    settings: BrokerSettings = state.settings
    decision_log: DecisionLog = state.decision_log
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise MalformedToken("an Authorization: Bearer <agency JWT> header is required")
    try:
        return verify_token(
            token.strip(),
            registry=registry,
            audience=settings.audience,
            max_lifetime=timedelta(seconds=settings.max_token_lifetime_seconds),
        )
    except RoleNotGranted as refused:
        await access_log.record_refusal(decision_log, refused)
        raise


def _known(request: Request, caller: Caller) -> None:
    # Known from here on: a refusal of what this person tries next is logged (broker.api.errors), a
    # second use of their token first of all, since whoever sent it again held a copy of it.
    request.state.viewer = access.Viewer.from_caller(caller)


def _open_route(request: Request) -> None:
    access.require_route(request.state.viewer, request.method, route_path(request))


def route_path(request: Request) -> str:
    """The matched route's path template (`/v1/decisions/{seq}`), as the access table names routes."""
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else request.url.path


CallerDep = Annotated[Caller, Depends(_caller)]
SenderDep = Annotated[Caller, Depends(_sender)]

# Log sequence numbers and offsets are 64-bit in both databases; a larger number is a 422, not a crash.
MAX_INT64 = 2**63 - 1
SeqPath = Annotated[int, Path(ge=0, le=MAX_INT64)]


SINGLE_HEADERS = ("Authorization", "Authorisation-Token", "Idempotency-Key")


async def single_query_values(request: Request) -> None:
    """Refuse a query parameter given twice: every one is declared as a single value, and taking
    the last one silently (Starlette's default) would answer a question the caller did not ask.
    So is one the route does not take: a misspelt filter (`?notification=`) would otherwise answer
    with everything, which an auditor could take for the filtered answer."""
    repeated = sorted(
        {key for key, _ in request.query_params.multi_items() if len(request.query_params.getlist(key)) > 1}
    )
    declared = _declared_query(request) if request.query_params else frozenset()
    unknown = sorted(set(request.query_params) - declared)
    # The same for the headers that choose who is asking, whom they bring and which answer is
    # theirs: a proxy honouring another copy than the gateway would act on another request.
    doubled = [name for name in SINGLE_HEADERS if len(request.headers.getlist(name)) > 1]
    if repeated or doubled or unknown:
        takes = sorted(declared)
        said = f"this route takes no such parameter; it takes: {', '.join(takes)}" if takes else "this route takes none"
        raise RequestValidationError(
            [{"loc": ["query", key], "msg": "give this parameter once", "type": "repeated"} for key in repeated]
            + [{"loc": ["header", name], "msg": "give this header once", "type": "repeated"} for name in doubled]
            + [{"loc": ["query", key], "msg": said, "type": "unknown_parameter"} for key in unknown]
        )


def _declared_query(request: Request) -> frozenset[str]:
    """The query parameters the matched route declares, as the published contract lists them (the
    app's OpenAPI document, built once and kept by FastAPI), so the check and the docs cannot differ."""
    operation = request.app.openapi().get("paths", {}).get(route_path(request), {}).get(request.method.lower(), {})
    return frozenset(p["name"] for p in operation.get("parameters", ()) if p.get("in") == "query")
