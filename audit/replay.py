"""Replay: re-decide logged decisions under another policy revision and list what would flip.

Every decision keeps the policy input it was made on (:class:`audit.models.PolicyInputRecord`:
names, data classes, codes, never a value). A replay hands those inputs, for a period, to the OPA
binary with another policy directory and compares each recipient's new outcome with the logged one.
The log is only read: nothing is written, so a replay can be run by an IG lead as often as a
proposed policy change needs. OPA runs as a local process (`opa eval`), never over the network.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import subprocess
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import Session, col

from audit.canonical import encoded
from audit.errors import AuditError
from audit.models import Entry, PolicyInputRecord
from schemas.policy_bundle import SERVE_FLAGS, TEST_MODULES, bundle_digest

DEFAULT_ENTRYPOINT = "safeguarding/decision/decision"


class ReplayError(AuditError):
    """The replay could not run: no OPA binary, a policy that does not compile, an unreadable registry."""


def input_row(entries: Sequence[Entry], document: dict[str, Any]) -> dict[str, Any]:
    """The row recording what the policy was asked, for the decided `entries` it produced (in order).

    The document is encoded once, for its digest and for storage alike (`audit.canonical.Encoded`):
    the row is for a Core insert of `PolicyInputRecord`'s table (`audit.insert_later`).
    """
    document_text = encoded(document)
    return {
        "first_seq": entries[0].seq,
        "notification_id": entries[0].notification_id,
        "seqs": [e.seq for e in entries],
        "digest": hashlib.sha256(document_text.text.encode("utf-8")).hexdigest(),
        "document": document_text,
    }


INPUT_TABLE = PolicyInputRecord.__table__  # type: ignore[attr-defined]
"""The table `input_row`'s rows go in."""


def notification_decided(engine: Engine, notification_id: str) -> bool:
    """Whether a decision under `notification_id` is kept (the table's unique index allows one)."""
    with engine.connect() as connection:
        found = connection.execute(
            select(INPUT_TABLE.c.first_seq).where(INPUT_TABLE.c.notification_id == notification_id).limit(1)
        ).first()
    return found is not None


@dataclass(frozen=True)
class Flip:
    """One recipient whose outcome the other policy changes."""

    seq: int
    notification_id: str
    recipient_agency: str
    message_type: str
    was: str
    was_rules: tuple[str, ...]
    now: str
    now_rules: tuple[str, ...]


@dataclass
class ReplayReport:
    decisions: int = 0
    notifications: int = 0
    logged_under: set[str] = field(default_factory=set)
    # Of `logged_under`, the revisions that name the replayed policy itself, hashed with its tests, as
    # gateways logged it before OPA was started without them (`SERVE_FLAGS`): the same rules, not
    # another revision.
    hashed_with_tests: set[str] = field(default_factory=set)
    flips: list[Flip] = field(default_factory=list)
    rule_changes: int = 0  # same outcome, another deciding rule

    def by_rule(self) -> Counter[tuple[str, str]]:
        """How many flips, by the rule that decided before and the one that decides now."""
        return Counter((",".join(f.was_rules) or "-", ",".join(f.now_rules) or "-") for f in self.flips)


def replay(
    session: Session,
    *,
    policies: Path,
    registry: dict[str, Any],
    opa: str = "opa",
    since: str | None = None,
    until: str | None = None,
    entrypoint: str = DEFAULT_ENTRYPOINT,
) -> ReplayReport:
    """Re-decide every kept input whose decisions were recorded in [since, until) and compare."""
    records = _records(session, since, until)
    report = ReplayReport(notifications=len(records))
    if not records:
        return report
    answers = decide_all(opa, policies, registry_data(registry), [r.document for r in records], entrypoint)
    for record, answer in zip(records, answers, strict=True):
        entries = {e.seq: e for e in session.execute(select(Entry).where(col(Entry.seq).in_(record.seqs))).scalars()}
        for index, seq in enumerate(record.seqs):
            entry = entries.get(seq)
            if entry is None or entry.notification_id != record.notification_id:
                raise ReplayError(f"the input kept at entry {record.first_seq} names entry {seq}, not its decision")
            report.decisions += 1
            report.logged_under.add(entry.policy_revision or "-")
            now, now_rules = _outcome(answer, index)
            was_rules = tuple(entry.deciding_rules)
            if now != entry.outcome:
                flip = Flip(
                    seq, entry.notification_id, entry.recipient_agency, entry.message_type,
                    entry.outcome, was_rules, now, now_rules,
                )  # fmt: skip
                report.flips.append(flip)
            elif now_rules != was_rules:
                report.rule_changes += 1
    _, served, with_tests = _digests(policies)
    # A directory without tests (the served policy written out, a candidate copied bare) has one digest.
    if with_tests != served:
        report.hashed_with_tests = {r for r in report.logged_under if _logged_digest(r) == with_tests[:16]}
    return report


