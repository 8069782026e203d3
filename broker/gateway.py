"""`python -m broker.gateway`: run the gateway under uvicorn."""

from __future__ import annotations

import typer
import uvicorn

from broker import logs

cli = typer.Typer(add_completion=False)


@cli.command()
def main(
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int = 1,
    ssl_certfile: str | None = None,
    ssl_keyfile: str | None = None,
    log_level: str = "info",
) -> None:
    """Serve the gateway; settings come from SGB_* environment variables."""
    log_config = logs.configure(log_level.upper())
    uvicorn.run(
        "broker.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        log_config=log_config,
        access_log=False,
    )


if __name__ == "__main__":
    cli()
