"""A parent texts that the baby is born and her name; staff correct the child from the inbox
in a real browser: the record and the timeline show the correction, and a bad date is refused."""

from __future__ import annotations

import re
from datetime import date, timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from sms_service.core.db import transaction
from sms_service.core.models import AuditLog, Child
from sms_service.core.settings import Settings
from sms_service.web.app import create_app
from tests.browser.conftest import screenshot
from tests.helpers.live_server import live_server
from tests.helpers.people import PASSWORD, add_caregiver, add_staff
from tests.helpers.texting import Phone

pytestmark = pytest.mark.browser

PARENT = "+12125550121"


def test_staff_correct_a_birth_date_a_parent_texted(
    page: Page, settings: Settings, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    born = date.today() - timedelta(days=4)
    with transaction(sessions) as session:
        add_staff(session, "sam@example.org", "staff")
        add_caregiver(session, phone=PARENT, child_age_days=-10, region=None)  # still expected
    news = f"My baby was born on {born.month}/{born.day}! Her name is Rosie"

    with live_server(create_app(settings, engine=engine)) as base:
        with httpx.Client(base_url=base) as client:
            Phone(client, PARENT).text(news)
        page.goto(base + "/admin/inbox")
        expect(page).to_have_url(re.compile(r"/admin/login\?next="))
        page.fill("#email", "sam@example.org")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.locator("a", has_text=news).click()
        expect(page.locator(".card").first).to_contain_text("(no name), due")
        page.click("h1 a")

        form = page.locator("form[action*='/children/']")
        form.locator("input[name=name]").fill("Rosie")
        form.locator("input[name=birth_date]").fill(born.isoformat())
        form.locator("button:has-text('Save child')").click()
        expect(page.locator(".flash.ok")).to_have_text(f"Saved: Rosie, born {born.isoformat()}.")
        expect(page.locator(".card").first).to_contain_text(f"Rosie, born {born.isoformat()}")
        expect(page.locator("input[name=name]")).to_have_value("Rosie")
        expect(page.locator("table.timeline")).to_contain_text("Staff action")
        screenshot(page, "child-correction-01-saved")

        # A date that is no date is refused at the form, and nothing changes.
        form.locator("input[name=birth_date]").fill("")
        form.locator("button:has-text('Save child')").click()
        expect(page.locator(".flash.error")).to_contain_text("pick the birth date")

    with sessions() as session:
        child = session.scalars(select(Child)).one()
        assert (child.name, child.birth_date, child.is_expected) == ("Rosie", born, False)
        assert session.scalars(select(AuditLog.actor)).all().count("sam@example.org") >= 1
