from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from jobs.campaign_planner import plan_campaigns
from jobs.scheduler import JOBS_TABLE, PLANNER_JOB_ID
from sms_service.campaigns.results import campaign_results
from sms_service.core.db import transaction
from sms_service.core.models import (
    AuditLog,
    Caregiver,
    ConsentEvent,
    InboundMessage,
    OutboundMessage,
    utcnow,
)
from sms_service.core.settings import Settings
from tests.helpers.campaigns import make_campaign
from tests.helpers.people import add_caregiver
from tests.helpers.scheduler import lead_once


def _sent_campaign(sessions: sessionmaker[Session], settings: Settings) -> int:
    """A campaign sent to four caregivers: 2 delivered, 1 undelivered (30003), 1 failed (21610);
    one replied within 48 h, one replied later, one opted out within 48 h."""
    now = utcnow()
    with transaction(sessions) as s:
        ids = [add_caregiver(s, region=None).id for _ in range(4)]
        wall = now.astimezone(settings.zone).replace(tzinfo=None)
        campaign = make_campaign(s, settings, times=[wall], now=now)
    plan_campaigns(sessions, settings=settings, now=now)
    outcomes = [
        ("delivered", None),
        ("delivered", None),
        ("undelivered", "30003"),
        ("failed", "21610"),
    ]
    sent_at = now - timedelta(hours=50)
    with transaction(sessions) as s:
        for caregiver_id, (state, code) in zip(ids, outcomes, strict=True):
            s.execute(
                update(OutboundMessage)
                .where(OutboundMessage.caregiver_id == caregiver_id)
                .values(
                    state=state, error_code=code, sent_at=None if state == "failed" else sent_at
                )
            )
        s.add(
            InboundMessage(
                message_sid="SM" + "a" * 32,
                caregiver_id=ids[0],
                from_number="x",
                body="We loved it",
                received_at=sent_at + timedelta(hours=3),
            )
        )
        s.add(
            InboundMessage(
                message_sid="SM" + "b" * 32,
                caregiver_id=ids[1],
                from_number="x",
                body="late",
                received_at=sent_at + timedelta(hours=49),
            )
        )
        s.add(
            ConsentEvent(
                caregiver_id=ids[2],
                kind="opt_out",
                source="keyword",
                created_at=sent_at + timedelta(hours=1),
            )
        )
    return campaign.id


def test_results_count_what_happened(sessions: sessionmaker[Session], settings: Settings) -> None:
    campaign_id = _sent_campaign(sessions, settings)
    with sessions() as s:
        results = campaign_results(s, campaign_id)
    assert (results.reached, results.sent, results.delivered, results.failed) == (4, 3, 2, 2)
    assert results.failures_by_code == {"30003": 1, "21610": 1}
    assert (results.replies, results.opt_outs) == (1, 1)


def test_campaign_page_and_csv_show_the_results(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session], settings: Settings
) -> None:
    campaign_id = _sent_campaign(sessions, settings)
    page = web.get(f"/admin/campaigns/{campaign_id}").text
    assert 'id="result-delivered">2<' in page and "30003" in page and "21610" in page
    rows = list(
        csv.DictReader(io.StringIO(web.get(f"/admin/campaigns/{campaign_id}/results.csv").text))
    )
    assert sorted(row["state"] for row in rows) == [
        "delivered",
        "delivered",
        "failed",
        "undelivered",
    ]
    assert all("*" in row["phone"] for row in rows)  # masked: results are not a phone list


def test_dashboard_shows_counts_and_server_side_charts(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as s:
        add_caregiver(s)
        add_caregiver(s, status="paused")
        add_caregiver(s, status="opted_out")
    page = web.get("/admin/").text
    assert page.count("<svg") == 3 and "Enrollments per week" in page
    # Charts are drawn on the server: the only script is the shared layout's (menu, table labels).
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/admin/static/layout.js">']
    assert "3 enrolled (ever)" in page and "<b>1</b>paused" in page
    assert "Families (3: the cards add up to it)" in page and 'undeliverable">0<' in page


def test_content_page_and_audit_log(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    page = web.get("/admin/content?language=es&week=10")
    assert page.status_code == 200
    assert "What a child of 10 weeks would receive" in page.text
    assert "es-w0" in page.text and "(GSM-7)" in page.text and "<td>10</td>" in page.text
    audit = web.get("/admin/audit").text
    assert "staff.login" in audit and "sam@example.org" in audit
    with sessions() as s:
        assert s.scalars(select(AuditLog.action)).all()[-1] == "staff.login"


def _scheduler_notice(web: TestClient) -> str:
    page = web.get("/admin/").text
    start = page.index('id="scheduler"')
    return page[start : page.index("</", start)]


def test_dashboard_says_whether_weekly_planning_is_running(
    web: TestClient, staff_csrf: str, settings: Settings, engine: Engine
) -> None:
    assert "no scheduler has run on this database yet" in _scheduler_notice(web)

    lead_once(settings, engine)  # what the leading scheduler does
    assert "Weekly planning is running: next run at" in _scheduler_notice(web)

    # The scheduler died an hour ago: its planner's next run stays in the past.
    with engine.begin() as connection:
        connection.execute(
            text(f"UPDATE {JOBS_TABLE} SET next_run_time = :stamp WHERE id = :id"),
            {"stamp": (utcnow() - timedelta(hours=1)).timestamp(), "id": PLANNER_JOB_ID},
        )
    notice = _scheduler_notice(web)
    assert "Weekly tips are not being planned" in notice and "has not run" in notice


def test_campaign_csv_for_an_admin_has_whole_numbers_but_an_opted_out_familys(
    web: TestClient, admin_csrf: str, sessions: sessionmaker[Session], settings: Settings
) -> None:
    campaign_id = _sent_campaign(sessions, settings)
    with transaction(sessions) as s:
        opted_out = s.scalars(select(OutboundMessage.caregiver_id).limit(1)).one()
        s.execute(update(Caregiver).where(Caregiver.id == opted_out).values(status="opted_out"))
    text = web.get(f"/admin/campaigns/{campaign_id}/results.csv").text
    rows = list(csv.DictReader(io.StringIO(text)))
    phones = {row["caregiver_id"]: row["phone"] for row in rows}
    assert phones.pop(str(opted_out)) == ""
    assert all(phone.startswith("+1212555") for phone in phones.values())
    assert all(row["sent_at (America/New_York)"].count(".") == 0 for row in rows)  # no µs
    with sessions() as s:
        entry = s.scalars(select(AuditLog).where(AuditLog.action == "export.campaign_results"))
        assert entry.one().detail["whole_numbers"] is True
