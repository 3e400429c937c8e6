"""The partner routes of the JSON API: a network admin's token writes, a staff token reads."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from sms_service.core.audit import Actor
from sms_service.core.db import transaction
from sms_service.core.models import AuditLog, Partner
from sms_service.staff.tokens import create_api_token
from tests.helpers.people import add_staff

EAST = {
    "slug": "eastside",
    "name": "Eastside Family Center",
    "sender": "+1 212 555 0188",
    "keywords": {"EAST": "en", "este": "es"},
}


@pytest.fixture
def api_as(app: Starlette, sessions: sessionmaker[Session]) -> Callable[[str], TestClient]:
    """A client whose bearer token belongs to a staff member of `role`."""

    def make(role: str) -> TestClient:
        with transaction(sessions) as session:
            staff_id = add_staff(session, f"{role}@example.org", role=role)
            token = create_api_token(
                session, staff_user_id=staff_id, name="tests", actor=Actor(name="test")
            )
        return TestClient(app, headers={"Authorization": f"Bearer {token}"})

    return make


def test_a_network_admin_creates_shows_changes_and_lists_partners(
    api_as: Callable[[str], TestClient], sessions: sessionmaker[Session]
) -> None:
    with api_as("admin") as api:
        created = api.post("/api/partners", json=EAST)
        assert created.status_code == 201, created.text
        assert created.json()["sender"] == "+12125550188"
        assert [k["word"] for k in created.json()["keywords"]] == ["EAST", "ESTE"]
        changed = api.patch("/api/partners/eastside", json={"help_contact": "call 212-555-0100"})
        assert changed.json()["help_contact"] == "call 212-555-0100"
        words = api.post(
            "/api/partners/eastside/keywords", json={"add": ["EASTSIDE"], "remove": ["ESTE"]}
        )
        assert [k["word"] for k in words.json()["keywords"]] == ["EAST", "EASTSIDE"]
        listed = api.get("/api/partners").json()["partners"]
        assert [p["slug"] for p in listed if p["slug"] == "eastside"] == ["eastside"]
        assert api.get("/api/partners/eastside").json()["name"] == "Eastside Family Center"
        by_id = api.get(f"/api/partners/{created.json()['id']}")  # the id works as well
        assert by_id.json()["slug"] == "eastside"
        documented = api.get("/api/openapi.json").json()["paths"]
        assert {"get", "patch"} <= set(documented["/api/partners/{slug}"])
        assert "post" in documented["/api/partners/{slug}/keywords"]
    with transaction(sessions) as session:
        actions = session.scalars(
            select(AuditLog.action).where(AuditLog.actor == "admin@example.org")
        ).all()
    assert actions == ["partner.create", "partner.keywords", "partner.update", "partner.keywords"]


def test_refusals_are_4xx_with_the_reason_and_write_nothing(
    api_as: Callable[[str], TestClient], sessions: sessionmaker[Session]
) -> None:
    with api_as("admin") as api:
        api.post("/api/partners", json=EAST)
        taken = api.post(
            "/api/partners", json={"slug": "westside", "name": "West", "keywords": ["east"]}
        )
        assert (taken.status_code, taken.json()) == (
            400,
            {"error": "EAST is already a keyword of Eastside Family Center"},
        )
        builtin = api.post("/api/partners/eastside/keywords", json={"add": {"HELP": "en"}})
        assert builtin.status_code == 400 and "HELP is a built-in keyword" in builtin.text
        assert api.post("/api/partners", content=b"{nope").json() == {
            "error": "the body is not valid JSON"
        }
        wrong = api.patch("/api/partners/eastside", json={"name": 7, "colour": "red"})
        assert wrong.status_code == 400
        assert (
            wrong.json()["error"]
            == "unknown field 'colour'; name must be a string (\"\" clears it)"
        )
        assert api.get("/api/partners/nowhere").status_code == 404
        assert api.patch("/api/partners/nowhere", json={"name": "X"}).status_code == 404
    with transaction(sessions) as session:
        slugs = session.scalars(select(Partner.slug)).all()
    assert "westside" not in slugs


def test_staff_without_the_network_admin_role_read_but_cannot_write(
    api_as: Callable[[str], TestClient], sessions: sessionmaker[Session]
) -> None:
    with api_as("admin") as admin:
        admin.post("/api/partners", json=EAST)
    with api_as("staff") as api:
        assert api.get("/api/partners/eastside").status_code == 200
        for response in (
            api.post("/api/partners", json={"slug": "west", "name": "West"}),
            api.patch("/api/partners/eastside", json={"name": "Mine now"}),
            api.post("/api/partners/eastside/keywords", json={"remove": ["EAST"]}),
        ):
            assert (response.status_code, response.json()) == (
                403,
                {"error": "only network admins can change partners"},
            )
    with transaction(sessions) as session:
        assert session.scalar(select(func.count()).select_from(Partner)) in (1, 2)
        east = session.scalars(select(Partner).where(Partner.slug == "eastside")).one()
        assert (east.name, [k.word for k in east.keywords]) == (
            "Eastside Family Center",
            ["EAST", "ESTE"],
        )
