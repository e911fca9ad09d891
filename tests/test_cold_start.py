"""`supportbot --help` and `supportbot config` start fast: the CLI imports no platform
SDK, database or model code until a command needs it (bench/cli_start.py times it).

Each check runs a fresh interpreter, since this test process has imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click

from bot.cli import PLATFORMS, forget
from bot.events import Platform
from tests.cli_runner import SUPPORTBOT, clean_env

# Import roots `supportbot --help` must not load: the platform SDKs and their HTTP stack,
# the database layer, the embedding model, and pydantic and asyncio (by then the
# settings models and the event loop are most of the start-up time).
NOT_FOR_HELP = {
    "slack_bolt",
    "slack_sdk",
    "discord",
    "aiohttp",
    "httpx",
    "sqlalchemy",
    "alembic",
    "aiosqlite",
    "asyncpg",
    "numpy",
    "wordllama",
    "pypdf",
    "apscheduler",
    "prometheus_client",
    "pydantic",
    "asyncio",
}
# `supportbot config` reads the settings (pydantic) and nothing that talks to anything.
NOT_FOR_CONFIG = NOT_FOR_HELP - {"pydantic"}

_MODULES_AFTER = """
import json, sys
from adapters.cli import main
sys.argv = ["supportbot", *sys.argv[1:]]
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def _modules_after(*args: str, cwd: Path) -> tuple[int, str, set[str]]:
    """Run `supportbot ARGS` in a fresh interpreter: exit code, stdout, modules loaded."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", _MODULES_AFTER, *args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report["code"], done.stdout, set(report["modules"])


def _roots(modules: set[str], banned: set[str]) -> list[str]:
    return sorted({name.split(".")[0] for name in modules} & banned)


def test_importing_the_cli_loads_no_sdk_database_or_model(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import adapters.cli, sys; print(' '.join(sys.modules))"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    modules = set(done.stdout.split())
    assert "adapters.cli" in modules
    assert _roots(modules, NOT_FOR_HELP) == []
    assert not {m for m in modules if m.startswith(("bot.app", "bot.store", "bot.config"))}


def test_help_lists_the_commands_and_loads_nothing_heavy(tmp_path: Path) -> None:
    code, out, modules = _modules_after("--help", cwd=tmp_path)
    assert code == 0
    for command in ("chat", "config", "costs", "db", "doctor", "eval", "forget", "kb", "run"):
        assert f"  {command} " in out
    assert _roots(modules, NOT_FOR_HELP) == []


def test_config_prints_core_and_platform_settings_without_sdks(tmp_path: Path) -> None:
    code, out, modules = _modules_after("config", cwd=tmp_path)
    assert code == 0
    names = {line.split()[0] for line in out.splitlines()}
    assert {"DEEPSEEK_API_KEY", "DATABASE_URL", "SLACK_BOT_TOKEN", "DISCORD_BOT_TOKEN"} <= names
    assert _roots(modules, NOT_FOR_CONFIG) == []
    assert not {m for m in modules if m.startswith(("bot.app", "bot.store", "bot.ops.doctor"))}


def test_the_console_script_help_exits_0(tmp_path: Path) -> None:
    done = subprocess.run(  # noqa: S603 - the installed console script
        [*SUPPORTBOT, "--help"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Commands:" in done.stdout
    assert "Run the bot on every platform whose tokens are set." in done.stdout


def test_forget_platform_choices_are_the_platforms() -> None:
    assert list(PLATFORMS) == [p.value for p in Platform]
    (option,) = [p for p in forget.params if p.name == "platform"]
    assert isinstance(option.type, click.Choice)
    # As the README spells it, and as click 8.2+ printed the enum's names before.
    assert option.type.convert("slack", option, None) == Platform.SLACK
    assert option.type.convert("DISCORD", option, None) == Platform.DISCORD
