"""The survey pages: staff add the shipped survey, start and stop it, and read its results."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from sms_service.core.db import transaction
from sms_service.core.models import AuditLog, Caregiver, Survey, utcnow
from sms_service.core.settings import Settings
from sms_service.surveys.definitions import install_default
from tests.helpers.partners import add_partner
from tests.helpers.people import add_staff
from tests.helpers.surveys import seed_answers
from tests.web.admin.conftest import sign_in


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


FORM = {
    "name": "Reading together",
    "schedule": "at_age",
    "at_age_months": "6, 12",
    "language": "",
    "q1_kind": "number",
    "q1_min": "0",
    "q1_max": "7",
    "q1_ask_en": "On how many days this week did you and {child} look at a book? Reply 0-7",
    "q1_ask_es": "¿Cuántos días esta semana miraste un libro con {child}? Responde 0-7",
    "q1_reask_en": "Thanks! Any number from 0 to 7 works: on how many days did you read?",
    "q1_reask_es": "¡Gracias! Manda un número del 0 al 7: ¿cuántos días leyeron juntos?",
    "q2_kind": "choice",
    "q2_ask_en": "Which do you enjoy most with {child}? Reply 1 songs, 2 books, 3 walks",
    "q2_ask_es": "¿Qué disfrutas más con {child}? Responde 1 canciones, 2 libros, 3 paseos",
    "q2_reask_en": "Thanks! Reply 1 for songs, 2 for books or 3 for walks.",
    "q2_reask_es": "¡Gracias! Responde 1 canciones, 2 libros o 3 paseos.",
    "q2_choices_en": "songs, books, walks",
    "q2_choices_es": "canciones, libros, paseos",
    "thanks_en": "Thank you! Your answers help us make our texts better for you.",
    "thanks_es": "¡Gracias! Tus respuestas nos ayudan a mejorar estos mensajes.",
}


def test_staff_write_a_survey_for_one_partner_and_it_is_saved_as_a_draft(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(sessions) as session:
        eastside = add_partner(session, settings, "eastside").id
    assert "Eastside Family Center" in web.get("/admin/surveys/new").text
    saved = web.post(
        "/admin/surveys", data={**FORM, "partner_id": str(eastside), "csrf_token": staff_csrf}
    )
    assert "Reading together is ready as a draft" in saved.text
    assert "Eastside Family Center families" in saved.text  # the list says whom it asks
    with sessions() as session:
        survey = session.scalars(select(Survey).where(Survey.name == "Reading together")).one()
        assert (survey.status, survey.partner_id, survey.at_age_months) == (
            "draft",
            eastside,
            [6, 12],
        )
        kinds = [question.kind for question in survey.questions]
        assert kinds == ["number", "choice"]
        assert survey.questions[1].choices == {
            "en": ["songs", "books", "walks"],
            "es": ["canciones", "libros", "paseos"],
        }
        actions = session.scalars(select(AuditLog.action)).all()
    assert "survey.create" in actions


def test_a_survey_the_checker_or_the_form_refuses_is_shown_again_with_why(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    for change, why in (
        (
            {"q1_ask_en": "Put the baby to sleep on a pillow with a blanket, then reply 0-7"},
            "sleep",
        ),
        ({"at_age_months": "6, soon"}, "each age in months must be a whole number"),
        ({"at_age_months": "48"}, "ages from 0 to 36 months"),
        ({"q1_max": ""}, "a number question needs whole numbers min &lt;= max"),
        ({"q2_choices_es": "solo uno"}, "choices are 2 to 5 labels"),
        ({"schedule": "every", "every_weeks": "0"}, "every N weeks needs N from 1 to 52"),
    ):
        refused = web.post("/admin/surveys", data={**FORM, **change, "csrf_token": staff_csrf})
        assert refused.status_code == 422, change
        assert why in refused.text, (change, refused.text[-2000:])
        assert 'value="Reading together"' in refused.text  # nothing typed is lost
    with sessions() as session:
        assert session.scalars(select(Survey)).all() == []


def test_a_partners_staff_read_surveys_but_do_not_write_or_start_them(
    web: TestClient, sessions: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(sessions) as session:
        eastside = add_partner(session, settings, "eastside").id
        add_staff(session, "eve@example.org", "admin", partner_id=eastside)
        survey_id = install_default(session=session, now=utcnow()).id
    csrf = sign_in(web, "eve@example.org")
    listing = web.get("/admin/surveys").text
    assert "Moments together" in listing and "Start asking" not in listing
    assert web.get("/admin/surveys/new").status_code == 403
    for path in ("/admin/surveys", "/admin/surveys/default", f"/admin/surveys/{survey_id}/start"):
        assert web.post(path, data={**FORM, "csrf_token": csrf}).status_code == 403, path
    with sessions() as session:
        assert session.scalars(select(Survey.status)).all() == ["draft"]
