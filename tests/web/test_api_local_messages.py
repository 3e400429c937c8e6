"""Local messages through the JSON API: a partner's token writes for its own families and
submits; only a network admin's token approves or sends back; another partner's token sees none."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from sms_service.core.audit import Actor
from sms_service.core.db import transaction
from sms_service.core.models import utcnow
from sms_service.core.settings import Settings
from sms_service.staff.tokens import create_api_token
from tests.helpers.campaigns import EN, ES
from tests.helpers.partners import add_partner
from tests.helpers.people import add_staff

Tokens = Callable[[str, str, int | None], TestClient]


@pytest.fixture
def api_as(app: Starlette, sessions: sessionmaker[Session]) -> Tokens:
    """A client whose bearer token belongs to a new staff account (role, partner)."""

    def make(email: str, role: str, partner_id: int | None) -> TestClient:
        with transaction(sessions) as session:
            staff_id = add_staff(session, email, role=role, partner_id=partner_id)
            token = create_api_token(
                session, staff_user_id=staff_id, name="tests", actor=Actor(name="test")
            )
        return TestClient(app, headers={"Authorization": f"Bearer {token}"})

    return make


def _document(settings: Settings) -> dict[str, object]:
    later = (utcnow() + timedelta(days=3)).astimezone(settings.zone)
    return {
        "name": "Playgroup Thursdays",
        "audience": {"languages": ["en", "es"]},
        "messages": [{"send_at": later.strftime("%Y-%m-%dT%H:%M"), "texts": {"en": EN, "es": ES}}],
    }


def test_a_partner_token_writes_and_submits_and_a_network_admin_approves(
    api_as: Tokens, sessions: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(sessions) as session:
        east = add_partner(session, settings, "eastside").id
        west = add_partner(session, settings, "westside").id
    with (
        api_as("eve@example.org", "admin", east) as eve,
        api_as("eli@example.org", "staff", east) as eli,
        api_as("wes@example.org", "admin", west) as wes,
        api_as("ada@example.org", "admin", None) as ada,
    ):
        assert eli.post("/api/campaigns", json=_document(settings)).status_code == 403
        created = eve.post("/api/campaigns", json=_document(settings))
        assert created.status_code == 201, created.text
        local = created.json()
        assert local["partner_id"] == east and local["audience"]["partners"] == [east]
        campaign_id = local["id"]
        scheduled = eve.post(f"/api/campaigns/{campaign_id}/schedule")
        assert scheduled.status_code == 409 and "approves" in scheduled.json()["error"]
        assert eve.post(f"/api/campaigns/{campaign_id}/submit").json()["status"] == "review"
        assert eve.post(f"/api/campaigns/{campaign_id}/approve").status_code == 403
        # Westside's token: nothing of Eastside's, not even that the campaign exists.
        assert wes.get(f"/api/campaigns/{campaign_id}").status_code == 404
        assert wes.post(f"/api/campaigns/{campaign_id}/cancel").status_code == 404
        assert wes.get("/api/campaigns").json()["campaigns"] == []
        back = ada.post(f"/api/campaigns/{campaign_id}/send-back", json={"note": "Add the room"})
        assert back.json()["status"] == "draft"
        eve.post(f"/api/campaigns/{campaign_id}/submit")
        approved = ada.post(f"/api/campaigns/{campaign_id}/approve")
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "scheduled" and approved.json()["approved_at"]
        assert [c["id"] for c in eve.get("/api/campaigns").json()["campaigns"]] == [campaign_id]
