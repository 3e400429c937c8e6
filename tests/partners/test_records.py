"""Partners: created with keywords no one else has, refused with clear reasons, audited."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sms_service.core.audit import CLI_ACTOR
from sms_service.core.db import transaction
from sms_service.core.models import AuditLog, Partner, PartnerKeyword
from sms_service.core.scope import NETWORK
from sms_service.core.settings import Settings
from sms_service.partners.errors import PartnerError
from sms_service.partners.keywords import change_keywords
from sms_service.partners.records import (
    create_partner,
    list_partners,
    require_partner,
    update_partner,
)
from sms_service.partners.validation import PartnerFields
from tests.helpers.people import add_caregiver
from tests.helpers.settings import make_settings

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
SID = "MG" + "AB" * 16


def _create(
    session: Session, settings: Settings, slug: str = "eastside", **keywords: str
) -> Partner:
    return create_partner(
        session,
        fields=PartnerFields(name=f"{slug.title()} Family Center", slug=slug),
        keywords=keywords,
        settings=settings,
        actor=CLI_ACTOR,
        now=NOW,
    )


def test_a_partner_is_made_with_its_keywords_in_their_languages_and_audited(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(sessions) as session:
        partner = create_partner(
            session,
            fields=PartnerFields(
                name="  Eastside   Family Center ",
                slug="Eastside",
                sender="+1 (212) 555-0188",
                help_contact="call 212-555-0100",
                timezone="America/Chicago",
                local_resources="Playgroup Thursdays at 10, Eastside library.",
            ),
            keywords={"east": "en", "éste": "es"},
            settings=settings,
            actor=CLI_ACTOR,
            now=NOW,
        )
    with transaction(sessions) as session:
        stored = require_partner(session, "eastside")
        assert (stored.name, stored.sender, stored.timezone) == (
            "Eastside Family Center",
            "+12125550188",
            "America/Chicago",
        )
        words = {keyword.word: keyword.language for keyword in stored.keywords}
        assert words == {"EAST": "en", "ESTE": "es"}
        actions = session.scalars(
            select(AuditLog.action).where(AuditLog.target_id == str(partner.id))
        ).all()
        assert sorted(actions) == ["partner.create", "partner.keywords"]


@pytest.mark.parametrize(
    ("word", "reason"),
    [
        ("STOP", "STOP is a built-in keyword (opt out)"),
        ("ayuda", "AYUDA is a built-in keyword (help)"),
        ("PAUSE", "PAUSE is a built-in keyword (pause)"),
        ("JOIN", "JOIN is the program's own enrollment keyword"),
        ("hola", "HOLA is the program's own enrollment keyword"),
        ("MAYO", "MAYO is an answer word in Español"),
        ("SKIP", "SKIP is an answer word in English"),
        ("7UP", "must be 3 to 12 letters, digits or dashes, starting with a letter"),
        ("JOIN-THE-EASTSIDE", "must be 3 to 12 letters"),
    ],
)
def test_a_keyword_the_service_already_understands_is_refused_with_the_reason(
    sessions: sessionmaker[Session], settings: Settings, word: str, reason: str
) -> None:
    with transaction(sessions) as session, pytest.raises(PartnerError, match=re.escape(reason)):
        _create(session, settings, **{word: "en"})


def test_a_keyword_set_in_the_environment_is_the_programs_and_cannot_be_a_partners(
    sessions: sessionmaker[Session], database_url: str
) -> None:
    settings = make_settings(database_url, SMS_TIPS_KEYWORDS_EN="JOIN,TIPS")
    with transaction(sessions) as session, pytest.raises(PartnerError, match="TIPS is the"):
        _create(session, settings, TIPS="en")


def test_another_partners_keyword_in_any_language_is_refused_and_nothing_changes(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(sessions) as session:
        _create(session, settings, "eastside", EAST="es")
        west = _create(session, settings, "westside", WEST="en")
    with transaction(sessions) as session:
        west = require_partner(session, "westside")
        with pytest.raises(PartnerError) as refused:
            change_keywords(
                session,
                partner=west,
                add={"east": "en", "OESTE": "xx"},
                remove=["NORTH"],
                settings=settings,
                actor=CLI_ACTOR,
            )
        assert refused.value.problems == [
            "EAST is already a keyword of Eastside Family Center",
            "the keyword OESTE's language 'xx' is not one of en, es",
            "NORTH is not a keyword of Westside Family Center",
        ]
    with transaction(sessions) as session:
        rows = session.execute(select(PartnerKeyword.word, PartnerKeyword.partner_id)).all()
        assert sorted(word for word, _ in rows) == ["EAST", "WEST"]


def test_fields_a_text_could_not_carry_are_refused_all_at_once(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(sessions) as session, pytest.raises(PartnerError) as refused:
        create_partner(
            session,
            fields=PartnerFields(
                name="The Eastside Family Resource Center",
                slug="east side",
                sender="212-555",
                help_contact="x" * 41,
                timezone="Mars/Olympus",
            ),
            keywords={},
            settings=settings,
            actor=CLI_ACTOR,
            now=NOW,
        )
    problems = " | ".join(refused.value.problems)
    for expected in (
        "the sender '212-555' is neither a phone number",
        "the name is 35 characters; texts name it, so at most 29",
        "the slug 'east side' must be 2 to 40",
        "the help contact is 41 characters",
        "'Mars/Olympus' is not a time zone",
    ):
        assert expected in problems


def test_a_sender_belongs_to_one_partner_and_an_update_can_clear_it(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(sessions) as session:
        east = _create(session, settings, "eastside")
        update_partner(
            session, partner=east, fields=PartnerFields(sender=SID), actor=CLI_ACTOR, now=NOW
        )
        west = _create(session, settings, "westside")
        with pytest.raises(PartnerError, match="is already the sender of Eastside Family Center"):
            update_partner(
                session,
                partner=west,
                fields=PartnerFields(sender=SID.lower()),
                actor=CLI_ACTOR,
                now=NOW,
            )
        assert east.sender == "MG" + "ab" * 16
        changed = update_partner(
            session, partner=east, fields=PartnerFields(sender=""), actor=CLI_ACTOR, now=NOW
        )
        assert changed == {"sender": None}


def test_the_list_counts_each_partners_families(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(sessions) as session:
        east = _create(session, settings, "eastside")
        add_caregiver(session, partner_id=east.id)
        add_caregiver(session, partner_id=east.id, status="opted_out")
        add_caregiver(session)  # the default partner's
    with transaction(sessions) as session:
        counts = {
            row.partner.slug: (row.families, row.active)
            for row in list_partners(session, scope=NETWORK)
        }
    assert counts == {"eastside": (2, 1), "program": (1, 1)}
