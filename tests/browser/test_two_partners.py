"""Two partners on one service, end to end in a real browser.

Eastside and Westside each enroll families by texting their own keyword through the signed
webhook. Eastside's admin writes a local message and submits it; a network admin approves it;
the real campaign planner and dispatcher send it to the fake Twilio, from Eastside's own
number, to Eastside's families only. Each partner's staff see only their own families, inbox and
results.
"""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from jobs.campaign_planner import plan_campaigns
from sms_service.core.db import transaction
from sms_service.core.models import utcnow
from sms_service.core.settings import Settings
from sms_service.web.app import create_app
from tests.browser.conftest import screenshot
from tests.fakes.twilio_server import FakeTwilio
from tests.helpers.dispatch import dispatch_to_fake
from tests.helpers.live_server import live_server
from tests.helpers.partners import add_partner
from tests.helpers.people import PASSWORD, add_staff
from tests.helpers.settings import make_settings
from tests.helpers.texting import Phone

pytestmark = pytest.mark.browser

EAST_NUMBER = "+12125550188"  # Eastside's own sender
EAST_FAMILIES = {"+12125550301": "Ivy", "+12125550302": "Omar"}
WEST_FAMILIES = {"+12125550401": "Wren"}
LOCAL = "Our family playgroup meets Thursdays at 10 at the Eastside library. Come sing with us!"


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Quiet hours of one minute at midnight: the test may send at any time of day.
    return make_settings(database_url, SMS_TIPS_QUIET_HOURS="23:59-00:00")


def _enroll(client: httpx.Client, number: str, keyword: str, child: str) -> str:
    """Text the keyword and answer the questions; the last answer's reply."""
    phone = Phone(client, number)
    replies = [phone.text(answer) or "" for answer in (keyword, child, "8 months", "1")]
    return replies[-1]


def _sign_in(page: Page, base: str, email: str) -> None:
    page.context.clear_cookies()
    page.goto(base + "/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login\?next="))
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(base + "/admin/")


def test_two_partners_each_reach_and_see_only_their_own_families(
    page: Page, settings: Settings, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        east = add_partner(session, settings, "eastside", sender=EAST_NUMBER, EAST="en")
        west = add_partner(session, settings, "westside", WEST="en")
        add_staff(session, "ada@example.org", "admin")
        add_staff(session, "eve@example.org", "admin", partner_id=east.id)
        add_staff(session, "wes@example.org", "staff", partner_id=west.id)

    with FakeTwilio() as fake, live_server(create_app(settings, engine=engine)) as base:
        with httpx.Client(base_url=base) as client:
            for number, child in EAST_FAMILIES.items():
                confirmation = _enroll(client, number, "EAST", child)
                assert "You're signed up with Eastside Family Center!" in confirmation
            for number, child in WEST_FAMILIES.items():
                confirmation = _enroll(client, number, "WEST", child)
                assert "You're signed up with Westside Family Center!" in confirmation
            Phone(client, "+12125550301").text("Is the library open on Saturdays?")
            Phone(client, "+12125550401").text("Where can we find free books?")

        # Eastside's admin: its own two families and its own question, nothing of Westside.
        _sign_in(page, base, "eve@example.org")
        expect(page.locator(".who")).to_contain_text("Eastside Family Center admin")
        page.goto(base + "/admin/caregivers")
        rows = page.locator("table tbody tr")
        expect(rows).to_have_count(2)
        expect(page.locator("main")).to_contain_text("Ivy")
        expect(page.locator("main")).not_to_contain_text("Wren")
        page.goto(base + "/admin/inbox")
        expect(page.locator("nav .count")).to_contain_text("1")
        expect(page.locator("main")).to_contain_text("Is the library open on Saturdays?")
        expect(page.locator("main")).not_to_contain_text("free books")
        screenshot(page, "partners-01-eastside-inbox")
        page.goto(base + "/admin/")
        expect(page.locator("#dashboard-title")).to_have_text("Eastside Family Center: dashboard")
        expect(page.locator("#status-counts")).to_contain_text("2active")

        # Eastside's admin writes a local message and submits it for approval.
        page.goto(base + "/admin/campaigns/new")
        page.fill("#name", "Eastside playgroup")
        page.check("input[name=lang_en]")
        now_local = utcnow().astimezone(settings.zone)
        page.fill("input[name=send_at_0]", now_local.strftime("%Y-%m-%dT%H:%M"))
        page.fill("textarea[name=text_en_0]", LOCAL)
        expect(page.locator("#audience-size")).to_have_text(re.compile(r"^2 caregivers"))
        page.click("text=Save draft")
        page.click("button:has-text('Submit for approval')")
        expect(page.locator("#campaign-status")).to_contain_text("review")
        local_url = page.url
        screenshot(page, "partners-02-local-message-in-review")
        assert plan_campaigns(sessions, settings=settings, now=utcnow()) == 0  # not approved

        # A network admin approves it; the planner and dispatcher send it to Eastside's only.
        _sign_in(page, base, "ada@example.org")
        page.goto(local_url)
        page.click("button:has-text('Approve')")
        expect(page.locator("#campaign-status")).to_have_text("scheduled")
        screenshot(page, "partners-03-approved")
        # The network compares the partners, each on its own families.
        page.goto(base + "/admin/partners")
        east_row = page.locator("tr", has_text="Eastside Family Center")
        west_row = page.locator("tr", has_text="Westside Family Center")
        expect(east_row.locator("td").nth(1)).to_have_text("2")  # active now
        expect(west_row.locator("td").nth(1)).to_have_text("1")
        assert plan_campaigns(sessions, settings=settings, now=utcnow()) == 2
        dispatch_to_fake(sessions, settings, fake)
        assert fake.violations == []
        for number in EAST_FAMILIES:
            local = [m for m in fake.sent_to(number) if LOCAL in m["body"]]
            assert len(local) == 1 and local[0]["from"] == EAST_NUMBER, number
        for number in WEST_FAMILIES:
            assert all(LOCAL not in m["body"] for m in fake.sent_to(number))

        # Westside's staff: its own family, its own question, not Eastside's message.
        _sign_in(page, base, "wes@example.org")
        page.goto(base + "/admin/caregivers")
        expect(page.locator("table tbody tr")).to_have_count(1)
        expect(page.locator("main")).to_contain_text("Wren")
        expect(page.locator("main")).not_to_contain_text("Ivy")
        page.goto(base + "/admin/inbox")
        expect(page.locator("main")).to_contain_text("free books")
        expect(page.locator("main")).not_to_contain_text("Saturdays")
        page.goto(base + "/admin/campaigns")
        expect(page.locator("main")).not_to_contain_text("Eastside playgroup")
        assert page.goto(local_url) is not None
        expect(page.locator("h1")).to_have_text("Not found")
        page.goto(base + "/admin/")
        expect(page.locator("#dashboard-title")).to_have_text("Westside Family Center: dashboard")
        expect(page.locator("#status-counts")).to_contain_text("1active")
        expect(page.locator("#texts-sent")).to_have_text("0")  # Eastside's message is not here
        screenshot(page, "partners-04-westside-sees-its-own")
