"""Policy replay for the partnership's IG lead and Caldicott Guardian: `python -m audit replay` in a
browser. Re-decide a period's logged decisions under a candidate policy and list what would flip.

The candidates are the policy OPA serves now (snapshotted from OPA: the gateway has no policy
directory of its own, OPA may run elsewhere) and each subdirectory of `SGB_REPLAY_POLICIES`. The form
names a candidate from that list, never a path, so nobody can point OPA at a directory the operator
did not put there. Like the command, the page only reads the log.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlmodel import Session, col

import audit
from audit.canonical import format_time
from audit.errors import AuditError
from audit.replay import ReplayReport, bundle_of, replay
from broker.api.deps import LogDep, RegistryDep, RulesDep, SettingsDep
from broker.db.log import DecisionLog
from broker.review.views import title_words
from broker.settings import BrokerSettings
from broker.sharing.policy import opa_headers, partnership_modules
from broker.sharing.rules import RuleCatalogue
from broker.ui import words as say
from broker.ui.render import page
from broker.ui.routes import PostedDep, SessionDep, text
from broker.ui.sessions import UiSession
from schemas.policy_bundle import DATA_PATH, bundle_digest

router = APIRouter(prefix="/ui", include_in_schema=False)
# One `opa eval` holds every kept input of the period in memory at once: a quarter at most.
MAX_DAYS = 92
# A long list of flips is read by its groups first; the rows beyond this are counted, not shown.
MAX_ROWS = 500
CURRENT = "current"
# "/" cannot occur in a directory's name, so no candidate directory can pose as the served policy.
DIRECTORY = "dir/"
# Reading what OPA serves is a local call, but the modules come with their syntax trees.
SNAPSHOT_TIMEOUT = 10.0


@dataclass(frozen=True)
class Candidate:
    key: str  # what the form posts
    name: str
    revision: str | None  # name@bundlehash16; None when it cannot be replayed
    problem: str | None = None
    path: Path | None = None  # None: the policy OPA serves, snapshotted when replayed


async def _served(settings: BrokerSettings) -> tuple[list[str], dict[str, Any]]:
    """The Rego modules and policy data OPA serves now, as the gateway decides with them."""
    base = settings.opa_url.rstrip("/")
    try:
        timeout = aiohttp.ClientTimeout(total=SNAPSHOT_TIMEOUT)
        async with aiohttp.ClientSession(timeout=timeout, headers=opa_headers(settings.opa_token)) as http:
            async with http.get(f"{base}/v1/policies") as response:
                response.raise_for_status()
                listed = (await response.json()).get("result") or []
            async with http.get(f"{base}/v1/data/{'/'.join(DATA_PATH)}") as response:
                response.raise_for_status()
                config = (await response.json()).get("result")
    except (aiohttp.ClientError, TimeoutError, ValueError, AttributeError) as exc:
        raise AuditError(f"could not read the policy OPA serves: {type(exc).__name__}") from exc
    modules = [m["raw"] for m in partnership_modules(listed) if isinstance(m.get("raw"), str)]
    if not modules or not isinstance(config, dict):
        raise AuditError("OPA serves no policy bundle")
    return modules, config


def _snapshot(root: Path, modules: list[str], config: dict[str, Any]) -> None:
    """Write the served policy as a directory `opa eval` loads the same way OPA's server did."""
    for index, module in enumerate(modules):
        (root / f"module-{index:03d}.rego").write_text(module, encoding="utf-8")
    config_dir = root.joinpath(*DATA_PATH)
    config_dir.mkdir(parents=True)
    (config_dir / "data.json").write_text(json.dumps(config), encoding="utf-8")


def _current(served: tuple[list[str], dict[str, Any]] | AuditError) -> Candidate:
    name = "current (the policy OPA serves now)"
    if isinstance(served, AuditError):
        return Candidate(CURRENT, name, None, str(served))
    modules, config = served
    return Candidate(CURRENT, name, f"{config.get('revision', '-')}@{bundle_digest(modules, config)[:16]}")


def _configured(root: Path | None) -> list[Candidate]:
    if root is None:
        return []
    try:
        folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError as exc:
        return [Candidate(DIRECTORY, "SGB_REPLAY_POLICIES", None, f"cannot be read: {exc.strerror or exc}")]
    found = []
    for folder in folders:
        try:
            revision, digest = bundle_of(folder)
        except AuditError as exc:
            found.append(Candidate(DIRECTORY + folder.name, folder.name, None, str(exc), folder))
        else:
            found.append(Candidate(DIRECTORY + folder.name, folder.name, f"{revision}@{digest[:16]}", None, folder))
    return found


async def candidates(settings: BrokerSettings) -> tuple[list[Candidate], tuple[list[str], dict[str, Any]] | None]:
    """Every candidate, and the served policy as read for the first of them (replayed as listed)."""
    try:
        served: tuple[list[str], dict[str, Any]] | AuditError = await _served(settings)
    except AuditError as exc:
        served = exc
    configured = await asyncio.to_thread(_configured, settings.replay_policies)
    return [_current(served), *configured], None if isinstance(served, AuditError) else served


