"""The survey pages: staff add the shipped survey, start and stop it, and read its results."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from sms_service.core.models import Caregiver, Survey
from tests.helpers.surveys import seed_answers


def test_staff_add_start_and_stop_the_shipped_survey(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    assert "No survey yet." in web.get("/admin/surveys").text
    added = web.post("/admin/surveys/default", data={"csrf_token": staff_csrf})
    assert "Moments together is ready as a draft" in added.text
    with sessions() as session:
        survey_id = session.scalars(select(Survey.id)).one()
    started = web.post(f"/admin/surveys/{survey_id}/start", data={"csrf_token": staff_csrf})
    assert "Moments together is active." in started.text
    stopped = web.post(f"/admin/surveys/{survey_id}/stop", data={"csrf_token": staff_csrf})
    assert "Moments together is stopped." in stopped.text
    again = web.post(f"/admin/surveys/{survey_id}/start", data={"csrf_token": staff_csrf})
    assert "a stopped survey stays stopped" in again.text
    missing = web.post("/admin/surveys/999/start", data={"csrf_token": staff_csrf})
    assert missing.status_code == 200 and "no survey 999" in missing.text


def test_the_results_page_shows_rates_and_each_questions_answers(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    survey_id = seed_answers(web, sessions)
    page = web.get(f"/admin/surveys/{survey_id}").text

    response = re.search(r'<section class="card" id="response">(.*?)</section>', page, re.S)
    assert response is not None
    first = re.search(r'<th scope="row">All</th>(.*?)</tr>', response[1])
    assert first is not None
    assert re.findall(r"<td[^>]*>([^<]*)</td>", first[1]) == ["4", "3", "75%"]
    shared = re.search(r'id="question-shared_days">(.*?)</section>', page, re.S)
    assert shared is not None
    # All: 0 to 7 days; two families said 3, one 7.
    row = re.search(r'<tr class="all"><th scope="row">All</th>(.*?)</tr>', shared[1])
    assert row is not None
    assert re.findall(r"<td[^>]*>(\d+)</td>", row[1]) == ["0", "0", "0", "2", "0", "0", "0", "1"]
    csv = web.get(f"/admin/surveys/{survey_id}/answers.csv")
    assert csv.headers["content-disposition"] == f'attachment; filename="survey-{survey_id}.csv"'
    assert csv.text.count("\n") == 8  # the header and seven answers
    assert web.get("/admin/surveys/999").status_code == 404


def test_a_familys_data_export_has_its_survey_answers(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    seed_answers(web, sessions)
    with sessions() as session:
        caregiver_id = session.scalars(
            select(Caregiver.id).where(Caregiver.phone == "+12125550301")
        ).one()
    data = web.get(f"/admin/caregivers/{caregiver_id}/export.json").json()
    assert [(a["question"], a["value"]) for a in data["survey_answers"]] == [
        ("shared_days", 3),
        ("joy", 5),
        ("own_moment", 1),
    ]
