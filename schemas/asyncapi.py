"""The AsyncAPI 3.0 document of the broker's Kafka side: agency inboxes, receipts and dead letters.

    python -m schemas.asyncapi > docs/asyncapi.json

`document()` is pure: it builds the document from the same pydantic models the relay, the
consumers and the gateway use (`SealedEnvelope` is the inbox record's value), plus the models
of record headers and of the receipt JWT in `schemas.record_headers`. Topic names and patterns
come from `schemas.topics`, so the document and the ACLs cannot disagree.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Final

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from schemas.common import AGENCY_ID_PATTERN
from schemas.envelope import SealedEnvelope
from schemas.notice import NOTICE_CONTENT_TYPE, Notice
from schemas.policy_input import PARTNERSHIP_ID_PATTERN
from schemas.record_headers import (
    JWT_PATTERN,
    PSEUDONYM_PATTERN,
    DeadLetterHeaders,
    DeliveryHeaders,
    NoticeHeaders,
    ReceiptClaims,
    ReceiptHeaders,
    ReceiptJoseHeader,
)
from schemas.topics import DEFAULT_NAMESPACE, NAMESPACE_PATTERN

VERSION: Final = "0.1.0"
ENVELOPE_CONTENT_TYPE: Final = "application/vnd.sgb.envelope+json"
RECEIPT_CONTENT_TYPE: Final = "application/jwt"
KAFKA_BINDING: Final = "0.5.0"
_REF = "#/components/schemas/{model}"


MODELS: Final[tuple[type[BaseModel], ...]] = (
    SealedEnvelope,
    DeliveryHeaders,
    Notice,
    NoticeHeaders,
    ReceiptHeaders,
    ReceiptJoseHeader,
    ReceiptClaims,
    DeadLetterHeaders,
)


def component_schemas() -> dict[str, Any]:
    """Every model's JSON Schema, refs pointing at #/components/schemas (validation mode: what a reader checks)."""
    _, top = models_json_schema([(model, "validation") for model in MODELS], ref_template=_REF)
    schemas: dict[str, Any] = top["$defs"]
    return dict(sorted(schemas.items()))


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF.format(model=name)}


def _messages() -> dict[str, Any]:
    return {
        "sealedEnvelope": _envelope_message(),
        "notice": _notice_message(),
        "receipt": _receipt_message(),
        "deadLetter": _dead_letter_message(),
    }


def _envelope_message() -> dict[str, Any]:
    return {
        "name": "SealedEnvelope",
        "title": "One recipient's sealed projection",
        "summary": "HPKE-sealed to the recipient agency's key (`suite` says how); signed by the broker (Ed25519).",
        "contentType": ENVELOPE_CONTENT_TYPE,
        "headers": _ref("DeliveryHeaders"),
        "payload": _ref("SealedEnvelope"),
        "correlationId": {
            "location": "$message.header#/ce_id",
            "description": "The delivery id: receipts carry it as key and delivery_id claim",
        },
        "bindings": {
            "kafka": {
                "bindingVersion": KAFKA_BINDING,
                "key": {
                    "type": "string",
                    "pattern": PSEUDONYM_PATTERN,
                    "description": "HMAC-SHA256 (lowercase hex) of the child's subject_ref under the broker's "
                    "Kafka key secret: one child's deliveries share a partition, so stay in order, and "
                    "the key reveals nothing without the secret",
                },
            }
        },
    }


def _notice_message() -> dict[str, Any]:
    return {
        "name": "Notice",
        "title": "The broker's withdrawal, correction or erasure of a delivery",
        "summary": "Signed by the broker (Ed25519, its own prefix), not encrypted: ids and a reason code only. The "
        "consumer removes the delivery, keeps a tombstone, and sends a withdrawn or erased receipt.",
        "contentType": NOTICE_CONTENT_TYPE,
        "headers": _ref("NoticeHeaders"),
        "payload": _ref("Notice"),
        "bindings": {
            "kafka": {
                "bindingVersion": KAFKA_BINDING,
                "key": {
                    "type": "string",
                    "pattern": PSEUDONYM_PATTERN,
                    "description": "The key of the delivery it names, so it follows that delivery on its partition",
                },
            }
        },
    }


def _receipt_message() -> dict[str, Any]:
    return {
        "name": "Receipt",
        "title": "Signed receipt for one delivery",
        "summary": "A compact JWS (JWT); its header and claims are ReceiptJoseHeader and ReceiptClaims.",
        "contentType": RECEIPT_CONTENT_TYPE,
        "headers": _ref("ReceiptHeaders"),
        "payload": {
            "type": "string",
            "pattern": JWT_PATTERN,
            "description": "ASCII compact JWT",
            "x-jwt-header": _ref("ReceiptJoseHeader"),
            "x-jwt-claims": _ref("ReceiptClaims"),
        },
        "bindings": {
            "kafka": {
                "bindingVersion": KAFKA_BINDING,
                "key": {
                    "type": "string",
                    "description": "The delivery id: all receipts for a delivery share a partition",
                },
            }
        },
    }


