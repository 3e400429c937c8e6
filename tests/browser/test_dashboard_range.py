"""A staff member reads the dashboard for the last week, the last 4 weeks and a custom range.

Rows are seeded at known times (tests.helpers.reports.seed_recent), so each range's figures
are known; the charts' labels are checked for a readable size as Chromium computes it.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from sms_service.core.db import transaction
from sms_service.core.models import utcnow
from sms_service.core.settings import Settings
from sms_service.web.app import create_app
from tests.browser.conftest import screenshot
from tests.helpers.live_server import live_server
from tests.helpers.people import PASSWORD, add_staff
from tests.helpers.reports import seed_recent

pytestmark = pytest.mark.browser


def test_dashboard_figures_follow_the_chosen_range(
    page: Page, settings: Settings, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    now = utcnow()
    with transaction(sessions) as session:
        add_staff(session, "sam@example.org", "staff")
        seed_recent(session, now=now)
    ten_days_ago = (now - timedelta(days=10)).astimezone(settings.zone).date().isoformat()

    with live_server(create_app(settings, engine=engine)) as base:
        page.goto(base + "/admin/")
        page.fill("#email", "sam@example.org")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator("h1")).to_have_text("Dashboard")

        page.click("#range-week")
        expect(page.locator("#range-label")).to_contain_text("Last week (7 days)")
        expect(page.locator("#texts-sent")).to_have_text("1")
        expect(page.locator("#rate-delivery")).to_have_text("100%")
        expect(page.locator("#rate-reply")).to_have_text("100%")

        page.click("#range-4weeks")
        expect(page.locator("#range-label")).to_contain_text("Last 4 weeks")
        expect(page.locator("#texts-sent")).to_have_text("3")
        expect(page.locator("#rate-delivery")).to_have_text("67%")
        expect(page.locator("#rate-reply")).to_have_text("33%")
        expect(page.locator("#rate-opt-out")).to_have_text("33.3")
        expect(page.locator("#failures")).to_contain_text("30006: a landline")
        expect(page.locator("#tip-results")).to_contain_text("en-recent")
        screenshot(page, "20-dashboard-last-4-weeks")

        page.fill("#from", ten_days_ago)
        page.fill("#to", ten_days_ago)
        page.click("#custom-range button[type=submit]")
        expect(page.locator("#range-label")).to_have_text(f"{ten_days_ago} to {ten_days_ago}")
        expect(page.locator("#texts-sent")).to_have_text("2")
        expect(page.locator("#rate-reply")).to_have_text("0%")

        page.fill("#from", "2026-03-02")
        page.fill("#to", "2026-03-01")
        page.click("#custom-range button[type=submit]")
        expect(page.locator("#range-error")).to_contain_text("after it ends")

        labels = page.locator("svg.chart text")
        assert labels.count() > 10
        sizes = labels.evaluate_all(
            "nodes => nodes.map(n => parseFloat(getComputedStyle(n).fontSize))"
        )
        assert min(sizes) >= 12, sizes
        # Drawn at that size too: the chart is not shrunk to fit (its box scrolls instead).
        heights = labels.evaluate_all("nodes => nodes.map(n => n.getBoundingClientRect().height)")
        assert min(heights) >= 12, heights
        descriptions = page.locator("svg.chart desc")
        expect(descriptions).to_have_count(3)
        expect(page.locator("#chart-delivery-funnel-desc")).to_have_text(
            re.compile(r"planned: \d+; sent: \d+; delivered: \d+; failed: \d+")
        )
        screenshot(page, "21-dashboard-range-refused")