def _day(value: str, name: str, errors: dict[str, str]) -> date | None:
    if not value:
        errors[name] = "Choose a date."
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[name] = "Use a date like 2026-01-31."
        return None


def period(form: dict[str, str], errors: dict[str, str]) -> tuple[datetime, datetime] | None:
    """[start of the first day, end of the last day) in London, the days a person means."""
    first, last = _day(form["since"], "since", errors), _day(form["until"], "until", errors)
    if first is None or last is None:
        return None
    days = (last - first).days + 1
    if days < 1:
        errors["until"] = "The last day is before the first day (From)."
    elif days > MAX_DAYS:
        errors["until"] = f"The period is {days} days; replay at most {MAX_DAYS} days at a time."
    return None if "until" in errors else (say.local_day_start(first), say.local_day_end(last))


def _recorded(decision_log: DecisionLog, seqs: list[int]) -> dict[int, str]:
    with Session(decision_log.engine) as db:
        rows = db.execute(
            select(col(audit.Entry.seq), col(audit.Entry.recorded_at)).where(col(audit.Entry.seq).in_(seqs))
        )
        return {int(seq): str(at) for seq, at in rows.all()}


def _run(
    decision_log: DecisionLog, chosen: Candidate, served: tuple[list[str], dict[str, Any]] | None, **kwargs: Any
) -> tuple[ReplayReport, dict[int, str]]:
    """The replay, in a worker thread: it waits on `opa eval` and reads the whole period."""
    with tempfile.TemporaryDirectory(prefix="sgb-replay-current-") as tmp:
        policies = chosen.path
        if policies is None:
            if served is None:  # not reached: the served policy is offered only once it was read
                raise AuditError("could not read the policy OPA serves")
            policies = Path(tmp)
            _snapshot(policies, *served)
        with Session(decision_log.engine) as db:
            report = replay(db, policies=policies, **kwargs)
    return report, _recorded(decision_log, [f.seq for f in report.flips[:MAX_ROWS]])


def _rules(rules: RuleCatalogue, ids: tuple[str, ...] | str) -> list[dict[str, str]]:
    if isinstance(ids, str):  # a group's key: the rules joined by commas, "-" for none
        ids = () if ids == "-" else tuple(ids.split(","))
    return [{"rule": r, "title": title_words(r, rules.describe(r).title)} for r in ids]


def _result(report: ReplayReport, recorded: dict[int, str], rules: RuleCatalogue) -> dict[str, Any]:
    groups = sorted(report.by_rule().items(), key=lambda item: (-item[1], item[0]))
    return {
        "decisions": report.decisions,
        "notifications": report.notifications,
        "logged_under": sorted(report.logged_under),
        "hashed_with_tests": sorted(report.hashed_with_tests),
        "rule_changes": report.rule_changes,
        "flipped": len(report.flips),
        "groups": [{"was": _rules(rules, was), "now": _rules(rules, now), "count": n} for (was, now), n in groups],
        "flips": [
            {
                "seq": f.seq,
                "recorded_at": recorded.get(f.seq),
                "message_type": f.message_type,
                "recipient": f.recipient_agency,
                "was": f.was,
                "was_rules": _rules(rules, f.was_rules),
                "now": f.now,
                "now_rules": _rules(rules, f.now_rules),
            }
            for f in report.flips[:MAX_ROWS]
        ],
    }


def _show(
    request: Request,
    session: UiSession,
    settings: BrokerSettings,
    found: list[Candidate],
    form: dict[str, str],
    **context: Any,
) -> HTMLResponse:
    errors = context.setdefault("errors", {})
    return page(
        request,
        "replay.html",
        session,
        status_code=422 if errors else 200,
        candidates=found,
        form=form,
        configured=settings.replay_policies is not None,
        max_days=MAX_DAYS,
        max_rows=MAX_ROWS,
        **context,
    )


@router.get("/replay")
async def replay_form(request: Request, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    today = datetime.now(say.LOCAL_ZONE).date()
    form = {"policy": "", "since": (today - timedelta(days=29)).isoformat(), "until": today.isoformat()}
    found, _ = await candidates(settings)
    return _show(request, session, settings, found, form)


@router.post("/replay")
async def replay_run(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    registry: RegistryDep,
    decision_log: LogDep,
    rules: RulesDep,
    posted: PostedDep,
) -> HTMLResponse:
    form = {name: text(posted, name) for name in ("policy", "since", "until")}
    (found, served), errors = await candidates(settings), {}
    chosen = next((c for c in found if c.key == form["policy"] and c.revision is not None), None)
    if chosen is None:
        errors["policy"] = "Choose one of the listed policies that can be replayed."
    bounds = period(form, errors)
    if chosen is None or bounds is None:
        return _show(request, session, settings, found, form, errors=errors)
    try:
        report, recorded = await asyncio.to_thread(
            _run, decision_log, chosen, served,
            registry=registry.to_opa_data(), opa=settings.opa_bin,
            since=format_time(bounds[0]), until=format_time(bounds[1]),
        )  # fmt: skip
    except AuditError as exc:
        return _show(request, session, settings, found, form, failed=str(exc))
    await rules.refresh()
    result = _result(report, recorded, rules)
    return _show(request, session, settings, found, form, chosen=chosen, bounds=bounds, result=result)
