"""Partners' results on the web: a partner's staff see their families' figures and exports only
(on /admin, in every CSV and from /api/stats); the network's staff see partners compared, as a
page and a CSV, and any one partner's dashboard."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from sms_service.campaigns.authoring import CampaignNotFound
from sms_service.core.audit import CLI_ACTOR, Actor
from sms_service.core.db import transaction
from sms_service.core.models import utcnow
from sms_service.core.settings import Settings
from sms_service.staff.exports import campaign_results_csv
from sms_service.staff.tokens import create_api_token
from tests.helpers.campaigns import make_campaign
from tests.helpers.partners import add_partner
from tests.helpers.people import add_caregiver, add_staff
from tests.helpers.reports import add_parent_text, add_survey_answer, add_text, add_tip
from tests.web.admin.conftest import sign_in

EAST_PHONE, WEST_PHONE = "+12125554411", "+12125559911"
# What Westside's family leaves in a report: its tip, its reply, its number.
WEST_MARKS = ("en-west", "Westside baby laughed", "9911")


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _figure(page: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}">([^<]*)<', page)
    assert match, element_id
    return match.group(1)


@pytest.fixture
def two_partners(sessions: sessionmaker[Session], settings: Settings) -> dict[str, int]:
    """Eastside: two tips sent this week to one family, one answered, a survey answer.
    Westside: one tip of its own, delivered and answered. Staff: an Eastside admin
    (eve@) and the network's staff member (sam@)."""
    now = utcnow()
    with transaction(sessions) as s:
        east, west = add_partner(s, settings, "eastside"), add_partner(s, settings, "westside")
        add_tip(s, "en-east", "Sing at bath time.")
        add_tip(s, "en-west", "Count the stairs together.")
        e = add_caregiver(s, phone=EAST_PHONE, partner_id=east.id)
        w = add_caregiver(s, phone=WEST_PHONE, partner_id=west.id)
        add_text(s, e, at=now - timedelta(days=2), tip_id="en-east")
        add_text(s, e, at=now - timedelta(days=1), tip_id="en-east", state="undelivered")
        add_parent_text(s, e, at=now - timedelta(days=2, hours=-1), body="Eastside baby sang")
        add_survey_answer(s, e, at=now - timedelta(days=1))
        add_text(s, w, at=now - timedelta(days=2), tip_id="en-west")
        add_parent_text(s, w, at=now - timedelta(days=2, hours=-1), body="Westside baby laughed")
        campaign = make_campaign(s, settings, times=[datetime(2031, 4, 7, 10)], now=now)
        add_text(s, e, at=now - timedelta(days=3), kind="campaign", campaign_id=campaign.id)
        add_text(s, w, at=now - timedelta(days=3), kind="campaign", campaign_id=campaign.id)
        eve = add_staff(s, "eve@example.org", "admin", partner_id=east.id)
        add_staff(s, "sam@example.org", "staff")
        token = create_api_token(s, staff_user_id=eve, name="eve", actor=CLI_ACTOR)
    return {"east": east.id, "west": west.id, "eve": eve, "campaign": campaign.id, "token": token}


def test_a_partners_admin_sees_only_its_families_on_the_dashboard_and_in_every_export(
    web: TestClient, two_partners: dict[str, int]
) -> None:
    sign_in(web, "eve@example.org")
    page = web.get("/admin/?range=week").text
    assert '<h1 id="dashboard-title">Eastside Family Center: dashboard</h1>' in page
    # Eastside's 3 texts (2 tips, a campaign text), 1 reply, 1 survey answer; none of Westside's.
    assert (_figure(page, "texts-sent"), _figure(page, "replies")) == ("3", "1")
    assert _figure(page, "survey-answers") == "1"
    assert (_figure(page, "rate-delivery"), _figure(page, "rate-reply")) == ("67%", "33%")
    assert "en-east" in page and "en-west" not in page
    assert 'href="/admin/partners"' not in page  # the comparison is the network's
    exports = {
        name: web.get(f"/admin/export/{name}.csv?range=week").text
        for name in ("replies", "tips", "caregivers")
    }
    for name, text in exports.items():
        assert not [mark for mark in WEST_MARKS if mark in text], name
    assert [row["message"] for row in _rows(exports["replies"])] == ["Eastside baby sang"]
    assert [(row["tip_id"], row["sent"]) for row in _rows(exports["tips"])] == [("en-east", "2")]
    assert [row["phone"] for row in _rows(exports["caregivers"])] == [EAST_PHONE]
    # The tips are the network's to read, the replies after one are each partner's own.
    tip = web.get("/admin/content/tips/en-west?range=week").text
    assert "Count the stairs together." in tip and "Westside baby laughed" not in tip
    for path in ("/admin/partners", "/admin/partners/eastside", "/admin/export/partners.csv"):
        assert web.get(path).status_code == 403, path


