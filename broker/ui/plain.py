"""Log text as a person reads it: the broker's own sentences (registry changes, refusals, recall
notices) name agencies by id, roles and offices by code and times in UTC ISO form, because the log
is evidence and keeps them canonical. The pages say the same thing with names, words and London time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from broker.ui import words as say

# The partnership's offices (broker.partnership.roles.Office) as people name them.
OFFICES = {
    "partnership_ig_lead": "the partnership's Information Governance lead",
    "partnership_caldicott_guardian": "the partnership's Caldicott Guardian",
}
_ISO_TIME = re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?")
_CHANGE = re.compile(r"\bchange #(\d+)")
# A code, never part of an agency id the registry no longer names ("gp" in "gp-willow-lane").
_CODE = re.compile(r"(?<![\w-])[a-z][a-z0-9]*(?:_[a-z0-9]+)*(?![\w-])")
# "a ig_lead may not do this": the article the log's sentence put before a role's code, which its
# words may need as "an" ("an Information Governance lead") or not at all (an office: "the ...").
_ARTICLE_CODE = re.compile(r"\b([Aa]n?) ([a-z][a-z0-9]*(?:_[a-z0-9]+)*)(?![\w-])")
# A recall notice's id: the recipient's copy carries it; the page says which notice without it.
_NOTICE_ID = re.compile(r"\s*\bnotice-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
# Why a sign-in link or token was refused, for the person holding it; every other reason means the
# text is not a token this partnership issued (cut short when copied, from elsewhere, altered).
SIGNIN_REFUSALS = {
    "replayed": "it has already been used. Each link signs in once: ask your agency for a new one.",
    "expired": "it has expired. Links last a few minutes: ask your agency for a new one.",
    "not_yet_valid": "it is not valid yet. Check your computer's clock, or ask your agency for a new one.",
    "lifetime_too_long": "it was made to last longer than this broker accepts. Ask your agency for a new one.",
}
NOT_ISSUED = "it is not a sign-in link or token your agency issued, or it was cut short when copied. Ask for a new one."
# "a dsl may not do this (audit, case_review)": the access table's actions, by their codes.
_MAY_NOT = re.compile(r"may not do this \(([a-z_]+(?:, [a-z_]+)*)\)")
_REFUSED = re.compile(r"^(GET|POST|PUT|PATCH|DELETE) (\S+): ([a-z_]+): (.+)$", re.S)


def _code(match: re.Match[str]) -> str:
    code = match.group(0)
    if code in OFFICES:
        return OFFICES[code]
    if code in say.ROLES:
        return say.ROLES[code]
    return code.replace("_", " ") if "_" in code else code


def _article(match: re.Match[str]) -> str:
    article, code = match.groups()
    if code in OFFICES:
        return OFFICES[code] if article.islower() else say.sentence(OFFICES[code])
    if code not in say.ROLES:
        return match.group(0)
    role = say.ROLES[code]
    fitting = "an" if role[:1].lower() in "aeio" else "a"
    return f"{fitting.capitalize() if article[:1].isupper() else fitting} {role}"


def plain(text: str | None, agencies: Mapping[str, str]) -> str:
    """`change #44: ops appointed the caldicott_guardian of csc-x as partnership_caldicott_guardian at
    2026-12-03T23:35:58+00:00` as `registry change no. 44: ops appointed the Caldicott Guardian of
    <name> as the partnership's Caldicott Guardian at 3 Dec 2026, 23:35 GMT`."""
    if not text:
        return ""
    refused = _REFUSED.match(text)
    if refused:  # "GET /ui/audit: forbidden: a dsl may not do this" leads with what was refused
        method, path, _code_name, rest = refused.groups()
        text = f"{say.sentence(rest.rstrip('.'))}; asked for {method} {path}"  # never ".;" (a reader saw one)
    text = _MAY_NOT.sub(lambda m: "may not " + " or ".join(say.ACTIONS.get(a, a) for a in m[1].split(", ")), text)
    text = _ISO_TIME.sub(lambda m: say.local_time(m.group(0)), text)
    text = _CHANGE.sub(r"registry change no. \1", text)
    text = _NOTICE_ID.sub("", text)
    # Longest first, so an id that starts another ("school-x" and "school-x-annex") is never cut short.
    for agency_id in sorted(agencies, key=len, reverse=True):
        text = re.sub(rf"(?<![\w-]){re.escape(agency_id)}(?![\w-])", agencies[agency_id], text)
    return _CODE.sub(_code, _ARTICLE_CODE.sub(_article, text))


# A recall's message opens with who did it, in the log's code ("Withdrawn by the agency system: "), which
# the page's line already says in words before it.
_RECALLED_BY = re.compile(r"^(?:Withdrawn|Corrected) by the [a-z ]+: ")


def recall_reason(message: str) -> str:
    """A withdrawal's or correction's reason, without the log's "Withdrawn by the <role>: " before it."""
    return _RECALLED_BY.sub("", message, count=1)


