from __future__ import annotations

from starlette.testclient import TestClient

from sms_service.app import create_app
from sms_service.db import build_engine
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
