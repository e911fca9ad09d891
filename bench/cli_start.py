"""CLI cold start: `supportbot --help` and `supportbot config` as fresh processes,
against naive stand-ins in the same run.

Each command runs N times (default 10) as a new process, in an empty temporary folder
(no `.env`) with no SUPPORTBOT_/SLACK_/DISCORD_/DEEPSEEK_/DATABASE_URL variables, the
commands taking turns so a load change on a shared machine hits them all alike. One
untimed warm-up round runs first (the files are then in the page cache: "cold" means
a fresh interpreter, not a cold disk). The stand-ins: `python -c pass` (the floor any
Python command pays) and `python -c "import slack_bolt, discord, sqlalchemy"` (what a
CLI that imports its platform SDKs and the database layer up front pays before doing
anything).

    .venv/bin/python bench/cli_start.py [--runs 10] [--check]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_MS = 300.0
_SCRUB = ("SUPPORTBOT_", "SLACK_", "DISCORD_", "DEEPSEEK_", "DATABASE_URL")
_SCRIPT = Path(sys.executable).with_name("supportbot")
SUPPORTBOT = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "adapters"]
COMMANDS = {
    "supportbot --help": [*SUPPORTBOT, "--help"],
    "supportbot config": [*SUPPORTBOT, "config"],
    "stand-in: import slack_bolt, discord, sqlalchemy": [
        sys.executable,
        "-c",
        "import slack_bolt, discord, sqlalchemy",
    ],
    "floor: python -c pass": [sys.executable, "-c", "pass"],
}
_ROOTS = (
    "import adapters.cli, sys; "
    "roots = {m.split('.')[0] for m in sys.modules} - sys.stdlib_module_names; "
    "print(' '.join(sorted(r for r in roots if not r.startswith('_'))))"
)


def _time_once(cmd: list[str], cwd: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, check=False)  # noqa: S603
    elapsed = (time.perf_counter() - start) * 1000
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {done.returncode}:\n{done.stderr.decode()}")
    return elapsed


def _p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="Runs per command (default 10).")
    parser.add_argument("--check", action="store_true", help="Exit 1 if a target is missed.")
    args = parser.parse_args()
    if args.runs < 2:
        parser.error("--runs must be at least 2")

    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUB)}
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    with tempfile.TemporaryDirectory(prefix="cli-start-") as cwd:
        roots = subprocess.run(  # noqa: S603
            [sys.executable, "-c", _ROOTS], cwd=cwd, env=env, capture_output=True, check=True
        )
        for cmd in COMMANDS.values():  # warm-up: page cache, .pyc files
            _time_once(cmd, cwd, env)
        for _ in range(args.runs):
            for name, cmd in COMMANDS.items():
                times[name].append(_time_once(cmd, cwd, env))

    print(
        f"{args.runs} fresh processes each, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    )
    print(f"non-stdlib imports of `import adapters.cli`: {roots.stdout.decode().strip()}")
    width = max(map(len, COMMANDS))
    print(f"{'command'.ljust(width)}  {'min':>7}  {'median':>7}  {'p95':>7}")
    for name, found in times.items():
        print(
            f"{name.ljust(width)}  {min(found):5.0f} ms  {statistics.median(found):5.0f} ms  "
            f"{_p95(found):5.0f} ms"
        )
    failed = False
    for name in ("supportbot config", "supportbot --help"):  # the --help verdict last
        median = statistics.median(times[name])
        verdict = "PASS" if median <= TARGET_MS else "FAIL"
        failed |= verdict == "FAIL"
        print(f"{name} cold median = {median:.0f} ms (target <= {TARGET_MS:.0f} ms): {verdict}")
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    sys.exit(main())
