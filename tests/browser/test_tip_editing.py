"""An admin edits a tip in a real browser: the checker flags a deficit word as they type, they
fix it, save, and the page shows the new version beside what families received before."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from content.library import load_library
from sms_service.core.db import transaction
from sms_service.core.models import Tip as TipRow
from sms_service.core.settings import Settings
from sms_service.tips.sync import sync_library
from sms_service.web.app import create_app
from tests.browser.conftest import screenshot
from tests.helpers.live_server import live_server
from tests.helpers.people import PASSWORD, add_staff

pytestmark = pytest.mark.browser

TIP = "en-w000-your-face"
FIXED = (
    "{Child} loves your face most of all. During a feed, let your eyes meet and smile. "
    "Your face is the first picture your baby learns by heart."
)


def test_an_admin_edits_a_tip_with_the_checker_running(
    page: Page, settings: Settings, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        add_staff(session, "ada@example.org", "admin")
        sync_library(session, load_library())

    with live_server(create_app(settings, engine=engine)) as base:
        page.goto(base + "/admin/content")
        expect(page).to_have_url(re.compile(r"/admin/login\?next="))
        page.fill("#email", "ada@example.org")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.click(f"a[href='/admin/content/tips/{TIP}']")
        expect(page.locator("#tip-version")).to_have_text("1")
        expect(page.locator("#tip-size")).to_contain_text("2 texts at most (plain characters")

        text = page.locator("#tip-text")
        text.fill(
            "You should look at {child} during every feed. Your face is what your baby knows."
        )
        problem = page.locator("#findings-text .finding.error")
        expect(problem).to_contain_text("deficit framing 'You should'")
        expect(page.locator("#tip-preview")).to_have_text(
            "Little Moments: You should look at your baby during every feed. "
            "Your face is what your baby knows."
        )
        screenshot(page, "tip-edit-01-live-checker-error")

        text.fill(FIXED)
        expect(problem).to_have_count(0)
        expect(page.locator("#tip-preview")).to_contain_text("Your baby loves your face")
        page.click("#tip-save")

        expect(page.locator(".flash.ok")).to_have_text(f"Saved: {TIP} is now version 2.")
        expect(page.locator("#tip-version")).to_have_text("2")
        rows = page.locator("#tip-versions tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_contain_text("ada@example.org")
        expect(rows.nth(1)).to_contain_text("the tip files")
        screenshot(page, "tip-edit-02-saved")
    with sessions() as session:
        assert session.get_one(TipRow, TIP).text == FIXED
