"""Walking the guided form over HTTP, as a browser would post it, answering only what it requires.

The answers come from the form's own derivation (`broker.ui.forms.steps_for`), so what is tested is
what the derivation promises: that answering only what it marks required gets every step accepted
and gives the policy everything its adequacy check looks for.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from broker.ui.form_fields import Field, Step
from broker.ui.form_types import FormType
from broker.ui.forms import NEED_TO_KNOW, steps_for

SAMPLE = {
    "text": "Fictional",
    "textarea": "Fictional account written for a test.",
    "lines": "Fictional",
    "number": "2",
    "date": "2016-05-01",
    "datetime-local": "2026-11-20T09:30",
}
# The envelope's answers a careful practitioner gives: no consent sought, for a recorded reason.
ENVELOPE = {
    "consent_status": "not_sought",
    "consent_giver": "parent_pr",
    "not_sought_reason": "risk_significant_harm",
    "parents_informed": "no",
    "reason_not_informed": "risk_significant_harm",
    "immediate_significant_harm": "no",
    "likely_significant_harm": "yes",
    "serious_harm_to_adult": "no",
    # A MARAC referral is made because the DASH assessment found high risk (tests/ui/test_form_risk.py asks otherwise).
    "da_high_risk_marac": "yes",
    "crime_suspected": "no",
    "risk_to_others": "no",
    "in_doubt": "sure",
    # Golden rule 5: nobody named must be kept from it (tests/ui/test_form_safety.py says otherwise).
    "withheld_any": "no",
    "subject_role": "child",
    "age_years": "9",
    "purpose_statement": "Please take this into account in your safeguarding work.",
}


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None, "no anti-forgery token on the page"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, token: str) -> str:
    """Open a session; returns the form's anti-forgery token."""
    page = await client.get("/ui/signin", params={"token": token})
    signed = await client.post("/ui/signin", data={"token": token, "csrf_token": csrf(page.text)})
    assert signed.status_code == 303, signed.text
    form = await client.get("/ui/submit")
    assert form.status_code == 200, form.text
    return csrf(form.text)


def _needed(step: Step) -> list[Field]:
    # Required inputs, and the inputs an object needs once it is required.
    needed_groups = {f.within for f in step.fields if f.within and f.required}
    return [f for f in step.fields if f.required or (f.sub_required and f.within in needed_groups)]


def _offers(field: Field, value: str) -> bool:
    # A question a type narrows (a child death notification is about the child who has died) is answered
    # from what it offers, as a person would.
    return field.kind not in ("select", "radio") or not field.choices or value in {v for v, _ in field.choices}


def _answer(field: Field) -> tuple[str, str]:
    if field.kind == "checkboxes":
        return f"{field.name}:{field.choices[0][0]}", "on"
    if field.kind in ("select", "radio") and field.choices:
        return field.name, field.choices[0][0]
    return field.name, SAMPLE.get(field.kind, "Fictional")


def fill(step: Step, answers: dict[str, str], page: str, *, first_agency: bool = True) -> None:
    """Answer what `step` requires that is not answered yet (choices the page offers for roles and
    agencies: the first agency offered is chosen too unless `first_agency` is false)."""
    if step.key == "recipients" and not first_agency:
        return
    if step.key == "recipients":
        found = re.search(r'name="to:([^"]+)" value="([^"]+)"', page)
        assert found is not None, "no agency offered"
        answers.setdefault(f"to:{found.group(1)}", found.group(2))
        answers.setdefault(f"ntk:{found.group(1)}", NEED_TO_KNOW[0][0])
        return
    # A parent who answered about consent (the walk's default giver) knows: the form refuses "no" then.
    parent_answered = answers.get("consent_status") in ("given_explicit", "refused", "withdrawn") and (
        answers.get("consent_giver", ENVELOPE["consent_giver"]) == "parent_pr"
    )
    for field in _needed(step):
        if field.name == "parents_informed" and parent_answered:
            answers.setdefault(field.name, "yes")
        elif field.name in ENVELOPE and _offers(field, ENVELOPE[field.name]):
            answers.setdefault(field.name, ENVELOPE[field.name])
        elif field.name == "sender_role":
            role = re.search(r'id="f-sender_role".*?<option value="([^"]+)"', page, re.S)
            assert role is not None, "no role offered"
            answers.setdefault("sender_role", role.group(1))
        elif field.name == "lawful_basis":
            # Consent is a basis only where someone answered about it: the form refuses it otherwise.
            answered = answers.get("consent_status") in ("given_explicit", "refused", "withdrawn")
            usable = [code for code, _ in field.choices if code != "consent" or answered]
            answers.setdefault("lawful_basis", usable[0])
        elif field.name not in answers:
            key, value = _answer(field)
            answers.setdefault(key, value)
    # Whose consent it is, once asked what they said; without consent or the parents' knowledge, the
    # form asks for the exception (GR4, GR2).
    for given, asked in (
        ("consent_status", "consent_giver"),
        ("consent_status", "not_sought_reason"),
        ("parents_informed", "reason_not_informed"),
    ):
        if given in answers:
            answers.setdefault(asked, ENVELOPE[asked])
    # Consent given covers the agencies ticked: every one chosen, unless `given` ticked some.
    chosen = [k[3:] for k in answers if k.startswith("to:")]
    consented = step.key == "consent" and answers.get("consent_status") == "given_explicit"
    if consented and not any(answers.get(f"consent_scope:{a}") for a in chosen):
        answers.update({f"consent_scope:{a}": "on" for a in chosen})


async def walk(
    client: httpx.AsyncClient,
    token: str,
    types: list[FormType],
    form: FormType,
    agency_type: str,
    given: dict[str, str] | None = None,
    seen: list[str] | None = None,
    on_details: dict[str, str] | None = None,
    *,
    first_agency: bool = True,
) -> tuple[str, dict[str, str]]:
    """Post every step with only the required answers (`given` ones as given, `on_details` ones only
    from the details step on, as a person answers them); returns the last page (the dry run's,
    unless a step came round again) and the answers, and adds each page on the way to `seen`."""
    answers: dict[str, str] = {"notification_id": "", "message_type": form.message_type, **(given or {})}
    page = (await client.get("/ui/submit")).text
    if seen is not None:
        seen.append(page)
    answers["notification_id"] = re.findall(r'name="notification_id" value="([^"]+)"', page)[0]
    steps = steps_for(types, form, answers, agency_type)
    for index in range(len(steps) - 1):
        if steps[index].key == "details":
            answers.update(on_details or {})
        # Facts answered on a step may make more of it required (the policy's `mandatory_when`).
        for _ in range(2):
            fill(steps_for(types, form, answers, agency_type)[index], answers, page, first_agency=first_agency)
        response = await client.post("/ui/submit", data={**answers, "csrf_token": token, "step": str(index)})
        page = response.text
        if seen is not None:
            seen.append(page)
        assert response.status_code == 200, f"{form.message_type}, step {steps[index].key}: {_errors(page)}"
    return page, answers


def _errors(page: str) -> Any:
    return re.findall(r'<li><a href="#f-[^"]+">([^<]+)</a></li>', page) or page[-2000:]
