"""The invitations page: staff import a pasted or uploaded CSV; bad files are explained."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from sms_service.core.models import AuditLog, Caregiver


def test_staff_import_an_uploaded_file_and_see_the_families(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    upload = {
        "file": ("families.csv", b"\xef\xbb\xbfphone,language\n+12125550171,es\n", "text/csv")
    }
    page = web.post("/admin/invitations", data={"csrf_token": staff_csrf}, files=upload)
    assert page.status_code == 200
    assert "Invited 1 family." in page.text and "***0171" in page.text
    with sessions() as session:
        assert session.scalars(select(Caregiver.status)).all() == ["invited"]
        audit = session.scalars(select(AuditLog).where(AuditLog.action == "invitations.import"))
        assert audit.one().actor == "sam@example.org"


def test_a_file_that_is_not_text_or_has_bad_rows_imports_nothing(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    binary = {"file": ("families.xlsx", b"PK\x03\x04\xff\xfe", "application/octet-stream")}
    page = web.post("/admin/invitations", data={"csrf_token": staff_csrf}, files=binary)
    assert page.status_code == 422 and "not UTF-8 text" in page.text
    pasted = web.post(
        "/admin/invitations",
        data={"csrf_token": staff_csrf, "csv": "+12125550171,en,,31/31/2025\n"},
    )
    assert pasted.status_code == 422
    assert "line 1: &#39;31/31/2025&#39; is not a date such as 2026-03-14" in pasted.text
    with sessions() as session:
        assert session.scalars(select(Caregiver)).all() == []
