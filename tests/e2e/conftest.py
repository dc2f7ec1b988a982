"""Browser tests of the dashboard: the real app on loopback, driven in Debian's Chromium.

One server (SQLite, migrated, users alice (admin) and victor (viewer), a day of runs and
alerts in each state) and one Chromium (headless, a fresh profile) serve the whole
module; each test gets a new tab with no cookies. Without /usr/bin/chromium the tests
are skipped, with the reason, except in CI (CI=true), where that is a failure.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import BrowserContext, ConsoleMessage, Dialog, async_playwright

from api_support import running_api
from browser_support import Site, Tab
from web_support import seed
from wfmon.storage import open_database

CHROMIUM = Path(os.environ.get("WFMON_TEST_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--no-sandbox",  # root in a container
    "--disable-gpu",
    "--disable-background-networking",  # a closed network: no update or safe-browsing calls
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives Chromium (/usr/bin/chromium) with Playwright"
    )


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    problem = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests cannot run in CI: {problem}")
    pytest.skip(problem)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    require_chromium()
    tmp = tmp_path_factory.mktemp("site")
    db = await open_database(f"sqlite:///{tmp / 'data' / 'wfmon.db'}")
    try:
        # Targets are never reached: runs are recorded, not executed (port 9 is closed).
        async with running_api(db, tmp, "http://127.0.0.1:9") as harness:
            yield Site(harness, await seed(harness, hours=6))
    finally:
        await db.dispose()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BrowserContext]:
    require_chromium()
    profile = tmp_path_factory.mktemp("chromium-profile")
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=ARGS,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(5000)
        try:
            yield context
        finally:
            await context.close()


@pytest_asyncio.fixture(loop_scope="module")
async def tab(browser: BrowserContext, site: Site) -> AsyncIterator[Tab]:
    await browser.clear_cookies()
    page = await browser.new_page()
    found = Tab(page, site)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            found.errors.append(f"{message.text} ({message.location.get('url', '')})")

    async def on_dialog(dialog: Dialog) -> None:
        found.dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("console", on_console)
    page.on("pageerror", lambda error: found.errors.append(f"page error: {error}"))
    page.on("dialog", on_dialog)
    try:
        yield found
    finally:
        await page.close()
