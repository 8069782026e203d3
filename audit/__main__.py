"""``python -m audit``: the verifier and export command line."""

from audit.cli import app

app(prog_name="python -m audit")
