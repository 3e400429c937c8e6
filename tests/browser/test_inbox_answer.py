"""Staff hear and answer families in a real browser: a crisis text is flagged urgent at the top
of the inbox with the support lines; an everyday question is answered from the inbox, the real
dispatcher sends the answer to a fake Twilio, and it shows on the family's timeline."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from sms_service.core.db import transaction
from sms_service.core.settings import Settings
from sms_service.web.app import create_app
from tests.browser.conftest import screenshot
from tests.fakes.twilio_server import FakeTwilio
from tests.helpers.dispatch import dispatch_to_fake
from tests.helpers.live_server import live_server
from tests.helpers.people import PASSWORD, add_caregiver, add_staff
from tests.helpers.settings import make_settings
from tests.helpers.texting import Phone

pytestmark = pytest.mark.browser

ASKING = "+12125550111"
IN_CRISIS = "+12125550112"
QUESTION = "what do I do if he cries every time I change his diaper?"
CRISIS = "I can't go on, some nights I want to hurt myself"
ANSWER = "Try singing one song for every change, so he knows what comes next."


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Quiet hours of one minute at midnight: the answer may go at any time of day.
    return make_settings(database_url, SMS_TIPS_QUIET_HOURS="23:59-00:00")


def test_an_urgent_text_is_flagged_and_an_answer_reaches_the_family(
    page: Page, settings: Settings, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        add_staff(session, "sam@example.org", "staff")
        add_caregiver(session, phone=ASKING, child_name="Leo", region=None)
        add_caregiver(session, phone=IN_CRISIS, region=None)

    with FakeTwilio() as fake, live_server(create_app(settings, engine=engine)) as base:
        with httpx.Client(base_url=base) as client:
            Phone(client, ASKING).text(QUESTION)
            Phone(client, IN_CRISIS).text(CRISIS)  # newer, but urgent comes first anyway
        page.goto(base + "/admin/inbox")
        expect(page).to_have_url(re.compile(r"/admin/login\?next="))
        page.fill("#email", "sam@example.org")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        expect(page).to_have_url(base + "/admin/inbox")
        expect(page.locator("nav .count")).to_contain_text("2")
        rows = page.locator("table tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_have_class(re.compile(r"\burgent\b"))
        expect(rows.nth(0)).to_contain_text("urgent")
        expect(rows.nth(0)).to_contain_text(CRISIS)
        expect(rows.nth(1)).not_to_contain_text("urgent")
        screenshot(page, "inbox-01-urgent-first")

        rows.nth(0).locator("a", has_text=CRISIS).click()
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("This text may be about a crisis.")
        expect(alert).to_contain_text("988")
        expect(alert).to_contain_text("1-833-TLC-MAMA")
        screenshot(page, "inbox-02-urgent-support-lines")

        page.goto(base + "/admin/inbox")
        page.locator("a", has_text=QUESTION).click()
        expect(page.get_by_role("alert")).to_have_count(0)  # an everyday question: no crisis box
        expect(page.locator(".card").first).to_contain_text("Leo")
        page.fill("#text", ANSWER)
        page.click("button:has-text('Send answer')")
        expect(page.locator(".flash.ok")).to_have_text(
            "Answer sent to the outbox: it goes out in a moment."
        )
        expect(page.locator(".card", has_text="Answer (")).to_contain_text(ANSWER)

        dispatch_to_fake(sessions, settings, fake)
        assert fake.violations == []
        assert [m["body"] for m in fake.sent_to(ASKING)][-1] == f"Little Moments: {ANSWER}"
        assert all(ANSWER not in m["body"] for m in fake.sent_to(IN_CRISIS))

        page.click("h1 a")  # the family's own page
        answer_row = page.locator("table.timeline tr", has_text=ANSWER)
        expect(answer_row).to_contain_text("Staff answer")
        expect(answer_row).to_contain_text("staff, sent")
        question_row = page.locator("table.timeline tr", has_text=QUESTION)
        expect(question_row).to_contain_text("Parent wrote")
        screenshot(page, "inbox-03-answer-on-the-timeline")
