from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, text
from starlette.testclient import TestClient

from jobs.scheduler import JOBS_TABLE, PLANNER_JOB_ID
from sms_service.core.db import build_engine, downgrade, upgrade
from sms_service.core.models import utcnow
from sms_service.core.settings import Settings
from sms_service.web.app import create_app
from tests.helpers.scheduler import lead_once
from tests.helpers.settings import make_settings


def test_healthz_reports_a_reachable_database(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_is_unreachable() -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/nowhere"
    app = create_app(
        make_settings(url), engine=build_engine(url, connect_args={"connect_timeout": 2})
    )
    with TestClient(app) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_readyz_needs_the_latest_schema_and_a_leading_scheduler(
    client: TestClient, settings: Settings, engine: Engine
) -> None:
    waiting = client.get("/readyz")
    assert waiting.status_code == 503
    assert waiting.json()["checks"]["schema"]["ok"] is True
    assert "no scheduler has run" in waiting.json()["checks"]["scheduler"]["detail"]

    lead_once(settings, engine)  # what the leading scheduler does
    ready = client.get("/readyz")
    assert (ready.status_code, ready.json()["status"]) == (200, "ready")

    with engine.begin() as connection:  # the leader died an hour ago
        connection.execute(
            text(f"UPDATE {JOBS_TABLE} SET next_run_time = :stamp WHERE id = :id"),
            {"stamp": (utcnow() - timedelta(hours=1)).timestamp(), "id": PLANNER_JOB_ID},
        )
    stale = client.get("/readyz")
    assert stale.status_code == 503 and "overdue" in stale.json()["checks"]["scheduler"]["detail"]

    try:
        downgrade(engine, "-1")  # code newer than the database: not ready until migrated
        behind = client.get("/readyz").json()["checks"]["schema"]
        assert behind["ok"] is False and "sms-tips db upgrade" in behind["detail"]
    finally:
        upgrade(engine)
    assert client.get("/healthz").status_code == 200  # liveness does not care


def test_readyz_is_503_when_the_database_is_unreachable() -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/nowhere"
    app = create_app(
        make_settings(url), engine=build_engine(url, connect_args={"connect_timeout": 2})
    )
    with TestClient(app) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"ok": False, "detail": "unreachable"}
