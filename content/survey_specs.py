"""Surveys written as data (content/surveys/*.yaml): reading them, and the checks they must pass."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from content.findings import Finding
from content.languages import content_root
from content.message_rules import check_message

KINDS = ("number", "choice", "yes_no")
SCHEDULES = ("once", "every", "at_age")
MAX_QUESTIONS = 3
MAX_CHOICES = 5  # "a short list": more than this does not fit a text a parent answers
MAX_EVERY_WEEKS = 52
MAX_AGE_MONTHS = 36  # the program ends at the child's third birthday


class SurveySpecError(ValueError):
    """A survey file that cannot be used, naming the file and what is wrong."""


@dataclass(frozen=True)
class QuestionSpec:
    """One question: what fits as an answer, and its words per language."""

    key: str
    kind: str
    ask: dict[str, str]
    reask: dict[str, str]
    min_value: int | None = None
    max_value: int | None = None
    choices: dict[str, list[str]] | None = None


@dataclass(frozen=True)
class SurveySpec:
    """A survey as written: its questions, schedule, audience and closing words."""

    name: str
    schedule: str
    questions: tuple[QuestionSpec, ...]
    thanks: dict[str, str]
    yes_no: dict[str, dict[str, list[str]]]
    every_weeks: int | None = None
    at_age_months: tuple[int, ...] | None = None
    min_age_months: int | None = None
    max_age_months: int | None = None

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages every question is written in."""
        return tuple(self.thanks)


def _texts(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not value:
        raise SurveySpecError(f"{where}: a mapping language -> text is needed")
    if not all(isinstance(text, str) and text.strip() for text in value.values()):
        raise SurveySpecError(f"{where}: every text must be a non-empty string")
    return {str(language): str(text).strip() for language, text in value.items()}


def _question(data: Any, where: str) -> QuestionSpec:
    if not isinstance(data, dict):
        raise SurveySpecError(f"{where}: a question is a mapping")
    kind = data.get("kind")
    if kind not in KINDS:
        raise SurveySpecError(f"{where}: kind must be one of {', '.join(KINDS)}")
    low, high = data.get("min"), data.get("max")
    if kind == "number" and not (isinstance(low, int) and isinstance(high, int) and low <= high):
        raise SurveySpecError(f"{where}: a number question needs whole numbers min <= max")
    choices = data.get("choices")
    fits = isinstance(choices, dict) and all(
        isinstance(labels, list) and 2 <= len(labels) <= MAX_CHOICES for labels in choices.values()
    )
    if kind == "choice" and not fits:
        raise SurveySpecError(f"{where}: choices are 2 to {MAX_CHOICES} labels per language")
    return QuestionSpec(
        key=str(data.get("key") or ""),
        kind=kind,
        ask=_texts(data.get("ask"), f"{where}: ask"),
        reask=_texts(data.get("reask"), f"{where}: reask"),
        min_value=low if kind == "number" else None,
        max_value=high if kind == "number" else None,
        choices={str(k): [str(label) for label in v] for k, v in choices.items()}
        if kind == "choice" and isinstance(choices, dict)
        else None,
    )


def parse_survey(data: Any, *, file: str) -> SurveySpec:
    """The survey a YAML document describes, or SurveySpecError naming what is wrong."""
    if not isinstance(data, dict):
        raise SurveySpecError(f"{file}: a survey is a mapping")
    questions = data.get("questions")
    if not isinstance(questions, list) or not 1 <= len(questions) <= MAX_QUESTIONS:
        raise SurveySpecError(f"{file}: a survey has 1 to {MAX_QUESTIONS} questions")
    schedule = data.get("schedule", "once")
    if schedule not in SCHEDULES:
        raise SurveySpecError(f"{file}: schedule must be one of {', '.join(SCHEDULES)}")
    ages = data.get("at_age_months")
    every, low, high = (
        data.get(key) for key in ("every_weeks", "min_age_months", "max_age_months")
    )
    if schedule == "every" and not (isinstance(every, int) and 1 <= every <= MAX_EVERY_WEEKS):
        raise SurveySpecError(f"{file}: every N weeks needs N from 1 to {MAX_EVERY_WEEKS}")
    fits = isinstance(ages, list) and all(
        isinstance(age, int) and 0 <= age <= MAX_AGE_MONTHS for age in ages
    )
    if schedule == "at_age" and not (fits and ages):
        raise SurveySpecError(
            f"{file}: at a child's age needs ages from 0 to {MAX_AGE_MONTHS} months, such as 6, 12"
        )
    for age in (low, high):
        if age is not None and not (isinstance(age, int) and 0 <= age <= MAX_AGE_MONTHS):
            raise SurveySpecError(f"{file}: ages are months from 0 to {MAX_AGE_MONTHS}")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        raise SurveySpecError(f"{file}: the youngest age is above the oldest")
    return SurveySpec(
        name=str(data.get("name") or "").strip() or Path(file).stem,
        schedule=schedule,
        questions=tuple(
            _question(item, f"{file}: question {number}")
            for number, item in enumerate(questions, start=1)
        ),
        thanks=_texts(data.get("thanks"), f"{file}: thanks"),
        yes_no={str(k): dict(v) for k, v in (data.get("yes_no") or {}).items()},
        every_weeks=every if schedule == "every" else None,
        at_age_months=tuple(ages) if schedule == "at_age" and isinstance(ages, list) else None,
        min_age_months=low,
        max_age_months=high,
    )


def load_survey(path: Path) -> SurveySpec:
    """The survey in the YAML file `path`."""
    return parse_survey(yaml.safe_load(path.read_text(encoding="utf-8")), file=path.name)


def default_survey(root: Path | None = None) -> SurveySpec:
    """The survey the program ships (content/surveys/default.yaml)."""
    return load_survey((root or content_root()) / "surveys" / "default.yaml")


def check_survey(spec: SurveySpec) -> list[Finding]:
    """Every finding of the checker for the survey's texts, and questions missing a language."""
    findings: list[Finding] = []
    for language in spec.languages:
        texts = [("thanks", spec.thanks[language])]
        if language not in spec.yes_no and any(q.kind == "yes_no" for q in spec.questions):
            findings.append(
                Finding("structure", "error", f"no yes/no words for {language}", item_id="yes_no")
            )
        for question in spec.questions:
            for part, wording in (("ask", question.ask), ("reask", question.reask)):
                if language not in wording:
                    findings.append(
                        Finding(
                            "structure",
                            "error",
                            f"{part} has no {language} text",
                            item_id=question.key,
                        )
                    )
                else:
                    texts.append((f"{question.key}.{part}", wording[language]))
        for item_id, text in texts:
            for finding in check_message(text, language=language):
                findings.append(
                    Finding(finding.rule, finding.severity, finding.message, item_id=item_id)
                )
    return findings
