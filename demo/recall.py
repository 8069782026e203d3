"""The two ways the demo's senders take back what they sent: a withdrawal, and a correction that replaces it.

Both go through the gateway's API as an agency's own system would, and wait for each recipient's
consumer to confirm, with a signed receipt, that it removed what it had.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from broker.partnership.cli import issue_token
from demo.site import AUDIENCE, DemoSite, decided_by

# The missing child was seen later at the railway station: her social worker corrects the report
# rather than withdraw it and send another, so the log links the two (`superseded_by`).
CORRECTED_LOCATION = "Fenmere railway station (fictional)"


def withdraw(site: DemoSite, receipts: list[dict[str, Any]], console: Console) -> None:
    """The police find their notice to the school was about the wrong pupil and withdraw it from every inbox."""
    receipt = next(r for r in receipts if "(M35)" in r["title"])
    answer = _post(site, receipt, "withdrawal", json={"reason": "wrong_person"})
    _show_recall(
        site, receipt, answer, f"Withdrawn by the sender (about the wrong person): {receipt['title']}", console
    )


def correct(site: DemoSite, receipts: list[dict[str, Any]], console: Console) -> None:
    """Children's social care corrects its missing-child report: the correction is decided afresh and
    sent, and the first report is withdrawn from every inbox it reached, naming its replacement."""
    receipt = next(r for r in receipts if "(M20)" in r["title"])
    first = receipt["notification"]
    corrected = {
        **first,
        "notification_id": str(uuid.uuid4()),
        "created_at": datetime.now(UTC).isoformat(),
        "payload": {**first["payload"], "last_known_location": CORRECTED_LOCATION},
    }
    answer = _post(site, receipt, "correction", json=corrected, key=corrected["notification_id"])
    replacement = {"title": f"{receipt['title']}, corrected", "sender": receipt["sender"], **answer["replacement"]}
    _show_decisions(replacement, console)
    _show_recall(
        site,
        receipt,
        answer["corrected"],
        f"Corrected by the sender (last seen elsewhere): {receipt['title']}",
        console,
    )
    shared = {r["delivery_id"] for r in replacement["recipients"] if r["outcome"].startswith("share")}
    site.wait_for(
        lambda: (
            {i["delivery_id"] for i in site.notification(replacement)["recipients"] if i["status"] == "delivered"}
            >= shared
        ),
        what="the correction's deliveries",
        timeout=60,
    )
    console.print(
        f"[green]✓[/green] the correction delivered to {_count(len(shared), 'recipient')}; "
        f"the sender's view of the first now says: {_statuses(site, receipt)}"
    )


def _post(
    site: DemoSite, receipt: dict[str, Any], action: str, *, json: dict[str, Any], key: str | None = None
) -> dict[str, Any]:
    token = issue_token(site.partnership.agency_keys(receipt["sender"]), role="agency_system", audience=AUDIENCE)
    headers = {"Authorization": f"Bearer {token}"} | ({"Idempotency-Key": key} if key else {})
    response = httpx.post(
        f"{site.url}/v1/notifications/{receipt['notification_id']}/{action}", json=json, headers=headers, timeout=10
    )
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def _show_decisions(receipt: dict[str, Any], console: Console) -> None:
    table = Table(title=f"Decided afresh: {receipt['title']}")
    for column in ("recipient", "outcome", "decided by"):
        table.add_column(column, overflow="fold")
    for recipient in receipt["recipients"]:
        table.add_row(recipient["agency_id"], recipient["outcome"], decided_by(recipient))
    console.print(table)


def _show_recall(
    site: DemoSite, receipt: dict[str, Any], recalled: dict[str, Any], title: str, console: Console
) -> None:
    """What each recipient was told, once every consumer sent a notice has confirmed it."""
    sent = {d["delivery_id"] for d in recalled["deliveries"] if d["now"] == "notice sent"}

    def confirmed() -> bool:
        return all(
            any(e["kind"] == "withdrawal_confirmed" for e in item["events"])
            for item in site.notification(receipt)["recipients"]
            if item["delivery_id"] in sent
        )

    site.wait_for(confirmed, what="withdrawal receipts", timeout=60)
    table = Table(title=title)
    for column in ("recipient", "was", "now", "sender's view", "log, after the decision"):
        table.add_column(column, overflow="fold")
    status = {item["delivery_id"]: item for item in site.notification(receipt)["recipients"]}
    for d in recalled["deliveries"]:
        item = status[d["delivery_id"]]
        table.add_row(
            d["agency_id"], d["was"], d["now"], item["status"], ", ".join(e["kind"] for e in item["events"][1:])
        )
    console.print(table)
    if sent:
        whose = "its" if len(sent) == 1 else "their"
        console.print(
            f"[green]✓[/green] {_count(len(sent), 'recipient consumer')} removed it from {whose} inbox, "
            "kept a tombstone and sent a signed receipt"
        )


def _statuses(site: DemoSite, receipt: dict[str, Any]) -> str:
    return ", ".join(f"{i['agency_id']} {i['status']}" for i in site.notification(receipt)["recipients"])


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