def _logged_digest(revision: str) -> str | None:
    """The bundle digest part of a logged revision (`schemas.policy_bundle.recorded_revision`)."""
    _, at, rest = revision.partition("@")
    return rest.partition("+")[0] if at else None


def _records(session: Session, since: str | None, until: str | None) -> list[PolicyInputRecord]:
    statement = select(PolicyInputRecord).join(Entry, col(Entry.seq) == col(PolicyInputRecord.first_seq))
    if since is not None:
        statement = statement.where(col(Entry.recorded_at) >= since)
    if until is not None:
        statement = statement.where(col(Entry.recorded_at) < until)
    return list(session.execute(statement.order_by(col(PolicyInputRecord.first_seq))).scalars())


def _outcome(answer: dict[str, Any], index: int) -> tuple[str, tuple[str, ...]]:
    """A recipient's outcome and deciding rules; errors about the whole input decide every recipient."""
    errors = answer.get("errors") or []
    if errors:
        return "no_share", tuple(dict.fromkeys(e["rule"] for e in errors))
    decided = answer["recipients"][index]
    return decided["outcome"], tuple(dict.fromkeys(r["rule"] for r in decided.get("decided_by", [])))


def registry_data(registry: dict[str, Any]) -> dict[str, Any]:
    """What the gateway pushes to OPA at `data.registry`, from a registry file's content."""
    try:
        agencies = {a_id: {"type": a["type"], "name": a["name"]} for a_id, a in registry["agencies"].items()}
        return {"revision": "replay", "partnership_id": registry["partnership_id"], "agencies": agencies}
    except (KeyError, TypeError, AttributeError) as exc:
        raise ReplayError(f"the registry file lacks {exc}: give the partnership's registry.json") from exc


def decide_all(
    opa: str, policies: Path, registry: dict[str, Any], documents: list[dict[str, Any]], entrypoint: str
) -> list[dict[str, Any]]:
    """Every input decided by `policies`, in one `opa eval` (the policy loads once)."""
    rule = "data." + entrypoint.strip("/").replace("/", ".")
    query = f"[d | some doc in data.sgb_replay.inputs; d := {rule} with input as doc]"
    with tempfile.TemporaryDirectory(prefix="sgb-replay-") as tmp:
        data_file = Path(tmp) / "replay.json"
        data_file.write_text(json.dumps({"sgb_replay": {"inputs": documents}, "registry": registry}))
        command = [
            opa,
            "eval",
            "--format",
            "json",
            *SERVE_FLAGS,
            "--data",
            str(policies),
            "--data",
            str(data_file),
            query,
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)  # noqa: S603 - the operator names the OPA binary; no shell
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ReplayError(f"could not run OPA ({opa}): {exc}") from exc
    if done.returncode != 0:
        raise ReplayError(f"OPA refused the policies in {policies}: {done.stderr.strip()[:1000]}")
    try:
        answers: list[dict[str, Any]] = json.loads(done.stdout)["result"][0]["expressions"][0]["value"]
    except (KeyError, IndexError, ValueError) as exc:
        raise ReplayError("OPA gave no decisions for the inputs") from exc
    if len(answers) != len(documents):
        raise ReplayError(f"OPA decided {len(answers)} of {len(documents)} inputs")
    return answers


def policy_files(policies: Path) -> list[Path]:
    """The Rego modules of a policy directory as OPA serves it: its tests left out (`TEST_MODULES`)."""
    return [p for p in sorted(policies.rglob("*.rego")) if _served(p)]


def _served(module: Path) -> bool:
    return not fnmatch.fnmatch(module.name, TEST_MODULES)


def bundle_of(policies: Path) -> tuple[str, str]:
    """The policy's own revision name and the content digest of a policy directory."""
    revision, served, _ = _digests(policies)
    return revision, served


def _digests(policies: Path) -> tuple[str, str, str]:
    """The revision name, the served digest and the digest with tests, from one read of the directory:
    read twice, a policy changed in between would be named by two different versions of itself."""
    modules = {p: p.read_text(encoding="utf-8") for p in sorted(policies.rglob("*.rego"))}
    config = _config(policies)
    served = [text for path, text in modules.items() if _served(path)]
    revision = str(config.get("revision", "-"))
    return revision, bundle_digest(served, config), bundle_digest(list(modules.values()), config)


def _config(policies: Path) -> dict[str, Any]:
    config_file = policies / "safeguarding" / "config" / "data.json"
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReplayError(f"no policy data at {config_file}") from exc
    if not isinstance(config, dict):
        raise ReplayError(f"the policy data at {config_file} is not a JSON object")
    return config
