"""The dashboard by date range, and exports that follow filters, mask numbers and audit."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from sms_service.core.db import transaction
from sms_service.core.models import AuditLog, Caregiver, utcnow
from sms_service.core.settings import Settings
from tests.helpers.people import add_caregiver
from tests.helpers.reports import seed_recent

LOCAL_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")  # to the second, no offset


def _figure(page: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}">([^<]*)<', page)
    assert match, element_id
    return match.group(1)


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _audits(sessions: sessionmaker[Session], action: str) -> list[AuditLog]:
    with sessions() as s:
        return list(s.scalars(select(AuditLog).where(AuditLog.action == action)))


def test_dashboard_ranges_change_the_figures(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session], settings: Settings
) -> None:
    now = utcnow()
    with transaction(sessions) as s:
        seed_recent(s, now=now)
    week = web.get("/admin/?range=week").text
    assert (_figure(week, "texts-sent"), _figure(week, "rate-delivery")) == ("1", "100%")
    assert (_figure(week, "rate-reply"), _figure(week, "rate-opt-out")) == ("100%", "0.0")
    month = web.get("/admin/?range=4weeks").text
    assert (_figure(month, "texts-sent"), _figure(month, "rate-delivery")) == ("3", "67%")
    assert (_figure(month, "rate-reply"), _figure(month, "rate-opt-out")) == ("33%", "33.3")
    assert "30006: a landline, or a carrier that cannot take texts" in month
    # The tip's row names it and opens its own page for the same range.
    assert '<a href="/admin/content/tips/en-recent?range=4weeks"><b>en-recent</b></a>' in month
    assert web.get("/admin/").text.count('id="range-4weeks" href="/admin/?range=4weeks" aria') == 1
    day = (now - timedelta(days=10)).astimezone(settings.zone).date().isoformat()
    custom = web.get(f"/admin/?range=custom&from={day}&to={day}").text
    assert _figure(custom, "texts-sent") == "2" and _figure(custom, "range-label") == (
        f"{day} to {day}"
    )
    # Text alternatives: each chart is described and has its table.
    assert month.count("<desc id=") == 3 and month.count('class="chart-table"') == 3
    assert 'font-size="13"' in month


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("range=custom&from=2026-02-30&to=2026-03-01", "is not a date"),
        ("range=custom&from=2026-03-02&to=2026-03-01", "after it ends"),
        ("range=custom&from=2026-03-02&to=2999-01-01", "cannot end after today"),
        ("range=year", "Choose last week, last 4 weeks or a custom range"),
    ],
)
def test_a_bad_range_is_explained_not_a_500(
    web: TestClient, staff_csrf: str, query: str, message: str
) -> None:
    response = web.get(f"/admin/?{query}")
    assert response.status_code == 400
    assert message in _figure(response.text, "range-error") or message in response.text
    assert 'id="texts-sent"' in response.text  # the default range is shown instead
    export = web.get(f"/admin/export/replies.csv?{query}")
    assert export.status_code == 400 and message in export.text


def test_replies_export_for_staff_masks_numbers_and_says_what_each_text_answers(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as s:
        seed_recent(s, now=utcnow())
    response = web.get("/admin/export/replies.csv?range=4weeks")
    assert response.status_code == 200
    rows = _rows(response.text)
    assert len(rows) == 1
    row = rows[0]
    assert row["phone"] == "***0201" and row["message"] == "We saw red and blue!"
    assert (row["answers"], row["answered_tip"], row["counts_as_reply"]) == (
        "tip",
        "en-recent",
        "yes",
    )
    assert LOCAL_TIME.match(row["received_at (America/New_York)"])
    assert LOCAL_TIME.match(row["answered_sent_at (America/New_York)"])
    (entry,) = _audits(sessions, "export.replies")
    assert entry.actor == "sam@example.org" and entry.detail["whole_numbers"] is False


def test_an_admin_export_has_whole_numbers_and_is_audited(
    web: TestClient, admin_csrf: str, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as s:
        seed_recent(s, now=utcnow())
    (row,) = _rows(web.get("/admin/export/replies.csv?range=week").text)
    assert row["phone"] == "+12125550201"
    (entry,) = _audits(sessions, "export.replies")
    assert entry.actor == "ada@example.org" and entry.detail["whole_numbers"] is True
    rows = _rows(web.get("/admin/export/caregivers.csv").text)
    assert {r["phone"] for r in rows} == {"+12125550201", "+12125550202", "+12125550203"}
    assert _audits(sessions, "export.caregivers")[0].detail["whole_numbers"] is True
    with transaction(sessions) as s:  # no export is a list to text: opted-out numbers go
        s.execute(update(Caregiver).where(Caregiver.phone == "+12125550201").values(
            status="opted_out"))  # fmt: skip
    (row,) = _rows(web.get("/admin/export/replies.csv?range=week").text)
    assert row["phone"] == "" and row["message"] == "We saw red and blue!"


def test_caregivers_export_follows_the_list_filters(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as s:
        add_caregiver(s, phone="+12125550301", tags=("clinic-east",))
        add_caregiver(s, phone="+12125550302", status="paused", tags=("clinic-east",))
        add_caregiver(s, phone="+12125550303", language="es")
    page = web.get("/admin/caregivers?tag=clinic-east&status=paused&page=0").text
    assert 'href="/admin/export/caregivers.csv?tag=clinic-east&amp;status=paused"' in page
    rows = _rows(web.get("/admin/export/caregivers.csv?tag=clinic-east&status=paused").text)
    assert [(r["phone"], r["status"]) for r in rows] == [("***0302", "paused")]
    assert LOCAL_TIME.match(rows[0]["enrolled_at (America/New_York)"])
    (entry,) = _audits(sessions, "export.caregivers")
    assert entry.detail["filters"] == {"status": "paused", "tag": "clinic-east"}
    assert entry.detail["rows"] == 1 and entry.detail["whole_numbers"] is False
    spanish = _rows(web.get("/admin/export/caregivers.csv?language=es").text)
    assert [r["language"] for r in spanish] == ["es"]


def test_tips_export_follows_the_range(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as s:
        seed_recent(s, now=utcnow())
    (week,) = _rows(web.get("/admin/export/tips.csv?range=week").text)
    assert (week["tip_id"], week["sent"], week["answered"], week["reply_rate"]) == (
        "en-recent",
        "1",
        "1",
        "1.000",
    )
    (month,) = _rows(web.get("/admin/export/tips.csv?range=4weeks").text)
    assert (month["sent"], month["answered"]) == ("2", "1")
