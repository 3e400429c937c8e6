"""A parent's text read as the answer to a survey question: what fits, and what is sent back."""

from __future__ import annotations

import re
from typing import Any

from content.render import render_tip
from sms_service.core.models import SurveyQuestion
from sms_service.surveys import questions
from sms_service.surveys.questions import OpenQuestion
from sms_service.texting.answers import fold
from sms_service.texting.conversation import Turn

# "3", "3 days", "5!" (fold drops the "!"); more than 3 digits is nobody's count of days.
_NUMBER = re.compile(r"^(\d{1,3})(?: [A-Z ]*)?$", re.ASCII)


def parse_value(question: SurveyQuestion, body: str, wording: dict[str, Any]) -> int | None:
    """The answer `body` gives (a number; a choice 1..n; yes 1, no 0); None: it does not fit."""
    folded = fold(body)
    number = _NUMBER.match(folded)
    if question.kind == "number":
        if number is None or question.min_value is None or question.max_value is None:
            return None
        value = int(number.group(1))
        return value if question.min_value <= value <= question.max_value else None
    if question.kind == "choice":
        labels = [fold(label) for label in wording.get("choices") or []]
        if number is not None and 1 <= int(number.group(1)) <= len(labels):
            return int(number.group(1))
        return labels.index(folded) + 1 if folded in labels else None
    words = wording.get("yes_no") or {}
    first = folded.split(" ", 1)[0] if folded else ""
    for value, key in ((1, "yes"), (0, "no")):
        if folded in words.get(key, ()) or first in words.get(key, ()):
            return value
    return None


def answer_question(turn: Turn, open: OpenQuestion, body: str) -> tuple[str, str] | None:
    """(the reply, how the text was handled) for `body` as the answer to `open`: the next
    question or thanks ("survey_answer"), or the question asked again once ("survey_reask").
    None: a second answer that does not fit, so the inbox takes the text."""
    language = _language_of(open.question, turn.caregiver.language)
    wording = _wording(open.question, language)
    value = parse_value(open.question, body, wording)
    if value is None:
        if not questions.reask(open=open, now=turn.now):
            return None
        return _render(turn, open, wording["reask"], language), "survey_reask"
    turn.session.add(turn.inbound)  # the answer names the text's row: written now
    turn.session.flush()
    following = questions.record_answer(
        session=turn.session, open=open, value=value, inbound_id=turn.inbound.id, now=turn.now
    )
    if following is None:
        return _render(turn, open, wording["thanks"], language), "survey_answer"
    return _render(turn, open, _wording(following, language)["ask"], language), "survey_answer"


def _language_of(question: SurveyQuestion, preferred: str) -> str:
    return preferred if preferred in question.texts else next(iter(question.texts))


def _wording(question: SurveyQuestion, language: str) -> dict[str, Any]:
    wording = dict(question.texts[language])
    if question.choices is not None:
        wording["choices"] = question.choices.get(language, [])
    return wording


def _render(turn: Turn, open: OpenQuestion, text: str, language: str) -> str:
    child = questions.child_for(session=turn.session, run=open.run)
    return render_tip(
        text,
        language=language,
        child_name=child.name if child is not None else None,
        age_weeks=questions.age_weeks(child=child, today=turn.today),
        program_name=turn.settings.program_name,
    )
