"""A new API token is shown once with a copy button: clicking it puts the token on the
clipboard (read back here) and says "Copied.", and the copied token opens the API."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from sms_service.core.db import transaction
from sms_service.core.settings import Settings
from sms_service.web.app import create_app
from tests.browser.conftest import screenshot
from tests.helpers.live_server import live_server
from tests.helpers.people import PASSWORD, add_staff

pytestmark = pytest.mark.browser


@pytest.fixture
def clipboard_page(browser: Browser) -> Iterator[Page]:
    # The clipboard is the browser's to grant; a person grants it by using the page.
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def test_the_copy_button_puts_the_new_token_on_the_clipboard(
    clipboard_page: Page, settings: Settings, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    page = clipboard_page
    with transaction(sessions) as session:
        add_staff(session, "sam@example.org", "staff")
    with live_server(create_app(settings, engine=engine)) as base:
        page.goto(base + "/admin/login")
        page.fill("#email", "sam@example.org")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.goto(base + "/admin/account")
        page.fill("#token-name", "reporting script")
        page.click("button:has-text('Create a token')")
        token = page.locator("#new-token").inner_text().strip()
        assert len(token) > 20
        expect(page.locator("#copy-result")).to_have_text("")
        page.click("#copy-token")
        expect(page.locator("#copy-result")).to_have_text("Copied.")
        assert page.evaluate("navigator.clipboard.readText()") == token
        screenshot(page, "token-copied")

        stats = httpx.get(base + "/api/stats", headers={"Authorization": f"Bearer {token}"})
        assert stats.status_code == 200
        page.reload()  # shown once only
        expect(page.locator("#new-token")).to_have_count(0)
