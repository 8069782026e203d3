"""Sign-in links for demo users of the review UI: a one-use agency token in a URL.

    python -m broker.ui.cli link --keys ./keys/school-oakfield-primary --agency school-oakfield-primary \
        --role dsl --user dsl-demo-01 --base-url http://127.0.0.1:8080

The link only opens a confirmation page; the token is burned when the person presses "Sign in",
so a mail scanner that follows the link cannot use it up. Demo people are invented: use role-style
ids such as `dsl-demo-01`, never a real person's name.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import urlencode

import typer

from broker.gateway import DEFAULT_HOST, DEFAULT_PORT
from broker.partnership.cli import _agency_keys, issue_token, run
from broker.partnership.options import AgencyOpt, AudienceOpt, KeysOpt, TokenRoleOpt, TtlOpt
from broker.partnership.roles import ROLES

app = typer.Typer(help=__doc__.splitlines()[0], no_args_is_help=True, add_completion=False)
AUDIENCE = "safeguarding-broker"
UserOpt = Annotated[str, typer.Option(help="sub: the person's staff id (fictional in demos)")]


def signin_link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/ui/signin?{urlencode({'token': token})}"


@app.command("link")
def link_cmd(
    keys: KeysOpt,
    agency: AgencyOpt,
    role: TokenRoleOpt,
    user: UserOpt,
    audience: AudienceOpt = AUDIENCE,
    base_url: Annotated[str, typer.Option(help="Where the broker is served")] = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}",
    ttl: TtlOpt = 300,
) -> None:
    """Print a sign-in link for one person."""
    if role not in ROLES:
        raise typer.BadParameter(f"use one of {sorted(ROLES)}", param_hint="--role")
    token = issue_token(
        _agency_keys(keys, agency), role=role, audience=audience, ttl=timedelta(seconds=ttl), subject=user
    )
    typer.echo(signin_link(base_url, token))


@app.command("token")
def token_cmd(
    keys: KeysOpt,
    agency: AgencyOpt,
    role: TokenRoleOpt,
    user: UserOpt,
    audience: AudienceOpt = AUDIENCE,
) -> None:
    """Print a token to paste into the sign-in page."""
    if role not in ROLES:
        raise typer.BadParameter(f"use one of {sorted(ROLES)}", param_hint="--role")
    typer.echo(issue_token(_agency_keys(keys, agency), role=role, audience=audience, subject=user))


if __name__ == "__main__":
    run(app)
