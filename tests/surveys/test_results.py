"""Survey results as staff read them: response rates, each question's answers by language, age
band and month, and the CSV, from the API (a staff token) with figures counted by hand."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from sms_service.core.audit import Actor
from sms_service.core.db import transaction
from sms_service.core.models import utcnow
from sms_service.staff.tokens import create_api_token
from sms_service.surveys.results import age_band
from tests.helpers.people import add_staff
from tests.helpers.surveys import seed_answers


@pytest.fixture
def api(app: Starlette, sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    with transaction(sessions) as session:
        staff_id = add_staff(session, "sam@example.org")
        token = create_api_token(session, staff_user_id=staff_id, name="t", actor=Actor("test"))
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


@pytest.mark.parametrize(
    ("birth", "band"),
    [
        (date(2026, 7, 1), "0-5 months"),  # expected: counts as a newborn
        (date(2026, 6, 2), "0-5 months"),
        (date(2025, 12, 3), "0-5 months"),  # 5 months and 30 days
        (date(2025, 12, 2), "6-11 months"),
        (date(2025, 6, 2), "12-23 months"),
        (date(2024, 6, 2), "24-35 months"),
        (None, "age unknown"),
    ],
)
def test_age_bands_count_whole_months(birth: date | None, band: str) -> None:
    assert age_band(birth=birth, on=date(2026, 6, 2)) == band


def test_results_count_families_asked_and_answers_per_group(
    api: TestClient, sessions: sessionmaker[Session]
) -> None:
    survey_id = seed_answers(api, sessions)
    month = utcnow().strftime("%Y-%m")

    found = api.get(f"/api/surveys/{survey_id}/results")

    assert found.status_code == 200
    results = found.json()
    # Asked: four families whose question went out (the fifth's is still in the outbox);
    # answered: three of them.
    assert results["response"] == {"asked": 4, "responded": 3, "rate": 0.75}
    assert results["response_by_language"] == {
        "en": {"asked": 3, "responded": 2, "rate": 2 / 3},
        "es": {"asked": 1, "responded": 1, "rate": 1.0},
    }
    assert results["response_by_age_band"]["12-23 months"] == {
        "asked": 1,
        "responded": 1,
        "rate": 1.0,
    }
    shared, joy, own = results["questions"]
    assert shared["answered"] == 3
    assert {k: v for k, v in shared["distribution"].items() if v} == {"3": 2, "7": 1}
    assert list(shared["distribution"]) == [str(day) for day in range(8)]  # empty bars too
    assert shared["by_language"]["es"]["7"] == 1
    assert shared["by_age_band"]["0-5 months"]["3"] == 2
    assert shared["by_month"][month]["3"] == 2
    assert {k: v for k, v in joy["distribution"].items() if v} == {"5": 1, "1": 1}
    assert own["distribution"] == {"1": 1, "0": 1}


def test_the_csv_has_one_row_an_answer_and_no_phone_numbers(
    api: TestClient, sessions: sessionmaker[Session]
) -> None:
    survey_id = seed_answers(api, sessions)
    response = api.get(f"/api/surveys/{survey_id}/answers.csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 7
    assert sorted((row["question"], row["answer"], row["language"]) for row in rows) == [
        ("joy", "1", "es"),
        ("joy", "5", "en"),
        ("own_moment", "0", "es"),
        ("own_moment", "1", "en"),
        ("shared_days", "3", "en"),
        ("shared_days", "3", "en"),
        ("shared_days", "7", "es"),
    ]
    assert "+1212" not in response.text and "555" not in response.text


def test_an_unknown_survey_is_a_404_and_the_api_needs_a_token(
    api: TestClient, client: TestClient
) -> None:
    assert api.get("/api/surveys/999/results").status_code == 404
    assert api.get("/api/surveys/999/answers.csv").status_code == 404
    assert api.get("/api/surveys").json() == []
    assert client.get("/api/surveys/1/results").status_code == 401
