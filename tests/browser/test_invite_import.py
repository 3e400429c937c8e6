"""An admin invites families from a CSV in a real browser: a bad row is shown by its line and
nothing is imported; fixed, the file invites each family once, through the real dispatcher to
a fake Twilio, and the families are listed as invited."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from sms_service.core.db import transaction
from sms_service.core.models import Caregiver
from sms_service.core.settings import Settings
from sms_service.web.app import create_app
from tests.browser.conftest import screenshot
from tests.fakes.twilio_server import FakeTwilio
from tests.helpers.dispatch import dispatch_to_fake as _dispatch
from tests.helpers.live_server import live_server
from tests.helpers.partners import add_partner
from tests.helpers.people import PASSWORD, add_caregiver, add_staff
from tests.helpers.settings import make_settings

pytestmark = pytest.mark.browser

ENROLLED = "+12125550161"
BAD = (
    "phone,language,child name,birth date\n"
    "(212) 555-0162,en,Maya,\n"
    "212 555 0163,fr,José,\n"
    f"{ENROLLED},en,,\n"
)


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Quiet hours of one minute at midnight: the test may send at any time of day.
    return make_settings(database_url, SMS_TIPS_QUIET_HOURS="23:59-00:00")


def test_an_admin_imports_invitations_fixing_a_bad_row_first(
    page: Page, settings: Settings, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        add_staff(session, "ada@example.org", "admin")
        add_caregiver(session, phone=ENROLLED, region=None)
        eastside = add_partner(session, settings, "eastside").id

    with FakeTwilio() as fake, live_server(create_app(settings, engine=engine)) as base:
        page.goto(base + "/admin/invitations")
        expect(page).to_have_url(re.compile(r"/admin/login\?next="))
        page.fill("#email", "ada@example.org")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        expect(page).to_have_url(base + "/admin/invitations")
        expect(page.locator("#invitations")).to_contain_text("Nobody has been invited yet.")

        page.fill("#csv", BAD)
        page.select_option("#partner_id", str(eastside))
        page.click("text=Import and send invitations")
        problems = page.locator("#import-problems")
        expect(problems).to_contain_text("Nothing was imported")
        expect(problems).to_contain_text("line 3: unknown language 'fr' (use en, es)")
        expect(page.locator("#invitations")).to_contain_text("Nobody has been invited yet.")
        expect(page.locator("#csv")).to_have_value(BAD)  # kept, to fix in place
        screenshot(page, "invite-01-bad-row")
        with sessions() as session:
            assert session.scalar(select(func.count()).select_from(Caregiver)) == 1

        page.fill("#csv", BAD.replace(",fr,", ",es,"))
        page.click("text=Import and send invitations")
        expect(page.locator(".flash.ok")).to_have_text(
            "Invited 2 families; skipped 1 (already known, opted out or repeated)."
        )
        expect(page.locator("#import-skipped")).to_contain_text(
            "Line 4 (***0161): already enrolled"
        )
        rows = page.locator("#invitations tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_contain_text("***0163")
        expect(rows.nth(0)).to_contain_text("José")
        expect(rows.nth(0)).to_contain_text("invited")
        expect(rows.nth(1)).to_contain_text("***0162")
        screenshot(page, "invite-02-imported")

        _dispatch(sessions, settings, fake)
        bodies = {message["to"]: message["body"] for message in fake.messages}
        assert set(bodies) == {"+12125550162", "+12125550163"}
        assert bodies["+12125550162"].startswith(
            "Little Moments: Eastside Family Center invites you"
        )
        assert "Manda HOLA para unirte" in bodies["+12125550163"]

        # The same rows again, uploaded as a file this time: nothing new is sent.
        fixed = BAD.replace(",fr,", ",es,").encode()
        page.set_input_files(
            "#file", files=[{"name": "families.csv", "mimeType": "text/csv", "buffer": fixed}]
        )
        page.click("text=Import and send invitations")
        expect(page.locator(".flash.ok")).to_contain_text("Invited 0 families")
        _dispatch(sessions, settings, fake)
        assert len(fake.messages) == 2
