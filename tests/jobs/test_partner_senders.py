"""A partner's families get their texts from the partner's own sender: the planner writes it
in SQL with every row, and the dispatcher sends from it (the program's sender otherwise)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from jobs.campaign_planner import plan_campaigns
from jobs.planner import plan
from sms_service.core.audit import CLI_ACTOR
from sms_service.core.db import transaction
from sms_service.core.models import Caregiver, OutboundMessage
from sms_service.core.settings import Settings
from sms_service.inbox.answers import answer
from sms_service.partners.records import create_partner
from sms_service.partners.validation import PartnerFields
from tests.fakes.twilio_server import FakeTwilio
from tests.helpers.campaigns import make_campaign
from tests.helpers.people import add_caregiver, add_inbox_text
from tests.helpers.settings import TEST_MESSAGING_SERVICE_SID, make_settings
from tests.jobs import factories
from tests.jobs.outbox import add_message, add_recipient, dispatch

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
EAST_NUMBER = "+12125550188"
WEST_SERVICE = "MG" + "0f" * 16


def _partners(session: Session, settings: Settings) -> tuple[int, int, int]:
    """Eastside (its own number), Westside (its own Messaging Service), North (none)."""
    ids = []
    for slug, sender in (("eastside", EAST_NUMBER), ("westside", WEST_SERVICE), ("north", None)):
        partner = create_partner(
            session,
            fields=PartnerFields(name=f"{slug.title()} Center", slug=slug, sender=sender),
            keywords={},
            settings=settings,
            actor=CLI_ACTOR,
            now=NOW,
        )
        ids.append(partner.id)
    return ids[0], ids[1], ids[2]


def test_the_planner_writes_each_familys_partner_sender_with_its_tip(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, tips: None
) -> None:
    with transaction(sessions) as session:
        east, west, north = _partners(session, settings)
        for number, partner_id in (
            ("+12125550101", east),
            ("+12125550102", west),
            ("+12125550103", north),
            ("+12125550104", None),  # the default partner, the program itself
        ):
            factories.add_caregiver(
                session,
                phone=number,
                children=[("Mia", date(2025, 12, 1))],
                partner_id=partner_id,
            )
    result = plan(engine, now=datetime(2026, 3, 2, 18, tzinfo=ZoneInfo("America/New_York")),
                  settings=settings)  # fmt: skip
    assert result.planned == 4
    with transaction(sessions) as session:
        senders = dict(
            session.execute(
                select(OutboundMessage.to_number, OutboundMessage.sender).where(
                    OutboundMessage.kind == "tip"
                )
            ).all()
        )
    assert senders == {
        "+12125550101": EAST_NUMBER,
        "+12125550102": WEST_SERVICE,
        "+12125550103": None,
        "+12125550104": None,
    }


@pytest.fixture
def fast(database_url: str) -> Settings:
    return make_settings(database_url, SMS_TIPS_SEND_RATE="1000")


def test_texts_go_out_from_the_partners_number_or_service_else_the_programs(
    sessions: sessionmaker[Session], fast: Settings, fake_twilio: FakeTwilio
) -> None:
    with transaction(sessions) as session:
        east, west, _ = _partners(session, fast)
        people = [add_recipient(session) for _ in range(3)]
        for person, partner_id in zip(people, (east, west, None), strict=True):
            if partner_id is not None:
                session.get_one(Caregiver, person.id).partner_id = partner_id
        session.flush()
        for person in people:
            add_message(session, person)
        # What the planner writes, for rows made by hand here.
        for row in session.scalars(select(OutboundMessage)):
            owner = session.get_one(Caregiver, row.caregiver_id)
            row.sender = {east: EAST_NUMBER, west: WEST_SERVICE}.get(owner.partner_id)
        numbers = [person.phone for person in people]
    dispatch(sessions, fast, fake_twilio)
    forms = {
        request.form["To"]: request.form
        for request in fake_twilio.requests
        if request.method == "POST"
    }
    assert forms[numbers[0]]["From"] == EAST_NUMBER
    assert "MessagingServiceSid" not in forms[numbers[0]]
    assert forms[numbers[1]]["MessagingServiceSid"] == WEST_SERVICE
    assert forms[numbers[2]]["MessagingServiceSid"] == TEST_MESSAGING_SERVICE_SID
    assert {message["to"] for message in fake_twilio.messages} == set(numbers)


def test_campaign_texts_and_staff_answers_go_from_the_partners_sender_too(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    now = datetime(2026, 11, 26, 17, 0, tzinfo=UTC)  # noon in New York
    with transaction(sessions) as session:
        east, _, _ = _partners(session, settings)
        theirs = add_caregiver(session, partner_id=east, today=now.date())
        ours = add_caregiver(session, today=now.date())
        make_campaign(session, settings, times=[datetime(2026, 11, 26, 12, 0)], now=now)
        inbox_text = add_inbox_text(session, theirs, "Thank you!")
        ids = theirs.id, ours.id
    assert plan_campaigns(sessions, settings=settings, now=now) == 2
    with transaction(sessions) as session:
        answer(
            session, inbox_text.id, "You're welcome!", actor=CLI_ACTOR, settings=settings, now=now
        )
    with transaction(sessions) as session:
        rows = session.execute(
            select(OutboundMessage.kind, OutboundMessage.caregiver_id, OutboundMessage.sender)
        ).all()
    assert sorted(rows, key=str) == sorted(
        [
            ("campaign", ids[0], EAST_NUMBER),
            ("campaign", ids[1], None),
            ("staff", ids[0], EAST_NUMBER),
        ],
        key=str,
    )
