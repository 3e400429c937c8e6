from __future__ import annotations

from starlette.testclient import TestClient

from sms_service.core.db import build_engine
from sms_service.web.app import create_app
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