def test_a_campaigns_results_export_holds_only_the_exporters_families(
    sessions: sessionmaker[Session], settings: Settings, two_partners: dict[str, int]
) -> None:
    eve = Actor("eve@example.org", two_partners["eve"], "admin", two_partners["east"])
    with transaction(sessions) as s:
        # A network campaign is the network's: a partner's export of it is a missing one.
        with pytest.raises(CampaignNotFound):
            campaign_results_csv(s, two_partners["campaign"], actor=eve, zone=settings.zone)
        every = campaign_results_csv(
            s, two_partners["campaign"], actor=CLI_ACTOR, zone=settings.zone
        )
        assert len(_rows(every)) == 2
        # Eastside's local message reached two families; one has since moved to Westside,
        # and Eastside's staff lost sight of it (its row included).
        local = make_campaign(
            s, settings, times=[datetime(2031, 4, 7, 10)], now=utcnow(), schedule=False
        )
        local.partner_id = two_partners["east"]
        stayed = add_caregiver(s, phone="+12125554412", partner_id=two_partners["east"])
        moved = add_caregiver(s, phone="+12125554413", partner_id=two_partners["east"])
        for family in (stayed, moved):
            add_text(s, family, at=utcnow(), kind="campaign", campaign_id=local.id)
        moved.partner_id = two_partners["west"]
        s.flush()
        mine = campaign_results_csv(s, local.id, actor=eve, zone=settings.zone)
        theirs = campaign_results_csv(s, local.id, actor=CLI_ACTOR, zone=settings.zone)
    assert [row["phone"] for row in _rows(mine)] == ["+12125554412"]
    assert len(_rows(theirs)) == 2


def test_a_partners_api_token_gets_its_families_figures_only(
    web: TestClient, two_partners: dict[str, int]
) -> None:
    bearer = {"Authorization": f"Bearer {two_partners['token']}"}
    stats = web.get("/api/stats?range=week", headers=bearer).json()
    assert (stats["families"], stats["texts"]["sent"], stats["survey_answers"]) == (1, 3, 1)
    assert stats["replies"]["replies_to_tips_and_campaigns"] == 1
    assert [tip["tip_id"] for tip in stats["tips"]] == ["en-east"]


def test_the_network_compares_partners_and_opens_each_ones_dashboard(
    web: TestClient, two_partners: dict[str, int]
) -> None:
    sign_in(web, "sam@example.org")
    home = web.get("/admin/").text
    assert '<a href="/admin/partners">Partners</a>' in home
    assert _figure(home, "texts-sent") == "5"  # the roll-up: both partners' texts
    page = web.get("/admin/partners?range=week").text
    assert 'href="/admin/partners/eastside?range=week">Eastside Family Center</a>' in page
    assert 'href="/admin/partners/westside?range=week">Westside Family Center</a>' in page
    assert 'id="range-4weeks" href="/admin/partners?range=4weeks"' in page
    rows = {row["partner"]: row for row in _rows(web.get("/admin/export/partners.csv").text)}
    east, west, total = (
        rows["Eastside Family Center"],
        rows["Westside Family Center"],
        rows["All families"],
    )
    assert (east["texts_sent"], east["replies"], east["delivery_rate"]) == ("3", "1", "0.667")
    assert (east["survey_answers"], east["enrolled_in_range"], east["active"]) == ("1", "1", "1")
    assert (west["texts_sent"], west["replies"], west["reply_rate"]) == ("2", "1", "0.500")
    assert (total["texts_sent"], total["replies"]) == ("5", "2")
    assert rows["Network (no partner)"]["texts_sent"] == "0"
    east_page = web.get("/admin/partners/eastside?range=week").text
    assert "Eastside Family Center: dashboard" in east_page
    assert _figure(east_page, "texts-sent") == "3" and "en-west" not in east_page
    assert 'id="range-week" href="/admin/partners/eastside?range=week"' in east_page
    assert "Westside baby laughed" in web.get("/admin/content/tips/en-west?range=week").text
    assert web.get("/admin/partners/nowhere").status_code == 404
    refused = web.get("/admin/partners?range=custom&from=tomorrow")
    assert refused.status_code == 400 and 'id="range-error"' in refused.text
