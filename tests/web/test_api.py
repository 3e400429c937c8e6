from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from sms_service.core.audit import Actor
from sms_service.core.db import transaction
from sms_service.core.models import ApiToken, AuditLog, Campaign, utcnow
from sms_service.staff.tokens import create_api_token
from tests.helpers.campaigns import EN, ES
from tests.helpers.people import add_caregiver, add_staff
from tests.helpers.reports import seed_recent

CAMPAIGN = {
    "name": "Library week",
    "audience": {"keywords": ["JOIN-LIBRARY"]},
    "messages": [{"send_at": "2031-04-07T10:00", "texts": {"en": EN, "es": ES}}],
}


@pytest.fixture
def api(app: Starlette, sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    """A client that sends a staff member's bearer token."""
    with transaction(sessions) as session:
        staff_id = add_staff(session, "sam@example.org")
        token = create_api_token(
            session, staff_user_id=staff_id, name="tests", actor=Actor(name="test")
        )
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


def test_create_show_and_control_a_campaign(
    api: TestClient, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        add_caregiver(session, keyword="JOIN-LIBRARY")
        add_caregiver(session)
    created = api.post("/api/campaigns", json=CAMPAIGN)
    assert created.status_code == 201, created.text
    campaign_id = created.json()["id"]
    assert created.json()["messages"][0]["send_at"] == "2031-04-07T10:00"
    shown = api.get(f"/api/campaigns/{campaign_id}").json()
    assert shown["audience_size"] == {"en": 1, "es": 0, "total": 1}
    assert shown["checks"]["0"]["en"]["findings"] == []
    assert shown["checks"]["0"]["en"]["body"] == f"Little Moments: {EN}"
    assert shown["results"]["sent"] == 0
    assert api.post(f"/api/campaigns/{campaign_id}/schedule").json()["status"] == "scheduled"
    assert api.post(f"/api/campaigns/{campaign_id}/pause").json()["status"] == "paused"
    refused = api.post(f"/api/campaigns/{campaign_id}/pause")
    assert refused.status_code == 409 and "cannot be paused" in refused.json()["error"]
    assert api.post(f"/api/campaigns/{campaign_id}/cancel").json()["status"] == "cancelled"
    assert [c["id"] for c in api.get("/api/campaigns").json()["campaigns"]] == [campaign_id]
    assert api.post("/api/campaigns/999/schedule").status_code == 404
    with sessions() as session:
        actions = session.scalars(
            select(AuditLog.action).where(AuditLog.actor == "sam@example.org")
        ).all()
        assert actions == [
            "campaign.create",
            "campaign.schedule",
            "campaign.pause",
            "campaign.cancel",
        ]
        assert session.scalars(select(ApiToken.last_used_at)).one() is not None


def test_a_campaign_can_be_sent_past_the_weekly_limit_on_purpose(
    api: TestClient, sessions: sessionmaker[Session]
) -> None:
    usual = api.post("/api/campaigns", json=CAMPAIGN).json()
    urgent = api.post("/api/campaigns", json={**CAMPAIGN, "exceeds_weekly_cap": True}).json()
    assert (usual["exceeds_weekly_cap"], urgent["exceeds_weekly_cap"]) == (False, True)
    with sessions() as session:
        audited = session.execute(
            select(AuditLog.actor, AuditLog.target_id).where(
                AuditLog.action == "campaign.weekly_cap_exception"
            )
        ).all()
    assert audited == [("sam@example.org", str(urgent["id"]))]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"not json", "not valid JSON"),
        (b"[]", "JSON object"),
        (b'{"name": "x", "messages": [{"texts": {}}]}', "messages must be"),
        (b'{"name": "x", "audience": {"languages": ["fr"]}, "messages": []}', "languages"),
        (b'{"name": "x", "messages": []}', "at least one message"),
        (
            b'{"name": "x", "messages": [{"send_at": "9999-12-31T23:00", '
            b'"texts": {"en": "Hi", "es": "Hola"}}]}',
            "more than five years ahead",
        ),
    ],
)
def test_bad_requests_get_a_400_and_save_nothing(
    api: TestClient, sessions: sessionmaker[Session], body: bytes, problem: str
) -> None:
    response = api.post(
        "/api/campaigns", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400 and problem in response.json()["error"]
    with sessions() as session:
        assert session.scalars(select(Campaign)).all() == []


def test_stats_and_openapi(api: TestClient, sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        add_caregiver(session)
        add_caregiver(session, status="opted_out")
    stats = api.get("/api/stats").json()
    assert stats["by_status"]["active"] == 1 and stats["by_status"]["opted_out"] == 1
    assert stats["enrolled"] == 2
    assert len(stats["enrollments_per_week"]) == 12
    assert stats["enrollments_per_week"][-1]["enrolled"] == 2
    document = api.get("/api/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert {"/api/campaigns", "/api/campaigns/{campaign_id}/pause", "/api/stats"} <= set(
        document["paths"]
    )
    assert document["paths"]["/api/campaigns"]["post"]["summary"] == "Create a draft campaign"
    for path, operations in document["paths"].items():
        for operation in operations.values():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == set(re.findall(r"\{(\w+)\}", path)), path


def test_revoked_tokens_stop_working(app: Starlette, sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        staff_id = add_staff(session, "sam@example.org")
        token = create_api_token(
            session, staff_user_id=staff_id, name="old", actor=Actor(name="test")
        )
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/stats", headers=headers).status_code == 200
        with transaction(sessions) as session:
            session.scalars(select(ApiToken)).one().revoked_at = utcnow()
        assert client.get("/api/stats", headers=headers).status_code == 401


def test_stats_by_range_with_rates_and_tips(
    api: TestClient, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        seed_recent(session, now=utcnow())
    week = api.get("/api/stats?range=week").json()
    assert week["range"]["preset"] == "week" and week["texts"]["sent"] == 1
    assert week["rates"] == {"delivery": 1.0, "opt_outs_per_100_sent": 0.0, "reply": 1.0}
    month = api.get("/api/stats").json()  # last 4 weeks unless asked
    assert month["range"]["preset"] == "4weeks" and month["texts"]["sent"] == 3
    assert month["rates"]["reply"] == pytest.approx(1 / 3)
    assert month["rates"]["opt_outs_per_100_sent"] == pytest.approx(100 / 3)
    assert month["failures"] == [
        {
            "code": "30006",
            "words": "30006: a landline, or a carrier that cannot take texts",
            "texts": 1,
            "families": 1,
        }
    ]
    assert [t["tip_id"] for t in month["tips"]] == ["en-recent"]
    assert [step["step"] for step in month["funnel"]] == ["planned", "sent", "delivered", "failed"]
    assert sum(month["by_status"].values()) == month["families"] == 3


@pytest.mark.parametrize(
    "query",
    ["range=custom&from=nope", "from=2026-05-02&to=2026-05-01", "from=2026-05-01&to=2999-01-01"],
)
def test_stats_refuse_a_bad_range_in_words(api: TestClient, query: str) -> None:
    response = api.get(f"/api/stats?{query}")
    assert response.status_code == 400
    assert re.match(r"The (start date|range)", response.json()["error"])
