"""Which conversation owns a text, as a table: commands, enrollment, a survey question, inbox."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sms_service.core.models import SurveyQuestion, SurveyRun
from sms_service.surveys.questions import OpenQuestion
from sms_service.texting.keywords import Keyword, Kind
from sms_service.texting.owner import Facts, Owner, owner_of, without_soft_opt_in

OPEN = OpenQuestion(
    run=SurveyRun(), question=SurveyQuestion(), asked_at=datetime(2026, 12, 2, tzinfo=UTC)
)
STOP = Keyword(Kind.OPT_OUT, "STOP", None)
YES = Keyword(Kind.OPT_IN, "YES", "en")
PAUSE = Keyword(Kind.PAUSE, "PAUSE", "en")
JOIN = Keyword(Kind.ENROLL, "JOIN", "en")
SUPPORT = Keyword(Kind.SUPPORT, "SUPPORT", "en")


def facts(
    status: str = "active",
    step: str | None = None,
    keyword: Keyword | None = None,
    twilio: Kind | None = None,
    question: bool = False,
) -> Facts:
    keyword, twilio = without_soft_opt_in(
        status=status, conversation_step=step, keyword=keyword, twilio_kind=twilio
    )
    return Facts(status, step, keyword, twilio, lambda: OPEN if question else None)


@pytest.mark.parametrize(
    ("given", "owner"),
    [
        (facts(keyword=STOP, question=True), Owner.COMMAND),
        (facts(step="schedule", keyword=STOP, question=True), Owner.COMMAND),
        (facts(twilio=Kind.OPT_OUT, question=True), Owner.COMMAND),
        (facts(keyword=PAUSE, question=True), Owner.COMMAND),
        (facts(keyword=SUPPORT, question=True), Owner.COMMAND),
        (facts(keyword=JOIN, question=True), Owner.COMMAND),
        # YES from a subscribed family is an answer, even when Twilio tagged it START.
        (facts(keyword=YES, twilio=Kind.OPT_IN, question=True), Owner.SURVEY),
        (facts(keyword=YES), Owner.INBOX),
        (facts("opted_out", keyword=YES), Owner.COMMAND),  # from an opted-out one, START
        # A digit mid TIME (or AGE) question is that question's, not the survey's.
        (facts(step="schedule", question=True), Owner.ENROLLMENT),
        (facts("enrolling", step="schedule", keyword=PAUSE), Owner.ENROLLMENT),
        (facts(question=True), Owner.SURVEY),
        (facts("paused", question=True), Owner.SURVEY),
        (facts(), Owner.INBOX),
        (facts("opted_out", question=True), Owner.INBOX),
        (facts("invited", keyword=PAUSE, question=True), Owner.INBOX),
        (facts("completed", question=True), Owner.INBOX),
    ],
)
def test_the_first_claim_owns_the_text(given: Facts, owner: Owner) -> None:
    assert owner_of(given) is owner


def test_the_question_is_looked_up_only_when_nothing_above_claims_the_text() -> None:
    looked: list[int] = []

    def find() -> OpenQuestion | None:
        looked.append(1)
        return OPEN

    assert owner_of(Facts("active", None, STOP, None, find)) is Owner.COMMAND
    assert owner_of(Facts("active", "schedule", None, None, find)) is Owner.ENROLLMENT
    assert looked == []
    assert owner_of(Facts("active", None, None, None, find)) is Owner.SURVEY
    assert looked == [1]
