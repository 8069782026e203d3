"""Timings are refused by name when they would make the relay or the clock sweep spin, wait backwards, or
destroy every held share at once."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from broker.settings import BrokerSettings


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SGB_RELAY_POLL_SECONDS", "0"),
        ("SGB_RELAY_IDLE_POLL_SECONDS", "0"),
        ("SGB_RELAY_GATHER_SECONDS", "-0.1"),
        # The held shares' expiry and the clock sweep: 0 would destroy every held share at once, or spin.
        ("SGB_HOLD_EXPIRY_HOURS", "0"),
        ("SGB_CLOCK_CHECK_SECONDS", "0"),
    ],
)
def test_a_timing_that_would_spin_a_loop_or_expire_every_hold_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as raised:
        BrokerSettings()
    assert [error["loc"] for error in raised.value.errors()] == [(variable.removeprefix("SGB_").lower(),)]


def test_the_default_timings_and_no_gather_window_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SGB_RELAY_POLL_SECONDS", raising=False)
    monkeypatch.delenv("SGB_RELAY_IDLE_POLL_SECONDS", raising=False)
    monkeypatch.setenv("SGB_RELAY_GATHER_SECONDS", "0")
    settings = BrokerSettings()
    assert (settings.relay_poll_seconds, settings.relay_idle_poll_seconds, settings.relay_gather_seconds) == (
        0.25,
        5.0,
        0.0,
    )
