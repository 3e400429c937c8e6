"""Every admin page, at desktop and phone width: no sideways scrolling, 0 axe-core violations.

The list of pages is read from the app's route table, so a new page is checked the day it is
added: a path parameter this test has no seeded row for fails the test until one is added to
SEEDED below.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import BaseRoute, Mount, Route

from content.library import load_library
from sms_service.campaigns.audience import Audience
from sms_service.campaigns.authoring import MessageDraft, create_campaign
from sms_service.core.db import transaction
from sms_service.core.models import Experiment, Tip, utcnow
from sms_service.core.settings import Settings
from sms_service.surveys.definitions import install_default
from sms_service.tips.sync import sync_library
from sms_service.web.app import create_app
from tests.browser.conftest import screenshot
from tests.helpers.campaigns import TESTER, make_campaign
from tests.helpers.live_server import live_server
from tests.helpers.partners import add_partner
from tests.helpers.people import PASSWORD, add_caregiver, add_inbox_text, add_staff

pytestmark = pytest.mark.browser

WIDTHS = {"desktop": 1280, "phone": 390}
NOT_PAGES = (".csv", ".json")  # downloads, not pages
SIGNED_OUT = ("/admin/login",)  # a signed-in visit is redirected to the dashboard
AXE = Axe()
UNSAFE = "Leave the baby alone in the bath for a minute while you get a towel."


def admin_pages(routes: list[BaseRoute], prefix: str = "") -> list[tuple[str, Route]]:
    """(full path template, route) of every GET route under /admin that renders a page."""
    found: list[tuple[str, Route]] = []
    for route in routes:
        if isinstance(route, Mount):
            found += admin_pages(list(route.routes), prefix + route.path)
        elif isinstance(route, Route) and "GET" in (route.methods or ()):
            path = prefix + route.path_format
            if path.startswith("/admin") and not path.endswith(NOT_PAGES):
                found.append((path, route))
    return found


def _seed(sessions: sessionmaker[Session], settings: Settings) -> dict[str, int]:
    with transaction(sessions) as session:
        add_staff(session, "ada@example.org", "admin")
        add_staff(session, "sam@example.org", "staff")
        english = add_caregiver(session, child_name="Rosie", tags=("clinic-east",))
        spanish = add_caregiver(session, language="es", child_name="Sofía", child_age_days=-30)
        add_inbox_text(session, english, "Is there a group for dads near me?")
        question = add_inbox_text(session, spanish, "¿El centro abre el 2 de enero?")
        campaign = make_campaign(
            session, settings, times=[datetime(2031, 4, 7, 10, 0)], now=utcnow()
        )
        make_campaign(
            session, settings, times=[datetime(2031, 5, 1, 9, 0)], now=utcnow(), schedule=False
        )
        blocked = create_campaign(  # a draft the checker blocks: Schedule is disabled
            session,
            name="Bath time",
            audience=Audience(languages=("en",)),
            local_time=False,
            messages=[MessageDraft(send_at=datetime(2031, 6, 1, 9), texts={"en": UNSAFE})],
            actor=TESTER,
            settings=settings,
        )
        TESTER.audit(session, "test.seed", campaign)
        sync_library(session, load_library())  # the tip pages show a real tip
        survey = install_default(session=session, now=utcnow())
        add_partner(session, settings, "eastside")  # /admin/partners/eastside
        # On another tip than the one whose page is walked: that one shows the start form.
        tried = session.scalars(select(Tip).where(Tip.language == "en").order_by(Tip.id)).first()
        assert tried is not None
        experiment = Experiment(tip_id=tried.id, wording_b=f"{tried.text} Try it.", share_b=0.5)
        session.add(experiment)
        session.flush()
        return {
            "slug": "eastside",
            "experiment_id": experiment.id,
            "survey_id": survey.id,
            "tip_id": _first_tip(session),  # a Spanish one: its text is marked lang="es"
            "campaign_id": campaign.id,
            "caregiver_id": spanish.id,
            "message_id": question.id,
            "blocked_campaign_id": blocked.id,
        }


def _first_tip(session: Session) -> str:
    tip_id = session.scalars(select(Tip.id).where(Tip.language == "es").order_by(Tip.id)).first()
    assert tip_id is not None
    return tip_id


def _sign_in(page: Page, base: str) -> None:
    page.goto(base + "/admin/login")
    page.fill("#email", "ada@example.org")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(base + "/admin/")


def _problems(page: Page, *, width: int) -> list[str]:
    problems: list[str] = []
    results = AXE.run(page)
    if results.violations_count:
        problems.append(results.generate_report())
    if width < 600:
        sizes: dict[str, Any] = page.evaluate(
            "({scroll: document.scrollingElement.scrollWidth,"
            " client: document.scrollingElement.clientWidth})"
        )
        if sizes["scroll"] > sizes["client"]:
            problems.append(f"scrolls sideways: {sizes['scroll']} px wide in {sizes['client']}")
    return problems


def _slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "admin"


def test_every_admin_page_works_on_a_phone_with_no_axe_violations(
    browser: Browser, settings: Settings, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    ids = _seed(sessions, settings)
    app = create_app(settings, engine=engine)
    paths = []
    for template, route in admin_pages(list(app.routes)):
        missing = set(route.param_convertors) - set(ids)
        assert not missing, f"{template}: seed a row for {missing} in {__name__}._seed"
        paths.append(template.format(**ids))
    assert "/admin/campaigns/new" in paths and "/admin/inbox" in paths
    paths.append(f"/admin/campaigns/{ids['blocked_campaign_id']}")  # a disabled button
    failures: dict[str, list[str]] = {}
    with live_server(app) as base:
        for name, width in WIDTHS.items():
            context = browser.new_context(viewport={"width": width, "height": 900})
            page = context.new_page()
            page.set_default_timeout(15_000)
            for path in SIGNED_OUT:
                page.goto(base + path)
                failures[f"{path} at {width}px"] = _problems(page, width=width)
                screenshot(page, f"every-{name}-{_slug(path)}")
            _sign_in(page, base)
            if width < 600:  # the menu is folded behind its button
                expect(page.locator(".menu-toggle")).to_be_visible()
                expect(page.locator("#admin-nav")).to_be_hidden()
            else:
                expect(page.locator(".menu-toggle")).to_be_hidden()
                expect(page.locator("#admin-nav a", has_text="Campaigns")).to_be_visible()
            for path in paths:
                if path in SIGNED_OUT:
                    continue
                response = page.goto(base + path)
                assert response is not None and response.ok, (
                    f"{path}: {response and response.status}"
                )
                page.wait_for_load_state("networkidle")
                failures[f"{path} at {width}px"] = _problems(page, width=width)
                screenshot(page, f"every-{name}-{_slug(path)}")
            # States a plain visit does not show: an error at its field with the live checker,
            # and the folded menu opened.
            page.goto(base + "/admin/campaigns/new")
            page.fill("#name", "Errors at their field")
            page.check("input[name=lang_es]")
            page.fill("#text_es_0", "Canten hoy’ con {child}")
            page.click("button:has-text('Save draft')")
            expect(page.locator("#text_es_0-error")).to_be_visible()
            page.fill("#text_es_0", "Canten hoy’ con su bebé")
            expect(page.locator("#check-text_es_0 .segments")).to_contain_text("1 text")
            failures[f"campaign form with an error at {width}px"] = _problems(page, width=width)
            screenshot(page, f"every-{name}-campaign-form-error")
            page.goto(f"{base}/admin/campaigns/{ids['blocked_campaign_id']}")
            expect(page.locator("button:has-text('Schedule')")).to_be_disabled()
            if page.locator(".menu-toggle").is_visible():
                page.click(".menu-toggle")
                expect(page.locator("#admin-nav")).to_be_visible()
                failures[f"open menu at {width}px"] = _problems(page, width=width)
            context.close()
    found = {where: problems for where, problems in failures.items() if problems}
    assert not found, "\n\n".join(f"{where}:\n" + "\n".join(p) for where, p in found.items())
