"""UI defects found in review, each pinned over HTTP on the real gateway (its OPA decides every dry run).

- a second press of the guided form's Send (a double click, a resubmitted page) answers with the
  first receipt, as the page promises, not with a 409 "already used with a different body";
- an error page never shows a database driver's message (its SQL, parameters, hosts or tables), and a
  503 page gives the phone route for a referral that cannot wait, as the API's 503 answers do;
- the session cookie lives only as long as the browser: closing a shared browser without signing out
  does not leave the next person signed in as the last;
- Sign out ends the session on the server even when the person's role was revoked meanwhile, so a
  later re-grant does not sign the browser back in.
"""

from __future__ import annotations

import asyncio
import html
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlmodel import Session

from broker.partnership.cli import issue_token
from broker.partnership.grants import change_access
from broker.partnership.keys import load_broker_keys
from broker.partnership.registry import Registry, load_registry, save_registry
from broker.ui.form_types import sendable
from broker.ui.policy_pack import PolicyPack
from broker.ui.sessions import UiSession
from devstack.partnership import LocalPartnership
from tests.broker.conftest import AUDIENCE, Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.people import Person
from tests.ui.form_walk import sign_in, walk

pytestmark = pytest.mark.stack

HV, SCHOOL, HOUSING = "health-visiting-fenmere", "school-oakfield-primary", "housing-brookside"
POLL = 0.1
_INPUT = re.compile(r"<input\b[^>]*>")
_ATTR = re.compile(r'(\w[\w:-]*)="([^"]*)"')


def _hidden(page: str) -> dict[str, str]:
    """The hidden inputs of a page, as a browser posts them back."""
    found: dict[str, str] = {}
    for tag in _INPUT.findall(page):
        attrs = {k: html.unescape(v) for k, v in _ATTR.findall(tag)}
        if attrs.get("type") == "hidden" and "name" in attrs:
            found[attrs["name"]] = attrs.get("value", "")
    return found


