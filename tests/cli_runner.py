"""Run the real `supportbot` command in a subprocess, as an operator would."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path

# The installed console script, as an operator runs it; `python -m adapters` where a
# test runs from a tree that was not installed.
_SCRIPT = Path(sys.executable).with_name("supportbot")
SUPPORTBOT = (str(_SCRIPT),) if _SCRIPT.exists() else (sys.executable, "-m", "adapters")

# Settings a developer's shell might export; a test starts from none of them.
_SCRUB = ("DEEPSEEK_", "SUPPORTBOT_", "SLACK_", "DISCORD_", "DATABASE_URL")


@dataclass(frozen=True)
class Outcome:
    """What the operator saw."""

    code: int
    stdout: str
    stderr: str


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment minus every supportbot setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUB)}
    env.update(extra)
    return env


async def run_cli(
    *args: str, cwd: Path, env: dict[str, str], stdin: str | None = None, within: float = 60.0
) -> Outcome:
    """Run `supportbot ARGS` and wait for it (the event loop keeps serving fakes)."""
    proc = await asyncio.create_subprocess_exec(
        *SUPPORTBOT,
        *args,
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(
        proc.communicate(stdin.encode() if stdin is not None else None), within
    )
    assert proc.returncode is not None
    return Outcome(proc.returncode, out.decode(), err.decode())
