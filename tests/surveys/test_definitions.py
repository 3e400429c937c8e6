"""The shipped survey passes the checker and installs as a draft with its three questions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from content.survey_specs import SurveySpecError, check_survey, default_survey, parse_survey
from sms_service.core.models import Survey, SurveyQuestion
from sms_service.surveys.definitions import SurveyError, create_survey, install_default

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


def test_the_shipped_survey_passes_the_checker_in_english_and_spanish() -> None:
    spec = default_survey()
    assert spec.languages == ("en", "es")
    assert [question.kind for question in spec.questions] == ["number", "number", "yes_no"]
    assert check_survey(spec) == []


def test_a_question_that_fails_the_checker_is_named() -> None:
    spec = default_survey()
    long = replace(spec.questions[0], ask={**spec.questions[0].ask, "en": "Tell me " * 60})
    findings = check_survey(replace(spec, questions=(long, *spec.questions[1:])))
    assert {(finding.item_id, finding.rule) for finding in findings} >= {
        ("shared_days.ask", "segments")
    }


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"questions": []}, "1 to 3 questions"),
        ({"schedule": "daily"}, "schedule must be"),
        ({"questions": [{"kind": "number", "min": 5, "max": 1, "ask": {}, "reask": {}}]}, "min"),
        ({"questions": [{"kind": "choice", "choices": {"en": ["A"]}}]}, "choices"),
    ],
)
def test_a_survey_file_that_cannot_be_used_says_why(
    change: dict[str, object], problem: str
) -> None:
    one = {"kind": "yes_no", "ask": {"en": "Ok? Reply YES or NO"}, "reask": {"en": "YES or NO?"}}
    data = {"name": "x", "schedule": "once", "thanks": {"en": "Ok"}, "questions": [one], **change}
    with pytest.raises(SurveySpecError, match=problem):
        parse_survey(data, file="x.yaml")


def test_installing_the_default_survey_twice_keeps_one_draft(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        first = install_default(session=session, now=NOW).id
    with sessions.begin() as session:
        assert install_default(session=session, now=NOW).id == first
    with sessions() as session:
        survey = session.scalars(select(Survey)).one()
        assert (survey.status, survey.schedule, survey.every_weeks) == ("draft", "every", 12)
        questions = session.scalars(select(SurveyQuestion).order_by(SurveyQuestion.position)).all()
        assert [(q.key, q.min_value, q.max_value) for q in questions] == [
            ("shared_days", 0, 7),
            ("joy", 1, 5),
            ("own_moment", None, None),
        ]
        assert "{child}" in questions[0].texts["es"]["ask"]
        assert "SI" in questions[2].texts["es"]["yes_no"]["yes"]


def test_a_survey_whose_text_fails_the_checker_is_refused(sessions: sessionmaker[Session]) -> None:
    spec = default_survey()
    bad = replace(spec.questions[0], ask={**spec.questions[0].ask, "es": "Hola " * 80})
    with sessions.begin() as session, pytest.raises(SurveyError, match=r"shared_days\.ask"):
        create_survey(session=session, spec=replace(spec, questions=(bad,)), now=NOW)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Survey)) == 0
