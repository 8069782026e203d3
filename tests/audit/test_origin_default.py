"""One name for the log in its checkpoints unless a deployment gives another: a checkpoint that
`python -m audit checkpoint` or `export` signs with its default origin is one the gateway and the
agencies' witnesses take for this log's, not a foreign note (it was "safeguarding-broker/decision-log"
while the gateway and the consumers said "sgb.decision-log")."""

from __future__ import annotations

import typer.core
import typer.main

import audit
from audit.cli import app
from broker.settings import BrokerSettings
from consumers.settings import ConsumerSettings


def test_the_audit_commands_the_gateway_and_the_consumers_default_to_one_origin() -> None:
    assert BrokerSettings.model_fields["log_origin"].default == audit.DEFAULT_ORIGIN
    assert ConsumerSettings.model_fields["log_origin"].default == audit.DEFAULT_ORIGIN
    command = typer.main.get_command(app)
    assert isinstance(command, typer.core.TyperGroup)
    defaults = {
        name: next(p.default for p in command.commands[name].params if p.name == "origin")
        for name in ("checkpoint", "export")
    }
    assert defaults == {"checkpoint": audit.DEFAULT_ORIGIN, "export": audit.DEFAULT_ORIGIN}