async def test_a_second_press_of_send_answers_with_the_first_receipt(
    gateway_factory: GatewayFactory,  # noqa: F811
    partnership: LocalPartnership,
    opa_url: str,
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    token = issue_token(partnership.agency_keys(HV), role="practitioner", audience=AUDIENCE, subject="walker-01")
    csrf = await sign_in(gateway.client, token)
    types = sendable(await PolicyPack(opa_url, timeout=5).types(), gateway.registry, HV)
    form = next(t for t in types if t.rules.catalogue_id == "M01")
    preview, _ = await walk(gateway.client, csrf, types, form, "health_community")
    assert "What each recipient would get" in preview
    posted = {**_hidden(preview), "go": "send"}  # exactly what the check page's Send button posts

    first = await gateway.client.post("/ui/submit/send", data=posted)
    assert first.status_code == 200, first.text
    fresh = ("<h1>Sent</h1>", "<h1>Held: not shared with anyone yet</h1>", "<h1>Not shared with anyone</h1>")
    assert any(h in first.text for h in fresh), first.text[-1500:]
    again = await gateway.client.post("/ui/submit/send", data=posted)
    assert again.status_code == 200, again.text[-1500:]
    assert "<h1>Already sent</h1>" in again.text
    notification_id = posted["notification_id"]
    assert notification_id in first.text and notification_id in again.text


async def test_an_error_page_does_not_show_the_database_drivers_message(
    gateway_factory: GatewayFactory,  # noqa: F811
    sqlite_url: str,
) -> None:
    gateway = await gateway_factory()
    dsl = Person(gateway, SCHOOL, "dsl", "dsl-test-01")
    try:
        await dsl.sign_in()
        engine = create_engine(sqlite_url)
        with engine.begin() as db:  # the session table is gone: every signed-in page fails in the driver
            db.execute(text("ALTER TABLE ui_session RENAME TO ui_session_gone"))
        engine.dispose()
        answer = await dsl.page("GET", "/ui/decisions")
    finally:
        await dsl.close()
    assert answer.status_code == 503, answer.text
    main = answer.text.split('<main id="main">', 1)[1]
    for leaked in ("SQL", "sqlite", "ui_session", "parameters", "OperationalError"):
        assert leaked not in main, f"the error page shows the driver's {leaked!r}: {main[:600]}"
    assert "Code: log_unavailable" in main
    assert "telephone the children's social care front door" in html.unescape(main)
    assert answer.headers["Cache-Control"] == "no-store"


async def test_the_session_cookie_ends_with_the_browser(gateway_factory: GatewayFactory) -> None:  # noqa: F811
    gateway = await gateway_factory()
    dsl = Person(gateway, SCHOOL, "dsl", "dsl-test-01")
    try:
        signed_in = await dsl.try_sign_in()
    finally:
        await dsl.close()
    assert signed_in.status_code == 303, signed_in.text
    (cookie,) = [c for c in signed_in.headers.get_list("set-cookie") if c.startswith("__Host-sgb_session=")]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite", "path"} <= attributes, cookie
    assert not attributes & {"max-age", "expires"}, f"a persistent session cookie: {cookie}"


def _signed(gateway: Gateway, registry: Registry, action: str) -> Registry:
    keys = load_broker_keys(gateway.partnership.broker_keys_dir)
    return change_access(
        registry,
        action=action,  # type: ignore[arg-type]
        agency_id=HOUSING,
        role="dsl",
        by="ops-admin-07",
        signing_key=keys.signing_key,
        key_id=keys.signing_key_id,
        now=datetime.now(UTC),
    )


async def _housing_dsl_granted(
    gateway_factory: GatewayFactory,  # noqa: F811
    partnership: LocalPartnership,
    tmp_path: Path,
) -> tuple[Gateway, Path, Registry]:
    """A gateway watching its own copy of the registry, in which housing was just granted a DSL."""
    path = tmp_path / "registry.json"
    path.write_bytes(partnership.registry_file.read_bytes())
    gateway = await gateway_factory(registry_file=path, registry_poll_seconds=POLL)
    granted = _signed(gateway, load_registry(path), "grant")
    save_registry(granted, path)
    assert await _housing_dsl_read(gateway, 200) == 200
    return gateway, path, granted


async def _housing_dsl_read(gateway: Gateway, want: int) -> int:
    """A housing DSL's API read, polled (up to 10 s) until the registry in use answers `want`."""
    for _ in range(100):
        token = gateway.token(HOUSING, role="dsl", subject="housing-lead-01")
        got = (await gateway.client.get("/v1/decisions", headers={"Authorization": f"Bearer {token}"})).status_code
        if got == want:
            break
        await asyncio.sleep(POLL)
    return got


def _sessions(gateway: Gateway) -> int:
    with Session(gateway.engine) as db:
        return int(db.execute(select(func.count()).select_from(UiSession)).scalar_one())


async def test_sign_out_ends_the_session_even_after_the_role_was_revoked(
    gateway_factory: GatewayFactory,  # noqa: F811
    partnership: LocalPartnership,
    tmp_path: Path,
) -> None:
    gateway, path, granted = await _housing_dsl_granted(gateway_factory, partnership, tmp_path)
    dsl = Person(gateway, HOUSING, "dsl", "housing-lead-01")
    try:
        await dsl.sign_in()
        assert _sessions(gateway) == 1
        revoked = _signed(gateway, granted, "revoke")
        save_registry(revoked, path)
        assert await _housing_dsl_read(gateway, 401) == 401

        out = await dsl.page("POST", "/ui/signout")
        assert out.status_code == 303 and out.headers["location"] == "/ui/signin"
        assert _sessions(gateway) == 0, "the session outlived Sign out"

        save_registry(_signed(gateway, revoked, "grant"), path)  # the grant comes back
        assert await _housing_dsl_read(gateway, 200) == 200
        after = await dsl.page("GET", "/ui/decisions")
        assert after.status_code == 303 and after.headers["location"] == "/ui/signin", "signed back in"
    finally:
        await dsl.close()


async def test_sign_out_needs_the_forms_token_and_ends_the_session_on_the_server(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    dsl = Person(gateway, SCHOOL, "dsl", "dsl-test-01")
    try:
        await dsl.sign_in()
        assert dsl.ui is not None
        cookie = dsl.ui.cookies["__Host-sgb_session"]
        forged = await dsl.ui.post("/ui/signout", data={"csrf_token": "from-another-site"})
        assert forged.status_code == 403, forged.text
        assert (await dsl.page("GET", "/ui/decisions")).status_code == 200
        out = await dsl.page("POST", "/ui/signout")
        assert out.status_code == 303, out.text
        assert _sessions(gateway) == 0
        dsl.ui.cookies.set("__Host-sgb_session", cookie, domain="gateway")  # a copy kept from before
        replayed = await dsl.page("GET", "/ui/decisions")
        assert replayed.status_code == 303 and replayed.headers["location"] == "/ui/signin"
    finally:
        await dsl.close()


async def test_a_role_revoked_and_granted_back_does_not_revive_a_session_left_open(
    gateway_factory: GatewayFactory,  # noqa: F811
    partnership: LocalPartnership,
    tmp_path: Path,
) -> None:
    """Nobody used the browser while the role was revoked, so no request saw it; the re-grant must not
    hand the old session back its office (a colleague may be using that browser now)."""
    gateway, path, granted = await _housing_dsl_granted(gateway_factory, partnership, tmp_path)
    dsl = Person(gateway, HOUSING, "dsl", "housing-lead-01")
    try:
        await dsl.sign_in()
        assert (await dsl.page("GET", "/ui/decisions")).status_code == 200
        revoked = _signed(gateway, granted, "revoke")
        save_registry(revoked, path)
        assert await _housing_dsl_read(gateway, 401) == 401
        save_registry(_signed(gateway, revoked, "grant"), path)
        assert await _housing_dsl_read(gateway, 200) == 200
        revived = await dsl.page("GET", "/ui/decisions")
        assert revived.status_code == 303 and revived.headers["location"] == "/ui/signin", "the old session lived"
        await dsl.sign_in()  # a new sign-in, after the change, is let in
        assert (await dsl.page("GET", "/ui/decisions")).status_code == 200
    finally:
        await dsl.close()
