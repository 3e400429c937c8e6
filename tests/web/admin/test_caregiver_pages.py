from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from sms_service.caregivers.suppression import lift
from sms_service.core.db import transaction
from sms_service.core.models import (
    AuditLog,
    Caregiver,
    ConsentEvent,
    InboundMessage,
    OutboundMessage,
    Suppression,
    utcnow,
)
from sms_service.core.phones import phone_hash
from tests.helpers.people import add_caregiver, add_staff, is_suppressed
from tests.web.admin.conftest import sign_in

SCRIPT = "<script>alert('hi')</script> thank you!"


def _family(sessions: sessionmaker[Session]) -> int:
    with transaction(sessions) as s:
        caregiver = add_caregiver(s, phone="+12125550123", child_name="Luna", tags=("clinic",))
        s.add(
            InboundMessage(
                message_sid="SM" + "1" * 32,
                caregiver_id=caregiver.id,
                from_number=caregiver.phone,
                body=SCRIPT,
                handled_as="reply",
            )
        )
        s.add(
            OutboundMessage(
                dedupe_key="tip:x",
                kind="tip",
                caregiver_id=caregiver.id,
                to_number=caregiver.phone,
                body="Little Moments: Sing to Luna.",
                state="pending",
                due_at=utcnow() + timedelta(days=1),
            )
        )
        return caregiver.id


