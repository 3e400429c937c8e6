"""A staff member runs a bilingual campaign end to end in a real browser.

Sign in, write the campaign, watch the audience size, read the preview with the checker's
results, schedule it; then the real campaign planner and the real dispatcher send it to a fake
Twilio, Twilio's delivery reports come back through the signed status webhook, a parent replies
with a <script>, and the campaign page shows it done with its results.
"""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from jobs.campaign_planner import plan_campaigns
from sms_service.core.db import transaction
from sms_service.core.models import Campaign, utcnow
from sms_service.core.settings import Settings
from sms_service.web.app import create_app
from tests.browser.conftest import screenshot
from tests.fakes.twilio_server import FakeTwilio
from tests.helpers.campaigns import EN, ES
from tests.helpers.dispatch import dispatch_to_fake, report_status
from tests.helpers.live_server import live_server
from tests.helpers.people import PASSWORD, add_caregiver, add_staff
from tests.helpers.settings import make_settings
from tests.helpers.texting import Phone

pytestmark = pytest.mark.browser

ENGLISH = ["+12125550101", "+12125550102"]
SPANISH = "+12125550103"
OPTED_OUT = "+12125550104"
SCRIPT_REPLY = "<script>alert('x')</script> we sang it twice!"


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Quiet hours of one minute at midnight: the test may send at any time of day.
    return make_settings(database_url, SMS_TIPS_QUIET_HOURS="23:59-00:00")


def test_staff_run_a_bilingual_campaign_to_done(
    page: Page, settings: Settings, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        add_staff(session, "ada@example.org", "admin")
        for number in ENGLISH:
            add_caregiver(session, phone=number, region=None)
        add_caregiver(session, phone=SPANISH, language="es", region=None)
        add_caregiver(session, phone=OPTED_OUT, status="opted_out", region=None)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    with FakeTwilio() as fake, live_server(create_app(settings, engine=engine)) as base:
        page.goto(base + "/admin/campaigns")
        expect(page).to_have_url(re.compile(r"/admin/login\?next="))
        page.fill("#email", "ada@example.org")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        expect(page).to_have_url(base + "/admin/campaigns")
        screenshot(page, "01-campaigns-after-sign-in")

        page.click("text=New campaign")
        page.fill("#name", "Week of the Young Child")
        page.check("input[name=lang_en]")
        page.check("input[name=lang_es]")
        now_local = utcnow().astimezone(settings.zone)
        page.fill("input[name=send_at_0]", now_local.strftime("%Y-%m-%dT%H:%M"))
        page.fill("textarea[name=text_en_0]", EN)
        page.fill("textarea[name=text_es_0]", ES)
        expect(page.locator("#audience-size")).to_have_text("3 caregivers (en: 2, es: 1)")
        page.fill("#age_min", "150")  # nobody's child is that old: the count follows the form
        expect(page.locator("#audience-size")).to_have_text(re.compile(r"^0 caregivers"))
        page.fill("#age_min", "")
        expect(page.locator("#audience-size")).to_have_text(re.compile(r"^3 caregivers"))
        page.click("#add-message")  # a series gets more slots; a blank one is skipped
        expect(page.locator("fieldset.message")).to_have_count(2)
        expect(page.locator("fieldset.message legend").nth(1)).to_have_text("Message 2")
        expect(page.locator("textarea[name=text_en_1]")).to_have_value("")
        screenshot(page, "02-new-campaign-form")
        page.click("text=Save draft")

        expect(page.locator("#campaign-status")).to_have_text("draft")
        expect(page.locator("#campaign-audience-size")).to_have_text("3")
        previews = page.locator(".preview")
        expect(previews).to_have_count(2)
        expect(previews.nth(0)).to_contain_text(f"Little Moments: {EN}")
        expect(previews.nth(1)).to_contain_text(f"Little Moments: {ES}")
        expect(page.locator(".finding.ok")).to_have_count(2)  # the checker found nothing
        page.click("button:has-text('Cancel campaign')")  # asks first; dismissed, nothing changes
        expect(page.locator("#campaign-status")).to_have_text("draft")
        assert len(dialogs) == 1 and "cannot be scheduled again" in dialogs.pop()
        expect(previews.nth(0)).to_contain_text("1 text (53 characters left)")  # in words
        expect(page.locator("#results")).to_contain_text("No results yet")  # no grid of zeros
        screenshot(page, "03-campaign-preview")
        page.click("button:has-text('Schedule')")
        expect(page.locator("#campaign-status")).to_have_text("scheduled")

        # The scheduler's job and the dispatcher, for real, against the fake Twilio.
        assert plan_campaigns(sessions, settings=settings, now=utcnow()) == 3
        dispatch_to_fake(sessions, settings, fake)
        assert fake.violations == []
        assert len(fake.messages) == 3
        assert fake.sent_to(OPTED_OUT) == []
        assert [m["body"] for m in fake.sent_to(SPANISH)] == [f"Little Moments: {ES}"]
        for message in fake.messages:
            failed = message["to"] == ENGLISH[1]
            report_status(
                base,
                settings,
                message["sid"],
                "undelivered" if failed else "delivered",
                "30003" if failed else "",
            )
        with httpx.Client(base_url=base) as client:
            Phone(client, ENGLISH[0]).text(SCRIPT_REPLY)
        plan_campaigns(sessions, settings=settings, now=utcnow() + timedelta(minutes=5))

        page.reload()
        expect(page.locator("#campaign-status")).to_have_text("done")
        expect(page.locator("#result-sent")).to_have_text("3")
        expect(page.locator("#result-delivered")).to_have_text("2")
        expect(page.locator("#result-delivered-rate")).to_have_text("67% of sent")
        expect(page.locator("#results")).to_contain_text("1replied (48 h)")
        expect(page.locator("table")).to_contain_text("30003")
        screenshot(page, "04-campaign-done-with-results")

        # The parent's reply is on their timeline as text; no script ran.
        page.goto(base + "/admin/caregivers?q=0101")
        page.click("text=***0101")
        expect(page.locator(".message-text").first).to_have_text(SCRIPT_REPLY)
        screenshot(page, "05-caregiver-timeline")
        assert dialogs == []

        page.goto(base + "/admin/")
        expect(page.locator("svg.chart")).to_have_count(3)  # replies, funnel, enrollments
        screenshot(page, "06-dashboard")

        page.goto(base + "/admin/content?language=es&week=10")
        expect(page.locator("h2").first).to_contain_text("What a child of 10 weeks would receive")
        screenshot(page, "08-content-library")

    with sessions() as session:
        assert session.scalars(select(Campaign.status)).one() == "done"
