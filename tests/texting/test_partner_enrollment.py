"""Joining through a partner, proven by texting the service: the partner's keyword or number
makes the family theirs, the texts that matter name it, and a new partner's keyword moves it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from content.segments import analyze
from sms_service.caregivers.partnership import DEFAULT_PARTNER_SLUG
from sms_service.core.audit import CLI_ACTOR
from sms_service.core.db import transaction
from sms_service.core.models import AuditLog, Partner
from sms_service.core.settings import Settings
from sms_service.partners.errors import PartnerError
from sms_service.partners.records import create_partner
from sms_service.partners.validation import PartnerFields
from tests.helpers.texting import Phone, caregiver, consents

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
EAST_NUMBER = "+12125550188"


def _partner(
    sessions: sessionmaker[Session],
    settings: Settings,
    name: str,
    slug: str,
    keywords: dict[str, str],
    **fields: str,
) -> int:
    with transaction(sessions) as session:
        partner = create_partner(
            session,
            fields=PartnerFields(name=name, slug=slug, **fields),
            keywords=keywords,
            settings=settings,
            actor=CLI_ACTOR,
            now=NOW,
        )
        return partner.id


@pytest.fixture
def east(sessions: sessionmaker[Session], settings: Settings) -> int:
    return _partner(
        sessions,
        settings,
        "Eastside Family Center",
        "eastside",
        {"EAST": "en", "ESTE": "es"},
        sender=EAST_NUMBER,
        help_contact="call 212-555-0100",
        timezone="America/Chicago",
    )


@pytest.fixture
def west(sessions: sessionmaker[Session], settings: Settings) -> int:
    return _partner(sessions, settings, "Westside Library", "westside", {"WEST": "en"})


def _enroll(phone: Phone, keyword: str) -> list[str]:
    return [phone.text(answer) or "" for answer in (keyword, "Maya", "8 months", "1")]


def test_a_partners_keyword_enrolls_with_it_and_the_texts_name_it_within_two_segments(
    client: TestClient, sessions: sessionmaker[Session], east: int
) -> None:
    phone = Phone(client)
    welcome, _, _, confirmation = _enroll(phone, "east")
    assert "With Eastside Family Center, we send" in welcome
    assert "You're signed up with Eastside Family Center!" in confirmation
    help_text = phone.text("HELP") or ""
    assert "Tips with Eastside Family Center" in help_text
    assert help_text.endswith("Questions? call 212-555-0100")  # the partner's own contact
    for text in (welcome, confirmation, help_text):
        assert analyze(text).segments <= 2, text
    family = caregiver(sessions, phone.number)
    assert (family.partner_id, family.enrollment_keyword, family.status) == (east, "EAST", "active")
    # The consent on record is the confirmation as sent, naming the partner.
    assert "with Eastside Family Center" in consents(sessions, phone.number)[-2].text


def test_a_spanish_partner_keyword_enrolls_in_spanish(
    client: TestClient, sessions: sessionmaker[Session], east: int
) -> None:
    phone = Phone(client)
    assert "Con Eastside Family Center te enviamos" in (phone.text("Este") or "")
    assert caregiver(sessions, phone.number).language == "es"


def test_a_text_to_a_partners_own_number_makes_the_family_theirs(
    client: TestClient, sessions: sessionmaker[Session], east: int
) -> None:
    phone = Phone(client)
    assert "Hi from Eastside Family Center!" in (phone.text("hi", To=EAST_NUMBER) or "")
    assert caregiver(sessions, phone.number).partner_id == east


def test_the_programs_own_keyword_keeps_the_default_partner_and_names_no_one(
    client: TestClient, sessions: sessionmaker[Session], east: int
) -> None:
    phone = Phone(client)
    texts = [*_enroll(phone, "JOIN"), phone.text("HELP") or ""]
    assert not any("Eastside" in text for text in texts), texts
    assert "You're signed up! Your first tip" in texts[3]
    assert "We send short tips" in texts[4]
    with sessions() as session:
        partner = session.get(Partner, caregiver(sessions, phone.number).partner_id)
        assert partner is not None and partner.slug == DEFAULT_PARTNER_SLUG


def test_joining_through_another_partners_keyword_moves_the_family_with_consent_and_audit(
    client: TestClient, sessions: sessionmaker[Session], east: int, west: int
) -> None:
    phone = Phone(client)
    _enroll(phone, "EAST")
    before = len(consents(sessions, phone.number))
    moved = phone.text("west") or ""
    assert "You now get your tips with Westside Library" in moved
    family = caregiver(sessions, phone.number)
    assert (family.partner_id, family.status) == (west, "active")  # still getting tips
    latest = consents(sessions, phone.number)[before:]
    assert [(event.kind, event.keyword, event.text) for event in latest] == [
        ("opt_in", "WEST", "west")
    ]
    with sessions() as session:
        entry = session.scalars(
            select(AuditLog).where(AuditLog.action == "caregiver.partner_change")
        ).one()
    assert entry.target_id == str(family.id)
    assert (entry.detail["from_partner_id"], entry.detail["to_partner_id"]) == (east, west)
    # The same keyword again moves nothing: the family is already there.
    assert "already signed up" in (phone.text("WEST") or "")
    assert len(consents(sessions, phone.number)) == before + 1


def test_after_stop_another_partners_keyword_rejoins_there_with_one_opt_in(
    client: TestClient, sessions: sessionmaker[Session], east: int, west: int
) -> None:
    phone = Phone(client)
    _enroll(phone, "EAST")
    phone.text("STOP")
    before = len(consents(sessions, phone.number))
    assert "With Westside Library, we send" in (phone.text("WEST") or "")
    family = caregiver(sessions, phone.number)
    assert (family.partner_id, family.status) == (west, "enrolling")
    assert [event.kind for event in consents(sessions, phone.number)[before:]] == ["opt_in"]


def test_a_partner_name_that_would_make_texts_cost_double_is_refused(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with pytest.raises(PartnerError, match="would make the texts naming it cost double"):
        _partner(sessions, settings, "Centro Acción Familiar", "accion", {})


def test_a_number_that_tells_no_time_zone_starts_in_the_partners(
    client: TestClient, sessions: sessionmaker[Session], east: int, settings: Settings
) -> None:
    toll_free, local = Phone(client, "+18005550100"), Phone(client, "+16465550100")
    toll_free.text("EAST")
    local.text("EAST")
    Phone(client, "+18885550100").text("JOIN")
    assert caregiver(sessions, toll_free.number).timezone == "America/Chicago"
    assert caregiver(sessions, local.number).timezone == "America/New_York"  # its area code's
    assert caregiver(sessions, "+18885550100").timezone == settings.timezone
