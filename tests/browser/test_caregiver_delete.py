"""An admin deletes a family's personal data after confirming, in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import Dialog, Page, expect
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from sms_service.core.db import transaction
from sms_service.core.models import Caregiver, Suppression
from sms_service.core.phones import phone_hash
from sms_service.core.settings import Settings
from sms_service.web.app import create_app
from tests.browser.conftest import screenshot
from tests.helpers.live_server import live_server
from tests.helpers.people import PASSWORD, add_caregiver, add_staff

pytestmark = pytest.mark.browser
NUMBER = "+12125550142"


def test_delete_asks_first_and_leaves_only_an_anonymous_opt_out(
    page: Page, settings: Settings, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        add_staff(session, "ada@example.org", "admin")
        caregiver_id = add_caregiver(session, phone=NUMBER, child_name="Luna").id
    answers = iter([False, True])  # cancel the first time, confirm the second
    asked: list[str] = []

    def answer(dialog: Dialog) -> None:
        asked.append(dialog.message)
        if next(answers):
            dialog.accept()
        else:
            dialog.dismiss()

    page.on("dialog", answer)
    with live_server(create_app(settings, engine=engine)) as base:
        page.goto(f"{base}/admin/caregivers/{caregiver_id}")
        page.fill("#email", "ada@example.org")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator("h1")).to_contain_text(f"Caregiver {caregiver_id}")
        page.click("text=Delete personal data")
        expect(page.locator("h1")).to_contain_text(f"Caregiver {caregiver_id}")  # cancelled
        page.click("text=Delete personal data")
        expect(page.locator(".flash.ok")).to_contain_text("Personal data deleted")
        screenshot(page, "07-caregiver-deleted")
    assert len(asked) == 2 and "cannot be undone" in asked[0]
    with sessions() as session:
        assert session.get(Caregiver, caregiver_id) is None
        assert session.scalars(select(Suppression.phone_hash)).one() == phone_hash(NUMBER)