def _dead_letter_message() -> dict[str, Any]:
    return {
        "name": "DeadLetter",
        "title": "A record the agency's consumer could never deliver",
        "summary": "The inbox record's value, byte for byte; the reason is in the headers.",
        "contentType": "application/octet-stream",
        "headers": _ref("DeadLetterHeaders"),
        "payload": {
            "type": "string",
            "format": "binary",
            "description": "Usually a SealedEnvelope that failed to verify, open or validate; any bytes",
        },
        "bindings": {
            "kafka": {
                "bindingVersion": KAFKA_BINDING,
                "key": {"type": ["string", "null"], "description": "The inbox record's key, unchanged"},
            }
        },
    }


def _parameters() -> dict[str, Any]:
    return {
        "namespace": {
            "default": DEFAULT_NAMESPACE,
            "examples": [DEFAULT_NAMESPACE],
            "description": f"Deployment namespace, {NAMESPACE_PATTERN}: names, groups and ACLs never cross namespaces",
        },
        "agency": {"examples": ["csc-example-mash"], "description": f"A registered agency id, {AGENCY_ID_PATTERN}"},
    }


def _channels() -> dict[str, Any]:
    both = {
        "namespace": {"$ref": "#/components/parameters/namespace"},
        "agency": {"$ref": "#/components/parameters/agency"},
    }
    return {
        "inbox": {
            "address": "{namespace}.inbox.{agency}",
            "title": "An agency's inbox",
            "parameters": both,
            "description": "Only the broker's relay writes and only that agency's consumer reads (ACLs). A "
            "record is published only after its decision is in the decision log.",
            "messages": {
                "sealedEnvelope": {"$ref": "#/components/messages/sealedEnvelope"},
                "notice": {"$ref": "#/components/messages/notice"},
            },
        },
        "receipts": {
            "address": "{namespace}.receipts",
            "title": "Receipts from every agency",
            "parameters": {"namespace": both["namespace"]},
            "messages": {"receipt": {"$ref": "#/components/messages/receipt"}},
        },
        "deadLetters": {
            "address": "{namespace}.dlq.{agency}",
            "title": "An agency's dead letters",
            "parameters": both,
            "description": "Written by that agency's consumer; read by its operators.",
            "messages": {"deadLetter": {"$ref": "#/components/messages/deadLetter"}},
        },
    }


def _operation(action: str, channel: str, message: str, summary: str, group: str | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "action": action,
        "channel": {"$ref": f"#/channels/{channel}"},
        "summary": summary,
        "messages": [{"$ref": f"#/channels/{channel}/messages/{message}"}],
    }
    if group is not None:
        group_id = {"type": "string", "pattern": group}
        operation["bindings"] = {"kafka": {"bindingVersion": KAFKA_BINDING, "groupId": group_id}}
    return operation


def _operations() -> dict[str, Any]:
    namespace = NAMESPACE_PATTERN[1:-1]
    return {
        "relayDelivery": _operation(
            "send",
            "inbox",
            "sealedEnvelope",
            "The broker's relay publishes a sealed delivery (idempotent producer, acks=all)",
        ),
        "consumeDelivery": _operation(
            "receive",
            "inbox",
            "sealedEnvelope",
            "An agency's consumer verifies, opens and validates it, hands it on, then commits and sends a receipt",
            group=f"^{namespace}\\.consumer\\.{PARTNERSHIP_ID_PATTERN[1:-1]}\\.{AGENCY_ID_PATTERN[1:-1]}$",
        ),
        "sendReceipt": _operation("send", "receipts", "receipt", "An agency's consumer says delivered or acknowledged"),
        "recordReceipt": _operation(
            "receive",
            "receipts",
            "receipt",
            "The gateway verifies a receipt and records it in the decision log",
            group=f"^{namespace}\\.relay$",
        ),
        "parkDeadLetter": _operation(
            "send",
            "deadLetters",
            "deadLetter",
            "An agency's consumer parks a record it can never deliver, and carries on",
        ),
    }


def _servers() -> dict[str, Any]:
    scram = [{"$ref": "#/components/securitySchemes/scram"}]
    return {
        "production": {
            "host": "{bootstrap}",
            "protocol": "kafka-secure",
            "security": scram,
            "description": "SASL_SSL: TLS to the brokers (SGB_KAFKA_CA_FILE names the CA) and SCRAM-SHA-512",
            "variables": {
                "bootstrap": {
                    "description": "host:port of a bootstrap broker",
                    "examples": ["kafka-1.partnership.example:9093"],
                }
            },
        },
        "development": {
            "host": "127.0.0.1:{port}",
            "protocol": "kafka",
            "security": scram,
            "description": "SASL_PLAINTEXT on loopback: the local stack (python -m devstack up); never in production",
            "variables": {"port": {"description": "The stack's Kafka port (SGB_KAFKA_BOOTSTRAP)"}},
        },
    }


def document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document (a JSON-ready dict)."""
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Safeguarding information-sharing broker: Kafka",
            "version": VERSION,
            "description": "Sealed deliveries to agency inboxes, signed receipts back, and dead letters. Every "
            "principal is one SCRAM user with least-privilege ACLs (broker/partnership/kafka_access).",
        },
        "servers": _servers(),
        "channels": _channels(),
        "operations": _operations(),
        "components": {
            "schemas": component_schemas(),
            "messages": _messages(),
            "parameters": _parameters(),
            "securitySchemes": {
                "scram": {
                    "type": "scramSha512",
                    "description": "One SCRAM-SHA-512 principal per agency consumer, one for the relay; over TLS in "
                    "production",
                }
            },
        },
    }


def text() -> str:
    """The document as committed in docs/asyncapi.json."""
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(text())
