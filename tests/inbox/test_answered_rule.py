"""The inbox and the reports agree on what each parent's text answers (one rule,
core/answered.py): the last tip, campaign text or staff answer that went out before it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from sms_service.core.db import transaction
from sms_service.core.models import utcnow
from sms_service.core.scope import NETWORK
from sms_service.inbox.items import inbox_item
from sms_service.reports.answers import parent_texts
from tests.helpers.people import add_caregiver
from tests.helpers.reports import add_parent_text, add_text, add_tip


def test_the_inbox_and_the_reports_name_the_same_answered_text(
    sessions: sessionmaker[Session],
) -> None:
    start = utcnow() - timedelta(days=3)
    hour = timedelta(hours=1)
    with transaction(sessions) as session:
        add_tip(session, "en-rule")
        family, newcomer = add_caregiver(session), add_caregiver(session)
        tip = add_text(session, family, at=start, tip_id="en-rule").id
        add_text(session, family, at=start + hour, kind="reply", body="Thanks!")  # automatic
        after_tip = add_parent_text(session, family, at=start + 2 * hour, body="We sang").id
        add_text(session, family, at=start + 3 * hour, kind="campaign", state="failed")
        after_failed = add_parent_text(session, family, at=start + 4 * hour, body="Hi?").id
        staff = add_text(session, family, at=start + 5 * hour, kind="staff").id
        after_staff = add_parent_text(session, family, at=start + 6 * hour, body="Ok!").id
        campaign = add_text(session, family, at=start + 7 * hour, kind="campaign").id
        same_second = add_parent_text(session, family, at=start + 7 * hour, body="Yes").id
        first_words = add_parent_text(session, newcomer, at=start, body="Hello").id
    expected = {
        after_tip: tip,  # the automatic reply between is not what they answer
        after_failed: tip,  # a text that never went out was not received
        after_staff: staff,
        same_second: campaign,  # sent at the very moment it was received
        first_words: None,
    }
    with sessions() as session:
        reports = {
            answer.id: answer.text_id
            for answer in parent_texts(
                session, start=start - hour, end=start + 8 * hour, scope=NETWORK
            )
        }
        inbox = {}
        for message_id in expected:
            answered = inbox_item(session, message_id, scope=NETWORK).answered_text
            inbox[message_id] = answered.id if answered else None
    assert inbox == expected
    assert reports == expected
