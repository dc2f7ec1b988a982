"""The dashboard's browser tests' tab: a Playwright page with its console watched."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from playwright.async_api import Page, expect

from api_support import PASSWORD, Harness
from web_support import Seeded


@dataclass
class Site:
    harness: Harness
    seeded: Seeded

    @property
    def url(self) -> str:
        return self.harness.url


@dataclass
class Tab:
    """A browser tab and what its console said."""

    page: Page
    site: Site
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.site.url + path

    async def log_in(self, path: str = "/", username: str = "alice") -> None:
        """Open `path`, get sent to the login form, log in, land back on `path`."""
        page = self.page
        await page.goto(self.url(path))
        await expect(page).to_have_url(re.compile(r"/login\?next="))
        await page.get_by_label("Username").fill(username)
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Log in").click()
        await expect(page).to_have_url(self.url(path))

    async def live(self) -> None:
        """Wait for the live feed of the page to be connected."""
        await expect(self.page.locator("#live")).to_have_attribute("data-state", "live")

    def assert_clean(self) -> None:
        assert self.errors == [], "console errors (CSP violations show here too)"
        assert self.dialogs == [], "a dialog opened: some text ran as a script"
