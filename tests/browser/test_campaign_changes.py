"""On a phone, staff duplicate a campaign, fix the copy with the live checker, and edit a
scheduled one; both changes are in the audit log."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from sms_service.core.db import transaction
from sms_service.core.models import Campaign, utcnow
from sms_service.core.settings import Settings
from sms_service.web.app import create_app
from tests.browser.conftest import screenshot
from tests.helpers.campaigns import EN, make_campaign
from tests.helpers.live_server import live_server
from tests.helpers.people import PASSWORD, add_caregiver, add_staff

pytestmark = pytest.mark.browser
LONG_ES = "Canten juntos hoy’ mientras se bañan; su voz es un regalo para su bebé. " * 2


def test_duplicate_and_edit_a_campaign_on_a_phone(
    browser: Browser, settings: Settings, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        add_staff(session, "ada@example.org", "admin")
        add_caregiver(session, region=None)
        add_caregiver(session, language="es", region=None)
        source_id = make_campaign(
            session, settings, times=[datetime(2031, 4, 7, 10, 0)], now=utcnow()
        ).id
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15_000)
    with live_server(create_app(settings, engine=engine)) as base:
        page.goto(f"{base}/admin/campaigns/{source_id}")
        page.fill("#email", "ada@example.org")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")

        # The menu folds on a phone and opens with its button.
        menu = page.locator(".menu-toggle")
        expect(page.locator("#admin-nav")).to_be_hidden()
        menu.click()
        expect(menu).to_have_attribute("aria-expanded", "true")
        expect(page.locator("#admin-nav a", has_text="Campaigns")).to_be_visible()
        screenshot(page, "10-phone-menu-open")
        menu.click()
        expect(page.locator("#admin-nav")).to_be_hidden()

        page.click("button:has-text('Duplicate')")
        expect(page.locator("h1")).to_contain_text("Copy of Week of the Young Child")
        expect(page.locator("h1 .badge")).to_have_text("draft")
        expect(page.locator("#results")).to_contain_text("No results yet")
        copy_id = int(page.url.rsplit("/", 1)[1])
        assert copy_id != source_id

        page.click("text=Edit")
        page.fill("#text_en_0", "Hi {child}, sing together")
        expect(page.locator("#check-text_en_0 .finding.error")).to_contain_text("placeholders")
        page.fill("#text_es_0", LONG_ES)
        expect(page.locator("#check-text_es_0 .segments")).to_have_text(
            re.compile(r"^3 texts \(Spanish uses special characters such as ’")
        )
        page.fill("#text_en_0", EN)
        expect(page.locator("#check-text_en_0 .finding.ok")).to_be_visible()
        screenshot(page, "11-phone-live-checker")
        page.fill("#text_es_0", "")  # the error is shown at the field it is about
        page.click("text=Save changes")
        expect(page.locator("#text_es_0-error")).to_have_text("message 1 needs a text in es")
        expect(page.locator("#text_es_0")).to_have_attribute("aria-invalid", "true")
        screenshot(page, "12-phone-error-at-field")
        page.fill("#name", "Spring songs")
        page.fill("#text_es_0", LONG_ES)
        page.click("text=Save changes")
        expect(page.locator(".flash.ok")).to_have_text("Campaign saved.")
        expect(page.locator("h1")).to_contain_text("Spring songs")
        expect(page.locator(".preview[data-language=es] .segments")).to_contain_text("3 texts")

        # The scheduled source is edited too, and stays scheduled.
        page.goto(f"{base}/admin/campaigns/{source_id}/edit")
        page.fill("#name", "Week of the Young Child (edited)")
        page.click("text=Save changes")
        expect(page.locator("#campaign-status")).to_have_text("scheduled")
        expect(page.locator("h1")).to_contain_text("(edited)")

        page.goto(f"{base}/admin/campaigns")
        expect(page.locator("tbody tr")).to_have_count(2)
        expect(page.locator("tbody")).to_contain_text("2031-04-07 10:00")
        page.goto(f"{base}/admin/audit")
        expect(page.locator("tbody")).to_contain_text("campaign.duplicate")
        expect(page.locator("tbody")).to_contain_text("campaign.update")
        screenshot(page, "13-phone-audit")
    context.close()
    with sessions() as session:
        assert session.get_one(Campaign, source_id).status == "scheduled"
