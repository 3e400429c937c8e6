from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from sms_service.core.db import transaction
from sms_service.core.models import AuditLog, Campaign, OutboundMessage, Tip, utcnow
from tests.helpers.campaigns import EN, ES
from tests.helpers.people import add_caregiver


def _form(csrf: str, **extra: str) -> dict[str, str]:
    form = {
        "csrf_token": csrf,
        "name": "Week of the Young Child",
        "timing": "program",
        "lang_en": "on",
        "lang_es": "on",
        "age_unit": "months",
        "age_min": "0",
        "age_max": "24",
        "send_at_0": "2031-04-07T10:00",
        "text_en_0": EN,
        "text_es_0": ES,
        "send_at_1": "2031-04-08T10:00",
        "text_en_1": EN.replace("Sing a song", "Read a book"),
        "text_es_1": ES.replace("Canten juntos", "Lean juntos"),
    }
    form.update(extra)
    return form


def test_staff_create_preview_and_schedule_a_bilingual_series(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as s:
        add_caregiver(s)
        add_caregiver(s, language="es")
        add_caregiver(s, child_age_days=1000)  # too old for 0-24 months
    size = web.post(
        "/admin/campaigns/audience-size",
        data=_form(staff_csrf),
        headers={"X-CSRF-Token": staff_csrf},
    )
    assert size.json() == {"en": 1, "es": 1, "total": 2}
    created = web.post("/admin/campaigns/new", data=_form(staff_csrf), follow_redirects=False)
    assert created.status_code == 303
    page = web.get(created.headers["location"])
    assert "Draft saved" in page.text
    assert re.search(r'id="campaign-audience-size">2<', page.text)
    assert f"Little Moments: {EN}" in page.text and "GSM-7" in page.text
    assert "Checker: no problems found." in page.text
    campaign_id = int(created.headers["location"].rsplit("/", 1)[1])
    web.post(f"/admin/campaigns/{campaign_id}/schedule", data={"csrf_token": staff_csrf})
    with sessions() as s:
        campaign = s.scalars(select(Campaign)).one()
        assert (campaign.status, campaign.kind, len(campaign.messages)) == (
            "scheduled",
            "series",
            2,
        )
        actions = s.scalars(select(AuditLog.action).where(AuditLog.actor == "sam@example.org"))
        assert {"campaign.create", "campaign.schedule"} <= set(actions)


def test_checker_errors_block_scheduling(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    form = _form(staff_csrf, text_en_0="Your baby is failing because you do not talk enough.")
    created = web.post("/admin/campaigns/new", data=form, follow_redirects=False)
    page = web.get(created.headers["location"])
    assert "deficit framing" in page.text
    assert "Fix the checker" in page.text
    campaign_id = int(created.headers["location"].rsplit("/", 1)[1])
    answer = web.post(f"/admin/campaigns/{campaign_id}/schedule", data={"csrf_token": staff_csrf})
    assert "fix the checker" in answer.text
    with sessions() as s:
        assert s.scalars(select(Campaign.status)).one() == "draft"


def test_bad_forms_get_a_clear_answer_and_save_nothing(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    cases = {
        "needs a text in es": _form(staff_csrf, text_es_0=""),
        "placeholders": _form(staff_csrf, text_en_0="Hug {child} today."),
        "whole number": _form(staff_csrf, age_min="six"),
        "youngest age": _form(staff_csrf, age_min="30"),
        "date and time": _form(staff_csrf, send_at_0="tomorrow"),
        "needs a name": _form(staff_csrf, name="  "),
    }
    for problem, form in cases.items():
        response = web.post("/admin/campaigns/new", data=form)
        assert response.status_code == 400 and problem in response.text, problem
    with sessions() as s:
        assert s.scalars(select(Campaign)).all() == []


def test_script_in_a_campaign_name_is_shown_as_text(web: TestClient, staff_csrf: str) -> None:
    created = web.post(
        "/admin/campaigns/new",
        data=_form(staff_csrf, name="<script>alert(1)</script>"),
        follow_redirects=False,
    )
    page = web.get(created.headers["location"])
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_drafts_and_scheduled_campaigns_can_be_edited_until_sending_starts(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    created = web.post("/admin/campaigns/new", data=_form(staff_csrf), follow_redirects=False)
    campaign_id = int(created.headers["location"].rsplit("/", 1)[1])
    edit = web.get(f"/admin/campaigns/{campaign_id}/edit")
    assert 'value="2031-04-08T10:00"' in edit.text and "Read a book" in edit.text
    form = _form(staff_csrf, name="Renamed", send_at_1="", text_en_1="", text_es_1="")
    web.post(f"/admin/campaigns/{campaign_id}/edit", data=form)
    with sessions() as s:
        campaign = s.scalars(select(Campaign)).one()
        assert (campaign.name, campaign.kind, len(campaign.messages)) == ("Renamed", "one_off", 1)
    web.post(f"/admin/campaigns/{campaign_id}/schedule", data={"csrf_token": staff_csrf})
    web.post(f"/admin/campaigns/{campaign_id}/edit", data=_form(staff_csrf, name="Later"))
    with sessions() as s:
        campaign = s.scalars(select(Campaign)).one()
        assert (campaign.name, campaign.status) == ("Later", "scheduled")
    with transaction(sessions) as session:  # the planner's first text: sending has started
        caregiver = add_caregiver(session, phone="+12125550177")
        session.add(
            OutboundMessage(
                caregiver_id=caregiver.id,
                campaign_id=campaign_id,
                kind="campaign",
                body="x",
                to_number=caregiver.phone,
                due_at=utcnow(),
                dedupe_key="campaign-test",
            )
        )
    page = web.get(f"/admin/campaigns/{campaign_id}")
    assert f'href="/admin/campaigns/{campaign_id}/edit"' not in page.text
    refused = web.post(f"/admin/campaigns/{campaign_id}/edit", data=_form(staff_csrf, name="Late"))
    assert refused.status_code == 400 and "sending has started" in refused.text
    assert web.get("/admin/campaigns/999").status_code == 404


def test_errors_are_shown_at_their_field(web: TestClient, staff_csrf: str) -> None:
    page = web.post("/admin/campaigns/new", data=_form(staff_csrf, text_es_0="", age_min="x"))
    assert page.status_code == 400
    assert '<p class="field-error" id="age_min-error">' in page.text
    assert 'aria-invalid="true" aria-describedby="age_min-error"' in page.text
    page = web.post("/admin/campaigns/new", data=_form(staff_csrf, text_es_0=""))
    assert 'id="text_es_0-error">message 1 needs a text in es<' in page.text
    assert re.search(r'id="text_es_0"[^>]*aria-invalid="true"', page.text)


def test_the_live_checker_answers_in_words(web: TestClient, staff_csrf: str) -> None:
    headers = {"X-CSRF-Token": staff_csrf}
    long_es = "¿Qué canción les gusta? Canten juntos hoy’ " * 4
    answer = web.post(
        "/admin/campaigns/check",
        data={"csrf_token": staff_csrf, "language": "es", "text": long_es},
        headers=headers,
    ).json()
    assert answer["segments"] == 3
    assert answer["words"].startswith("3 texts (Spanish uses special characters such as ó ’")
    answer = web.post(
        "/admin/campaigns/check",
        data={"csrf_token": staff_csrf, "language": "en", "text": "Hi {child}"},
        headers=headers,
    ).json()
    assert answer["words"].startswith("1 text (")
    assert any(finding["severity"] == "error" for finding in answer["findings"])
    refused = web.post(
        "/admin/campaigns/check", data={"csrf_token": staff_csrf, "language": "xx", "text": "a"}
    )
    assert refused.status_code == 400


def test_a_campaign_is_duplicated_as_a_new_draft(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    created = web.post("/admin/campaigns/new", data=_form(staff_csrf), follow_redirects=False)
    campaign_id = int(created.headers["location"].rsplit("/", 1)[1])
    copied = web.post(
        f"/admin/campaigns/{campaign_id}/duplicate",
        data={"csrf_token": staff_csrf},
        follow_redirects=False,
    )
    copy_id = int(copied.headers["location"].rsplit("/", 1)[1])
    assert copy_id != campaign_id
    page = web.get(f"/admin/campaigns/{copy_id}")
    assert "Copy of Week of the Young Child" in page.text and "No results yet" in page.text
    listing = web.get("/admin/campaigns").text
    assert "2031-04-07 10:00" in listing and "child aged 0..24 months" in listing


def test_admins_sync_the_tip_files_into_the_database(
    web: TestClient, admin_csrf: str, sessions: sessionmaker[Session]
) -> None:
    page = web.post("/admin/content/sync", data={"csrf_token": admin_csrf})
    assert re.search(r"Synced: \d+ new, 0 updated, 0 retired", page.text)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Tip)) > 100
        assert s.scalars(
            select(AuditLog.action).where(AuditLog.action == "sms_service.tips.sync")
        ).one()


def test_sending_past_the_weekly_limit_is_a_choice_that_is_shown_and_audited(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    created = web.post(
        "/admin/campaigns/new",
        data=_form(staff_csrf, exceeds_weekly_cap="on"),
        follow_redirects=False,
    )
    campaign_id = int(created.headers["location"].rsplit("/", 1)[1])
    page = web.get(f"/admin/campaigns/{campaign_id}")
    assert "sent even if over the weekly limit of 1" in page.text
    edit = web.get(f"/admin/campaigns/{campaign_id}/edit")
    assert re.search(r'name="exceeds_weekly_cap" checked', edit.text)
    web.post(f"/admin/campaigns/{campaign_id}/edit", data=_form(staff_csrf))  # unticked
    page = web.get(f"/admin/campaigns/{campaign_id}")
    assert "within the weekly limit of 1" in page.text
    with sessions() as s:
        campaign = s.get(Campaign, campaign_id)
        assert campaign is not None and campaign.exceeds_weekly_cap is False
        entries = s.execute(
            select(AuditLog.actor, AuditLog.detail)
            .where(AuditLog.action == "campaign.weekly_cap_exception")
            .order_by(AuditLog.id)
        ).all()
    assert entries == [
        ("sam@example.org", {"exceeds_weekly_cap": True}),
        ("sam@example.org", {"exceeds_weekly_cap": False}),
    ]
