"""`GET /v1/log/proof` and `POST /v1/log/cosignatures`: the agencies witness the decision log.

Every delivery carries the log's latest signed checkpoint. An agency's consumer keeps the last one it
accepted; to accept a checkpoint of another size it asks here for the consistency proof between the
two sizes, checks it itself, and posts its cosignature on the newer checkpoint. The gateway keeps a
cosignature only once it verifies under the witness key the registry lists for the caller's agency,
so `python -m audit verify --witness-key ... --min-witnesses K` can later require K agencies to have
seen a tree the log must still extend. Formats: `schemas.witness`.

The proof is built from the leaves as stored and checked against the stored checkpoint before it
is handed out; a log rewritten underneath cannot produce one that the agency's kept checkpoint
accepts, which is the point.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError
from sqlalchemy import Engine
from sqlmodel import Session

import audit
from broker.api.deps import MAX_INT64, CallerDep, LogDep, RegistryDep
from broker.api.json_body import JsonRoute
from broker.api.responses import BEARER, errors, ok, request_examples
from broker.errors import Forbidden, LogUnavailable, NotFound
from broker.partnership.roles import AGENCY_SYSTEM
from schemas import witness as examples
from schemas.witness import ConsistencyAnswer, CosignatureStored, CosignatureSubmission

log = logging.getLogger("broker.api.log")

router = APIRouter(prefix="/v1/log", tags=["decision log"], route_class=JsonRoute)

FromSize = Annotated[int, Query(alias="from", ge=0, le=MAX_INT64, description="The tree size the caller kept")]
ToSize = Annotated[int, Query(alias="to", ge=1, le=MAX_INT64, description="A stored checkpoint's tree size")]


@router.get(
    "/proof",
    response_model=ConsistencyAnswer,
    dependencies=BEARER,
    responses={
        **ok(200, ("proof", "From the tree an agency kept to a newer one", examples.EXAMPLE_ANSWER)),
        **errors(401, 403, 404, 422, 503),
    },
)
async def consistency_proof(
    caller: CallerDep, decision_log: LogDep, from_size: FromSize, to_size: ToSize
) -> ConsistencyAnswer:
    """Proof that the log's first `from` entries are a prefix of the checkpoint of size `to` (RFC 9162)."""
    if from_size > to_size:
        raise _invalid(("query", "from"), "from must not exceed to: ask from the smaller tree to the larger")
    try:
        return await asyncio.to_thread(_prove, decision_log.reader, from_size, to_size)
    except audit.EntryNotFound as exc:
        raise NotFound(f"no checkpoint of size {to_size}: use the size of a checkpoint you were sent") from exc
    except audit.ProofInvalid as exc:
        # The stored entries no longer give the root the broker signed at that size: the log was
        # changed underneath. Answered as "no such checkpoint" (the witness then raises its alarm),
        # never as a 500 that a witness must read as an outage and shrug off.
        log.error("decision log: the stored entries no longer match the checkpoint of size %d", to_size)
        raise NotFound(f"the log no longer holds the checkpoint of size {to_size} as it was signed") from exc


def _prove(engine: Engine, from_size: int, to_size: int) -> ConsistencyAnswer:
    # The stored note as it is, unchecked here: the witness checks its signature itself and names a
    # forged one for what it is (`checkpoint_invalid`), where a refusal would read as a log cut short.
    with Session(engine) as session:
        request = audit.witness_request(session, from_size, audit.checkpoint_at(session, to_size))
    return ConsistencyAnswer(
        from_size=from_size,
        to_size=to_size,
        checkpoint=request.checkpoint_note,
        proof=[base64.b64encode(h).decode("ascii") for h in request.proof],
    )


@router.post(
    "/cosignatures",
    status_code=201,
    response_model=CosignatureStored,
    dependencies=BEARER,
    responses={
        **ok(201, ("stored", "The agency's cosignature, kept", examples.EXAMPLE_STORED)),
        **errors(401, 403, 404, 413, 415, 422, 503),
    },
    openapi_extra=request_examples(
        ("cosign", "A consumer cosigns the checkpoint it checked", examples.EXAMPLE_SUBMISSION)
    ),
)
async def post_cosignature(
    body: CosignatureSubmission, caller: CallerDep, registry: RegistryDep, decision_log: LogDep
) -> CosignatureStored:
    """Keep the caller's cosignature on a stored checkpoint, once it verifies under the agency's witness key."""
    agency = registry.agency(caller.agency_id)
    witness = agency.current_witness_key if agency is not None else None
    if caller.role != AGENCY_SYSTEM or witness is None:
        # A person's token never cosigns: witnessing is what the agency's consumer does.
        raise Forbidden("only an agency system whose agency has a registered witness key may cosign")
    try:
        line = audit.Cosignature.parse(body.cosignature)
    except audit.CosignatureInvalid as exc:
        raise _invalid(("body", "cosignature"), str(exc)) from exc
    key = witness.witness()
    if line.name != key.name or line.key_id != key.key_id:
        raise Forbidden(f"the cosignature is not by {caller.agency_id}'s registered witness key")
    try:
        stored = await asyncio.to_thread(_store, decision_log.engine, body.tree_size, body.cosignature, key)
    except audit.EntryNotFound as exc:
        raise NotFound(f"no checkpoint of size {body.tree_size}") from exc
    except audit.CosignatureForged as exc:
        # Not the witness's fault, and nothing it can mend: its place was taken past the broker.
        decision_log.report_tampering(f"the cosignature stored for {caller.agency_id} does not verify", body.tree_size)
        raise LogUnavailable("the cosignature could not be kept: the log's store was written past the broker") from exc
    except audit.CosignatureInvalid as exc:
        raise _invalid(("body", "cosignature"), f"does not verify over the checkpoint of that size: {exc}") from exc
    return CosignatureStored(
        tree_size=body.tree_size, witness=stored.name, key_id=stored.key_id.hex(), timestamp=stored.timestamp
    )


def _store(engine: Engine, tree_size: int, line: str, key: audit.WitnessKey) -> audit.Cosignature:
    with Session(engine) as session, session.begin():
        return audit.store_cosignature(session, tree_size, line, key)


def _invalid(location: tuple[str, str], message: str) -> RequestValidationError:
    """FastAPI's own 422 shape (`RequestInvalid` in the OpenAPI), naming the bad parameter."""
    return RequestValidationError([{"loc": location, "msg": message, "type": "value_error"}])
