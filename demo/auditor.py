"""An auditor checks the demo's decision log against a checkpoint an agency kept, with the commands the
partnership's IG lead runs: the broker's public keys and the agency's witness keys as the operator hands
them over, the agency's kept checkpoint as its own consumer prints it, then `python -m audit verify`.

The checkpoint comes from the agency's ledger, outside the broker's database: an insider who rewrote
the log and its own checkpoints could not make it agree with a copy they cannot reach.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from demo.site import DemoSite


def check_against_kept_checkpoint(site: DemoSite, console: Console, *, agency: str, name: str) -> None:
    """Run the auditor's commands for `agency`'s kept checkpoint; stop the demo if the log does not pass."""
    out = site.root / "for-the-auditor"
    ledger = site.root / f"ledger-{agency}.db"
    note = out / f"{agency}.checkpoint"
    keys = _run("broker.partnership.cli", "broker-public-keys", "--dir", site.partnership.broker_keys_dir, "--out", out)
    registry = site.partnership.registry_file
    printed = _run("broker.partnership.cli", "witness-keys", "--registry", registry, "--out", out / "witnesses")
    _run("consumers", "checkpoint", "--agency", agency, "--ledger", ledger, "--out", note)
    public_keys = [word for line in keys.splitlines() if line.startswith("--public-key ") for word in line.split()]
    # Every key of the agency's witness history, as `witness-keys` prints them: a checkpoint it kept
    # before a rotation carries its old key's cosignature.
    own = f"--witness-key {agency}="
    witness = [word for line in printed.splitlines() if line.startswith(own) for word in line.split()]
    verify = ["--db", f"sqlite:///{site.root / 'broker.db'}", *public_keys, "--checkpoint", str(note), *witness]
    said = _run("audit", "verify", *verify)
    entries = re.match(r"OK (\d+) entries", said)
    kept = re.search(r"extends the witnessed checkpoint at size (\d+), cosigned by " + re.escape(agency), said)
    if entries is None or kept is None:
        raise RuntimeError(f"the log does not pass the auditor's check against {agency}'s checkpoint: {said}")
    console.print(
        f"✓ an auditor's check: `python -m audit verify` passes the log's {entries[1]} entries, which extend the "
        f"checkpoint of {kept[1]} entries that {name} kept in its own ledger and cosigned; to run it yourself:"
    )
    # Printed whole, not wrapped at the console's width: an IG lead copies it.
    console.print(
        f"  python -m audit verify {shlex.join(verify)}",
        soft_wrap=True,
        highlight=False,
    )


def _run(module: str, *args: str | Path) -> str:
    command = [sys.executable, "-m", module, *map(str, args)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603 - our own CLIs
    if done.returncode != 0:
        raise RuntimeError(f"{shlex.join(command)} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout
