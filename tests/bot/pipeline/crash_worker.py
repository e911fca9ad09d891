"""A bot process for the crash test: the real app, replies appended to a file.

The file outlet keeps one line per outbox key, the way a platform that honours an
idempotency key would (Discord's enforce_nonce): a send repeated after a crash is
recorded as a repeat, not posted twice. Run: python -m tests.bot.pipeline.crash_worker
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from bot.app import SupportApp
from bot.config import load_settings
from bot.events import Platform, Reply


class FileOutlet:
    """Appends each reply to OUT_FILE, once per key; counts repeats in REPEATS_FILE."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._repeats = path.with_suffix(".repeats")
        self._seen = {json.loads(line)["key"] for line in self._lines()}

    def _lines(self) -> list[str]:
        return self._path.read_text().splitlines() if self._path.exists() else []

    async def deliver(self, reply: Reply) -> str | None:
        """Record the reply durably before saying it was sent."""
        await asyncio.sleep(0.01)  # a platform call takes a moment
        target = self._repeats if reply.key in self._seen else self._path
        with target.open("a") as out:
            out.write(json.dumps({"key": reply.key, "kind": reply.kind}) + "\n")
            out.flush()
            os.fsync(out.fileno())
        self._seen.add(reply.key)
        return f"file-{len(self._seen)}"


async def main() -> None:
    """Run until killed."""
    app = SupportApp(load_settings())
    app.attach(Platform.SLACK, FileOutlet(Path(os.environ["OUT_FILE"])))
    await app.start()
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