def who(event: Mapping[str, Any], agencies: Mapping[str, str]) -> str:
    """Who did something on a decision: a person by their reference, role and agency; an agency's
    system by its agency's name (its actor is a code: `agency_system@police-x`, or the agency id)."""
    actor, role, agency = event.get("actor"), event.get("actor_role"), event.get("actor_agency")
    if not actor:
        return "the broker"
    name = agencies.get(agency, agency) if agency else None
    role_words = say.option(role, say.ROLES) if role else None
    if role == "agency_system" and agency:
        # The system may name who at the agency pressed the button ("<agency id>-duty-worker").
        rest = str(actor).removeprefix(f"agency_system@{agency}").removeprefix(agency).strip("-@ ")
        return f"{rest.replace('-', ' ')}, through the system of {name}" if rest else f"the system of {name}"
    # Words, not brackets, around the role and agency: an agency's name may have brackets of its own.
    said = f"{actor}, {role_words}" if role_words else str(actor)
    return f"{said} at {name}" if name else said


def signin_refusal(
    reason: str,
    agencies: Mapping[str, str],
    role: str | None = None,
    agency: str | None = None,
    *,
    limit: timedelta | None = None,
) -> str:
    """Why a sign-in was refused, in words (the refusal's code is for the logs). A link made to last too
    long names the broker's limit, so whoever issues the next one knows how long it may last."""
    if reason == "role_not_granted" and role and agency:
        role_words = say.option(role, say.ROLES)
        return f"the partnership has not granted the role {role_words} to {agencies.get(agency, agency)}."
    if reason == "lifetime_too_long" and limit is not None:
        return (
            f"it was made to last longer than the {_span(limit)} this broker accepts. "
            "Ask your agency for a new one that lasts no longer."
        )
    return SIGNIN_REFUSALS.get(reason, NOT_ISSUED)


def _span(limit: timedelta) -> str:
    seconds = int(limit.total_seconds())
    count, unit = (seconds // 60, "minute") if seconds % 60 == 0 else (seconds, "second")
    return f"{count} {unit}" + ("" if count == 1 else "s")


# A deadline's description, as the policy's obligations write it: the duty, then its sources in
# brackets and the timescales' ids in the catalogue ("Decide within 1 working day [Doc, 3.1] (T01).").
# A clause may follow the sources ("...; the timing is partnership configuration."): it is the duty's.
_DUTY = re.compile(
    r"^(?P<duty>.+?)\s*\[(?P<sources>[^\[\]]+)\](?:\s*\((?P<ids>T\d+(?:, T\d+)*)\))?(?P<rest>;[^\[\]]+?)?\.?$", re.S
)


@dataclass(frozen=True)
class Duty:
    """What is due, and (apart, as a finding's source text is) where the source documents say so."""

    text: str
    source: str


# "(a LADO allegation at stage amm_record, in reply)": the stage a reply must carry, by its code.
_STAGE = re.compile(r"\bat stage ([a-z][a-z0-9]*(?:_[a-z0-9]+)*)")


def duty(description: str | None) -> Duty:
    """A deadline's description split into the duty a person acts on and its source, which would
    otherwise sit mid-sentence in brackets; a description of another shape is kept whole."""
    found = _DUTY.match(description or "")
    if found is None:
        return Duty(description or "", "")
    source, ids = found["sources"].strip(), found["ids"]
    if ids:
        source += f" (timescale{'s' if ',' in ids else ''} {ids})"
    said = _STAGE.sub(lambda m: f"at stage “{say.PAYLOAD_CHOICES.get(m[1], m[1].replace('_', ' '))}”", found["duty"])
    return Duty(said.rstrip(" .;,") + (found["rest"] or "").rstrip(" .") + ".", source)