def test_a_reply_with_a_script_shows_as_text(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    caregiver_id = _family(sessions)
    page = web.get(f"/admin/caregivers/{caregiver_id}")
    assert page.status_code == 200
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(&#39;hi&#39;)&lt;/script&gt; thank you!" in page.text
    assert "Little Moments: Sing to Luna." in page.text  # the outbound side of the timeline
    assert "+12125550123" not in page.text  # numbers are masked on screen


def test_search_by_last_digits_and_child_name(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    caregiver_id = _family(sessions)
    with transaction(sessions) as s:
        add_caregiver(s, phone="+12125550999", child_name="Mateo")
    link = f'href="/admin/caregivers/{caregiver_id}"'
    assert link in web.get("/admin/caregivers?q=0123").text
    assert link not in web.get("/admin/caregivers?q=0999").text
    assert link in web.get("/admin/caregivers?q=lun").text
    assert link not in web.get("/admin/caregivers?q=mateo").text
    assert link in web.get("/admin/caregivers?tag=clinic&status=active").text
    assert link not in web.get("/admin/caregivers?status=opted_out").text


@pytest.mark.parametrize(
    "query",
    [
        "page=%E1%8D%A9",  # Ethiopic digit one: isdigit() says yes, int() says no
        "page=99999999999999999999",
        "q=%00",
        "language=%00",
        "tag=%00",
        "q=lu%00n",
    ],
)
def test_odd_search_parameters_get_a_page_not_an_error(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session], query: str
) -> None:
    _family(sessions)
    assert web.get(f"/admin/caregivers?{query}").status_code == 200
    assert web.get(f"/admin/audit?{query.replace('page', 'before')}").status_code == 200


def test_percent_and_underscore_are_searched_as_themselves(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    caregiver_id = _family(sessions)
    link = f'href="/admin/caregivers/{caregiver_id}"'
    assert link not in web.get("/admin/caregivers?q=%25").text
    assert link not in web.get("/admin/caregivers?q=_").text
    assert link in web.get("/admin/caregivers?q=lu%00n").text  # the NUL is dropped


def test_staff_pause_resume_tag_and_opt_out_on_request_all_audited(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    caregiver_id = _family(sessions)
    base = f"/admin/caregivers/{caregiver_id}"
    until = (utcnow() + timedelta(days=14)).date().isoformat()
    web.post(f"{base}/pause", data={"csrf_token": staff_csrf, "until": until})
    with sessions() as s:
        assert s.get(Caregiver, caregiver_id).status == "paused"  # type: ignore[union-attr]
    web.post(f"{base}/resume", data={"csrf_token": staff_csrf})
    web.post(f"{base}/tags", data={"csrf_token": staff_csrf, "tags": "Library, clinic"})
    bad = web.post(f"{base}/tags", data={"csrf_token": staff_csrf, "tags": "<b>"})
    assert "not a tag" in bad.text
    web.post(f"{base}/opt-out", data={"csrf_token": staff_csrf, "note": "asked at the clinic"})
    with sessions() as s:
        caregiver = s.get(Caregiver, caregiver_id)
        assert caregiver is not None and caregiver.status == "opted_out"
        assert sorted(t.tag for t in caregiver.tags) == ["clinic", "library"]
        event = s.scalars(select(ConsentEvent)).one()
        assert (event.kind, event.source, event.text) == ("opt_out", "staff", "asked at the clinic")
        assert s.scalars(select(OutboundMessage.state)).one() == "cancelled"
        audit = s.scalars(select(AuditLog).where(AuditLog.target_type == "Caregiver")).all()
    assert [(a.actor, a.action) for a in audit] == [
        ("sam@example.org", "caregiver.pause"),
        ("sam@example.org", "caregiver.resume"),
        ("sam@example.org", "caregiver.tags"),
        ("sam@example.org", "caregiver.opt_out"),
    ]
    assert "caregiver.opt_out" in web.get(base).text  # status changes are on the timeline


def test_export_has_everything_and_is_audited(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    caregiver_id = _family(sessions)
    response = web.get(f"/admin/caregivers/{caregiver_id}/export.json")
    assert response.headers["content-disposition"].startswith("attachment")
    data = response.json()
    assert data["caregiver"]["phone"] == "+12125550123"
    assert data["children"][0]["name"] == "Luna"
    assert {entry["kind"] for entry in data["timeline"]} >= {"in", "out"}
    with sessions() as s:
        assert s.scalars(select(AuditLog.action).where(AuditLog.action == "caregiver.export")).one()


def test_only_admins_delete_and_deletion_leaves_an_anonymous_opt_out(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    caregiver_id = _family(sessions)
    refused = web.post(f"/admin/caregivers/{caregiver_id}/delete", data={"csrf_token": staff_csrf})
    assert refused.status_code == 403
    assert web.get("/admin/staff").status_code == 403  # accounts are for admins too
    assert web.post("/admin/content/sync", data={"csrf_token": staff_csrf}).status_code == 403
    with sessions() as s:
        assert s.get(Caregiver, caregiver_id) is not None

    with transaction(sessions) as s:
        add_staff(s, "ada@example.org", "admin")
    admin_csrf = sign_in(web, "ada@example.org")
    page = web.get(f"/admin/caregivers/{caregiver_id}")
    assert "Delete personal data" in page.text
    done = web.post(f"/admin/caregivers/{caregiver_id}/delete", data={"csrf_token": admin_csrf})
    assert done.status_code == 200 and "Personal data deleted" in done.text
    with transaction(sessions) as s:
        assert s.get(Caregiver, caregiver_id) is None
        assert s.scalars(select(InboundMessage)).all() == []
        assert s.scalars(select(OutboundMessage)).all() == []
        suppression = s.scalars(select(Suppression)).one()
        assert suppression.phone_hash == phone_hash("+12125550123")
        assert is_suppressed(s, "+12125550123") and not is_suppressed(s, "+12125550124")
        entry = s.scalars(select(AuditLog).where(AuditLog.action == "caregiver.delete")).one()
        assert entry.actor == "ada@example.org" and "0123" not in str(entry.detail)
        assert lift(s, "+12125550123") is True


def test_caregivers_csv_flags_opted_out_families_and_leaves_their_number_out(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as s:
        add_caregiver(s, phone="+12125550001", tags=("clinic",))
        add_caregiver(s, phone="+12125550002", status="opted_out")
        add_caregiver(s, phone="+12125550003", keyword="=HYPERLINK(1)")
    response = web.get("/admin/export/caregivers.csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    by_status = {row["status"]: row for row in rows if row["status"] != "active"}
    assert by_status["opted_out"]["phone"] == "" and by_status["opted_out"]["opted_out"] == "yes"
    # A staff member's export masks numbers (whole ones are for admins: tests/web/admin/
    # test_exports.py).
    assert {row["phone"] for row in rows} == {"***0001", "", "***0003"}
    assert any(row["enrollment_keyword"] == "'=HYPERLINK(1)" for row in rows)  # no formulas
