"""Fictional people of the test partnership acting on a real gateway: by API token, and signed in to the UI."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import httpx

from broker.partnership.roles import AGENCY_SYSTEM
from broker.review import access
from broker.ui.forms import DEFAULT_ROLE
from tests.broker.conftest import Gateway
from tests.factories import school_referral

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
POLICE = {"agency_id": "police-fenmere", "role": "police_public_protection", "need_to_know": "investigate_crime"}
URGENT_RISK = {
    "immediate_significant_harm": True,
    "likely_significant_harm": True,
    "serious_harm_to_adult": False,
    "risk_to_others": False,
    "crime_suspected": True,
}
# What makes the policy hold a referral, ask for advice on it, or send it at once and review it after.
HELD: dict[str, dict[str, Any]] = {
    "needs_advice": {"sender_in_doubt": True},
    "hold_for_authorisation": {"lawful_basis": None},
    "share_urgent_review_after": {"risk": URGENT_RISK},
}


@dataclass
class Person:
    gateway: Gateway
    agency: str
    role: str
    subject: str | None
    ui: httpx.AsyncClient | None = field(default=None, repr=False)
    csrf: str = ""

    @property
    def user(self) -> str:
        return self.subject or f"{self.role}@{self.agency}"

    @property
    def user_ref(self) -> str:
        """The `sender.user_ref` a body of theirs carries: a person's token sends only as themselves
        (flow.check_sender); an agency system names whom it posts for."""
        return "ref-01" if self.role == AGENCY_SYSTEM or self.subject is None else self.subject

    @property
    def office(self) -> str | None:
        return self.gateway.registry.office_of(self.agency, self.role)

    @property
    def sends_as(self) -> str | None:
        """A body role this person may send as (None: they may not send)."""
        registry = self.gateway.registry
        agency = registry.agency(self.agency)
        kind = agency.type if agency is not None else ""
        allowed = access.sender_roles(self.role, registry.granted_roles(self.agency), agency_type=kind)
        usual = DEFAULT_ROLE.get(agency.type) if agency is not None else None  # the agency's everyday role
        return usual if usual in allowed else (sorted(allowed)[0] if allowed else None)

    def headers(self) -> dict[str, str]:
        token = self.gateway.token(self.agency, role=self.role, subject=self.subject)
        return {"Authorization": f"Bearer {token}"}

    async def api(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return await self.gateway.client.request(method, url, headers=self.headers(), **kwargs)

    def notification(self, outcome: str, *, agency: str | None = None, role: str | None = None) -> dict[str, Any]:
        """A referral to the police alone that the policy decides with `outcome`."""
        body = school_referral(recipients=[POLICE], **HELD.get(outcome, {}))
        body["sender"] = {
            "agency_id": agency or self.agency,
            "role": role or self.sends_as or "dsl",
            "user_ref": self.user_ref,
            "is_professional": True,
        }
        return body

    async def send(self, outcome: str, *, role: str | None = None) -> dict[str, Any]:
        response = await self.api("POST", "/v1/notifications", json=self.notification(outcome, role=role))
        assert response.status_code == 202, response.text
        (recipient,) = response.json()["recipients"]
        assert recipient["outcome"] == outcome, recipient
        return {"notification_id": response.json()["notification_id"], **recipient}

    async def try_sign_in(self) -> httpx.Response:
        # https: the session cookie is Secure; the ASGI transport never opens a socket either way.
        self.ui = self.ui or httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.gateway.app), base_url="https://gateway"
        )
        form = await self.ui.get("/ui/signin")
        token = self.gateway.token(self.agency, role=self.role, subject=self.subject)
        return await self.ui.post("/ui/signin", data={"csrf_token": _csrf(form.text), "token": token})

    async def sign_in(self) -> None:
        signed_in = await self.try_sign_in()
        assert signed_in.status_code == 303, signed_in.text
        assert self.ui is not None
        self.csrf = _csrf((await self.ui.get("/ui/decisions")).text)

    async def page(self, method: str, url: str, data: dict[str, str] | None = None) -> httpx.Response:
        assert self.ui is not None, "sign in first"
        if method == "GET":
            return await self.ui.get(url)
        return await self.ui.post(url, data={"csrf_token": self.csrf, **(data or {})})

    async def close(self) -> None:
        if self.ui is not None:
            await self.ui.aclose()
        self.ui = None  # signing in again opens a new browser

    async def opened(self, url: str) -> str:
        """The page at `url` as this person reads it, signed in for it alone (its HTML)."""
        await self.sign_in()
        try:
            shown = await self.page("GET", url)
        finally:
            await self.close()
        assert shown.status_code == 200, shown.text[-2000:]
        return shown.text


def _csrf(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no anti-forgery token on the page"
    return found.group(1)
