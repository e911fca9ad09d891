"""A lead uses the dashboard in a real browser (headless Chromium): signs in with a
one-time link, sees the queue, opens a transcript, searches, reclassifies and reads a
chart. Each step leaves a screenshot in the artifacts folder; with
SUPPORTBOT_UPDATE_SCREENSHOT=1 the transcript's also becomes docs/dashboard.png (the
README's picture).

Selenium blocks, so each browser step runs in a thread while the event loop serves the
dashboard.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from bot.store.db import Database
from bot.store.models import AuditEntry, Ticket
from tests.browser.stack import Dashboard, running_dashboard

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "dashboard.png"
T = TypeVar("T")


class Lead:
    """The browser, driven step by step, with a screenshot after each."""

    def __init__(self, driver: WebDriver, artifacts: Path, prefix: str) -> None:
        self.driver = driver
        self.artifacts = artifacts
        self.prefix = prefix
        self.shots: dict[str, Path] = {}

    async def do(self, step: Callable[[WebDriver], T], shot: str) -> T:
        """Run `step` in a thread, then save the page as `{prefix}-{shot}.png`."""
        result = await asyncio.to_thread(step, self.driver)
        path = self.artifacts / f"{self.prefix}-{shot}.png"
        await asyncio.to_thread(self.driver.save_screenshot, str(path))
        self.shots[shot] = path
        return result


def _text(driver: WebDriver, css: str) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, css).text


def _wait_for(driver: WebDriver, css: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 15).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css))
    )


def _click(driver: WebDriver, css: str, then: str) -> None:
    """Click the element at `css` and wait until the next page shows `then`."""
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, css).click()
    _wait_for(driver, then)


async def test_a_lead_signs_in_reads_searches_reclassifies_and_sees_a_chart(
    db: Database, chromium: WebDriver, artifacts: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    async with running_dashboard(db) as stack:
        charged, export = stack.ticket("I was charged"), stack.ticket("The export button")
        zebra = stack.ticket("Our zebra account")
        lead = Lead(chromium, artifacts, _run_name(db))
        link = await stack.login_link(display_name="Lee")

        def open_link(driver: WebDriver) -> str:
            driver.get(link)
            _wait_for(driver, "#queue")
            return driver.page_source

        queue = await lead.do(open_link, "1-queue")
        assert chromium.current_url == f"{stack.url}/"
        assert f'id="ticket-{charged}"' in queue
        assert f'id="ticket-{zebra}"' not in queue  # another company's workspace

        def open_transcript(driver: WebDriver) -> str:
            _click(driver, f'#ticket-{charged} a[href$="/tickets/{charged}"]', "#messages")
            return _text(driver, "#messages")

        messages = await lead.do(open_transcript, "2-transcript")
        assert "I was charged twice for my March invoice" in messages
        assert await _audit_shown(chromium, "ticket.escalated")

        def search(driver: WebDriver) -> str:
            _click(driver, 'nav a[href$="/tickets"]', "#search")
            box = driver.find_element(By.ID, "search")
            box.clear()
            box.send_keys("export button")
            box.submit()
            _wait_for(driver, "#count")
            return driver.page_source

        found = await lead.do(search, "3-search")
        assert "1 ticket matching" in _text(chromium, "#count")
        assert f'id="ticket-{export}"' in found
        assert f'id="ticket-{charged}"' not in found

        def reclassify(driver: WebDriver) -> tuple[str, str, str]:
            driver.get(f"{stack.url}/tickets/{charged}")
            _wait_for(driver, "#reclassify")
            Select(driver.find_element(By.ID, "r-category")).select_by_value("account")
            Select(driver.find_element(By.ID, "r-urgency")).select_by_value("high")
            driver.find_element(By.CSS_SELECTOR, "#reclassify button[type=submit]").click()
            _wait_for(driver, "#flash")
            return _text(driver, "#flash"), _text(driver, "#category"), _text(driver, "#audit")

        flash, category, audit = await lead.do(reclassify, "4-reclassified")
        assert flash == f"Ticket #{charged} reclassified."
        assert category == "account"
        assert "ticket.reclassified" in audit
        assert "slack:U_LEAD" in audit
        assert chromium.current_url == f"{stack.url}/tickets/{charged}?done=reclassified"

        def analytics(driver: WebDriver) -> int:
            _click(driver, 'nav a[href$="/analytics"]', "svg")
            return len(driver.find_elements(By.CSS_SELECTOR, "main svg rect"))

        bars = await lead.do(analytics, "5-analytics")
        assert bars > 0
        problems = _console_problems(chromium)
        await _assert_stored(stack, charged)
    assert problems == [], problems  # no CSP violation, no failed request, no script error
    for shot in lead.shots.values():
        assert shot.stat().st_size > 10_000, shot  # a page was drawn, not a blank
    if os.environ.get("SUPPORTBOT_UPDATE_SCREENSHOT") == "1":
        DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(lead.shots["2-transcript"], DOCS_SCREENSHOT)


async def _audit_shown(driver: WebDriver, action: str) -> bool:
    return action in await asyncio.to_thread(_text, driver, "#audit")


async def _assert_stored(stack: Dashboard, ticket_id: int) -> None:
    """The reclassification is the desk's: stored on the ticket and audited."""
    from sqlalchemy import select

    async with stack.app.database.sessions() as session:
        ticket = await session.get_one(Ticket, ticket_id)
        actions = await session.scalars(
            select(AuditEntry.action).where(AuditEntry.target == f"ticket:{ticket_id}")
        )
        audited = list(actions)
    assert (ticket.category, ticket.urgency) == ("account", "high")
    assert "ticket.reclassified" in audited


def _console_problems(driver: WebDriver) -> list[str]:
    """What the browser's console complained about (CSP refusals, 404s, errors)."""
    entries = driver.get_log("browser")
    return [entry["message"] for entry in entries if entry.get("level") in ("SEVERE", "WARNING")]


def _run_name(db: Database) -> str:
    """Screenshots of the SQLite and the PostgreSQL run side by side, not overwritten."""
    return "postgresql" if db.url.startswith("postgresql") else "sqlite"
