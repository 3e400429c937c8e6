"""The new-survey form read into what the survey domain takes: the written survey (the same
shape as a file in content/surveys, so the same checks apply) and its audience."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData

from content.survey_specs import (
    MAX_QUESTIONS,
    SurveySpec,
    SurveySpecError,
    default_survey,
    parse_survey,
)
from sms_service.surveys.definitions import SurveyAudience
from sms_service.web.admin.forms import query_number, text_field

# The survey's texts are short by design: a field longer than a few texts is cut here, and the
# checker then names what is too long.
MAX_TEXT = 480
LANGUAGES = ("en", "es")


def _number(form: FormData, name: str, label: str) -> int | None:
    """A whole number the form may leave empty; SurveySpecError when it is not one."""
    return _whole(text_field(form, name, 12), label)


def _whole(raw: str, label: str) -> int | None:
    if not raw:
        return None
    number = query_number(raw, maximum=10_000)
    if number is None:
        raise SurveySpecError(f"{label} must be a whole number such as 12, not {raw!r}")
    return number


def _by_language(form: FormData, field: str) -> dict[str, str]:
    texts = {code: text_field(form, f"{field}_{code}", MAX_TEXT) for code in LANGUAGES}
    return {code: text for code, text in texts.items() if text}


def _question(form: FormData, number: int) -> dict[str, Any] | None:
    ask = _by_language(form, f"q{number}_ask")
    if not ask:
        return None
    kind = text_field(form, f"q{number}_kind", 10)
    question: dict[str, Any] = {
        "key": f"q{number}",
        "kind": kind,
        "ask": ask,
        "reask": _by_language(form, f"q{number}_reask"),
    }
    if kind == "number":
        question["min"] = _number(form, f"q{number}_min", f"question {number}'s lowest answer")
        question["max"] = _number(form, f"q{number}_max", f"question {number}'s highest answer")
    if kind == "choice":
        question["choices"] = {
            code: [label.strip() for label in labels.split(",") if label.strip()]
            for code, labels in _by_language(form, f"q{number}_choices").items()
        }
    return question


def survey_from_form(form: FormData) -> tuple[SurveySpec, SurveyAudience]:
    """The survey and audience the form describes; SurveySpecError naming what is missing."""
    ages = [age.strip() for age in text_field(form, "at_age_months", 40).split(",")]
    data: dict[str, Any] = {
        "name": text_field(form, "name", 80),
        "schedule": text_field(form, "schedule", 10),
        "every_weeks": _number(form, "every_weeks", "the weeks between surveys"),
        "at_age_months": [_whole(age, "each age in months") for age in ages if age] or None,
        "min_age_months": _number(form, "min_age_months", "the youngest age in months"),
        "max_age_months": _number(form, "max_age_months", "the oldest age in months"),
        "questions": [
            question
            for number in range(1, MAX_QUESTIONS + 1)
            if (question := _question(form, number)) is not None
        ],
        "thanks": _by_language(form, "thanks"),
        # How families say yes and no is the shipped survey's, in every language it knows.
        "yes_no": default_survey().yes_no,
    }
    spec = parse_survey(data, file="this survey")
    language = text_field(form, "language", 5)
    tag = text_field(form, "tag", 40).lower().replace("\x00", "")
    audience = SurveyAudience(
        language=language or None,
        tag=tag or None,
        partner_id=query_number(text_field(form, "partner_id", 12)),
    )
    return spec, audience
