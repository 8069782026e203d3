"""The witness exchange between an agency's consumer and the gateway: proofs out, cosignatures in.

Every delivery carries the decision log's latest signed checkpoint (Kafka header `sgb_checkpoint`).
An agency's consumer keeps the last checkpoint it accepted; for a checkpoint of another size it asks
the gateway for a consistency proof (`GET /v1/log/proof?from=<smaller size>&to=<larger size>`),
checks it itself (`audit.advance_witness`), keeps the newer checkpoint and posts its cosignature on it
(`POST /v1/log/cosignatures`), which the gateway stores beside the checkpoint once it verifies under
the witness key the registry lists for the caller's agency. Pure pydantic, no I/O: both sides parse
with these models.

Formats are the audit package's, pinned by its golden vectors: a checkpoint is a signed note
(`audit.Checkpoint`), a proof hash is standard base64 of 32 bytes (as in C2SP tlog-witness request
bodies, `audit.WitnessRequest`), and a cosignature is one C2SP `tlog-cosignature/v1` note signature
line (`audit.cosignature`).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

MAX_INT64 = 2**63 - 1
# 32 bytes in standard base64, padded: the proof hashes' only spelling.
PROOF_HASH_PATTERN = r"^[A-Za-z0-9+/]{43}=$"
# "— <name> <base64 of 4-byte key ID + 8-byte time + 64-byte signature>" and its newline.
COSIGNATURE_PATTERN = r"^\u2014 [^\s+]{1,128} [A-Za-z0-9+/]{102}==\n$"

TreeSize = Annotated[int, Field(ge=0, le=MAX_INT64, description="Number of entries a checkpoint commits to")]


class _Closed(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ConsistencyAnswer(_Closed):
    """`GET /v1/log/proof`: the log of `from_size` entries is a prefix of the log of `to_size` entries."""

    from_size: TreeSize
    to_size: TreeSize
    checkpoint: str = Field(description="The broker-signed checkpoint note of size `to_size`, as stored")
    proof: list[Annotated[str, Field(pattern=PROOF_HASH_PATTERN)]] = Field(
        max_length=63, description="RFC 9162 consistency proof, oldest subtree first; empty when the sizes are equal"
    )


class CosignatureSubmission(_Closed):
    """`POST /v1/log/cosignatures`: this agency's cosignature on the stored checkpoint of `tree_size`."""

    # Strict: FastAPI validates a parsed body in lax mode, which read the string "5" as 5.
    tree_size: Annotated[int, Field(ge=1, le=MAX_INT64, strict=True)]
    cosignature: str = Field(
        pattern=COSIGNATURE_PATTERN,
        max_length=256,
        description="One tlog-cosignature/v1 signature line, newline included",
    )


class CosignatureStored(_Closed):
    """What the gateway kept: whose cosignature on which checkpoint, made when (POSIX seconds)."""

    tree_size: TreeSize
    witness: str
    key_id: str = Field(pattern=r"^[0-9a-f]{8}$")
    timestamp: Annotated[int, Field(ge=0, le=MAX_INT64)]


# --- worked examples for the OpenAPI (fictional: a test-only broker key, a test-only witness key) ------

_EXAMPLE_NOTE = (
    "sgb.decision-log\n57\n0Wh6juI+/rUL3TRSCMwRXZH/CTM/ZjFTkt0JOezxshw=\ntime 2026-12-01T09:30:00.000000Z\n"
    "chain ny5tM6NxfugmNTpAS6RhjRrutoea15Nrzo7V9GgUkk0=\n\n"
    "\u2014 sgb.decision-log NZng8e35Nf2CfgABTuWI+7EYwaLvvwxDs8C3+RLUz39Q6aJ0Fd/w9ZJVyji74imc4BJ4w/dju8yyb9lqS6X6F"
    "NUfoQE=\n"
)
EXAMPLE_ANSWER = ConsistencyAnswer(
    from_size=41,
    to_size=57,
    checkpoint=_EXAMPLE_NOTE,
    proof=[
        "Muuxq8wcYBzrnE48T6ugyqW4W7mMTx5mEsQPqlKKkck=",
        "ul7FHQekrA6VFghwRDHVmgKyGk6VGswQUFqNxAfFAe4=",
        "PEkU9q+nA42UwduFIac/iiLfVesJT97AQ6SRmajeJ7E=",
        "PBJ0ig72GoaSErxTS/ELsZAszONhj+ujPZSTMI016Jw=",
        "Vfh3C3MKF2mr3GRibafvMsK7d0vWF4cz//kwDKlAcKk=",
        "UFuWWUpQaJf5JWhlyhp4dkC+uXHvAvb/+OtqO1PZRCM=",
        "Rk+x/T7NHc1SUNMxrQMVPym2oxgukLHd0e8f/rHZmOQ=",
    ],
)
EXAMPLE_SUBMISSION = CosignatureSubmission(
    tree_size=57,
    cosignature=(
        "\u2014 csc-fenmere-mash 8jMo5gAAAABrDpOdddeOztKU+RoNF5BoMal7p0JoLvmmpPx4hTBrjTkdN+33qhluSRvK9OsAxUy5Mz3Tlq13"
        "/lSC/FAgG4aLkUbKAQ==\n"
    ),
)
EXAMPLE_STORED = CosignatureStored(tree_size=57, witness="csc-fenmere-mash", key_id="f23328e6", timestamp=1796117405)
