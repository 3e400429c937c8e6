"""A family's page tells who said what, why a number cannot get texts, and keeps tags tidy."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from sms_service.core.db import transaction
from sms_service.core.models import CaregiverTag, OutboundMessage, utcnow
from tests.helpers.people import add_caregiver, add_inbox_text


def test_the_timeline_tells_the_parent_from_automatic_texts_and_staff_actions(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        caregiver = add_caregiver(session, status="undeliverable")
        caregiver_id = caregiver.id
        add_inbox_text(session, caregiver, "Thank you!")
        for key, kind, code in (("tip:1", "tip", "30006"), ("reply:1", "reply", None)):
            session.add(
                OutboundMessage(
                    dedupe_key=key,
                    kind=kind,
                    caregiver_id=caregiver.id,
                    to_number=caregiver.phone,
                    body=f"Little Moments: {kind}",
                    state="undelivered" if code else "sent",
                    error_code=code,
                    due_at=utcnow() - timedelta(days=1),
                )
            )
    web.post(
        f"/admin/caregivers/{caregiver_id}/tags",
        data={"csrf_token": staff_csrf, "tags": "Clinic East, clinic_east, library"},
    )
    page = web.get(f"/admin/caregivers/{caregiver_id}").text
    for who in ("Parent wrote", "Weekly tip", "Automatic reply", "Staff action"):
        assert f"<td>{who}</td>" in page, who
    assert "Cannot receive texts:</strong> 30006: a landline, or a carrier that cannot take" in page
    assert "undelivered (30006: a landline" in page  # the timeline says it in words too
    with sessions() as session:
        tags = session.scalars(select(CaregiverTag.tag).order_by(CaregiverTag.tag)).all()
    assert tags == ["clinic-east", "library"]  # one tag, however it was typed
    assert '<option value="clinic-east">' in page  # offered for the next family
