"""Bulk invitations from a CSV: one text per new number, nothing twice, nothing half-imported,
no tips before the parent opts in, and the opt-in names the invitation."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from content.library import load_library
from jobs.planner import plan
from sms_service.caregivers import suppression
from sms_service.core.audit import Actor
from sms_service.core.db import transaction
from sms_service.core.models import AuditLog, Caregiver, Invitation, OutboundMessage, utcnow
from sms_service.core.settings import Settings
from sms_service.texting.invites import InviteFileError, import_invites, parse_invites
from sms_service.tips.sync import sync_library
from tests.helpers.partners import add_partner
from tests.helpers.people import add_caregiver
from tests.helpers.texting import Phone, caregiver, consents, outbox

ADMIN = Actor(name="ada@example.org", role="admin")
NOW = utcnow()
CSV = (
    "phone,language,child name,birth date\n"
    "(212) 555-0141,en,Maya,\n"
    "+1 212 555 0142,Español,José,\n"
    "212-555-0143,es,,\n"
)


def _import(sessions: sessionmaker[Session], settings: Settings, text: str, **kw: int) -> str:
    with transaction(sessions) as session:
        return import_invites(
            session, text=text, settings=settings, actor=ADMIN, now=NOW, **kw
        ).summary()


def _invites(sessions: sessionmaker[Session]) -> list[OutboundMessage]:
    with sessions() as session:
        return list(
            session.scalars(
                select(OutboundMessage)
                .where(OutboundMessage.dedupe_key.like("invite:%"))
                .order_by(OutboundMessage.to_number)
            )
        )


def test_each_new_number_gets_one_invitation_and_a_reimport_sends_nothing(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    assert _import(sessions, settings, CSV) == "Invited 3 families."
    sent = _invites(sessions)
    assert [m.to_number for m in sent] == ["+12125550141", "+12125550142", "+12125550143"]
    assert "Reply JOIN to join" in sent[0].body and "Reply STOP to opt out" in sent[0].body
    assert "Manda HOLA para unirte" in sent[1].body
    assert all(m.state == "pending" and m.segments <= 2 for m in sent)
    summary = _import(sessions, settings, CSV)
    assert summary == "Invited 0 families; skipped 3 (already known, opted out or repeated)."
    assert len(_invites(sessions)) == 3
    with sessions() as session:
        statuses = session.scalars(select(Caregiver.status)).all()
        assert statuses == ["invited"] * 3
        invitation = session.scalars(select(Invitation).order_by(Invitation.id)).first()
        assert invitation is not None and invitation.child_name == "Maya"
        actions = session.scalars(select(AuditLog.action)).all()
        assert actions.count("caregiver.invite") == 3
        assert actions.count("invitations.import") == 2


def test_the_families_join_the_partner_the_invitation_names_and_it_sends_from_its_number(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(sessions) as session:
        partner = add_partner(session, settings, "eastside", sender="+12125550188")
        partner_id = partner.id
    _import(sessions, settings, "+12125550141,en\n", partner_id=partner_id)
    invitation = _invites(sessions)[0]
    assert invitation.body.startswith(
        "Little Moments: Eastside Family Center invites you to free texts"
    )
    assert invitation.sender == "+12125550188"
    with sessions() as session:
        assert session.scalars(select(Caregiver.partner_id)).one() == partner_id


def test_a_partners_staff_invite_to_their_own_partner_whatever_they_ask(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(sessions) as session:
        eastside = add_partner(session, settings, "eastside").id
        westside = add_partner(session, settings, "westside").id
        actor = Actor(name="eve@example.org", role="admin", partner_id=eastside)
        import_invites(
            session, text=CSV, settings=settings, actor=actor, now=NOW, partner_id=westside
        )
    with sessions() as session:
        assert set(session.scalars(select(Caregiver.partner_id))) == {eastside}
    assert all("Eastside Family Center" in text.body for text in _invites(sessions))


def test_the_program_itself_invites_without_naming_a_partner(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    _import(sessions, settings, "+12125550141,en\n")
    invitation = _invites(sessions)[0]
    assert "Family Center" not in invitation.body and invitation.sender is None


def test_a_bad_row_aborts_everything_with_line_numbers(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    bad = CSV + "not a phone,en,,\n+12125550144,fr,,\n+12125550145,en,Ana,2019-01-01\n"
    with pytest.raises(InviteFileError) as caught:
        _import(sessions, settings, bad)
    assert caught.value.problems == [
        "line 5: 'not a phone' is not a phone number",
        "line 6: unknown language 'fr' (use en, es)",
        "line 7: 2019-01-01 is 36 months ago or more (the program ends there)",
    ]
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Caregiver)) == 0
        assert session.scalar(select(func.count()).select_from(OutboundMessage)) == 0


def test_dates_are_read_in_the_row_language_order() -> None:
    today = NOW.date()
    due = today + timedelta(days=60)
    rows = parse_invites(
        f"+12125550141,en,,{due.month}/{due.day}/{due.year}\n"
        f"+12125550142,es,,{due.day}/{due.month}/{due.year}\n",
        today=today,
    )
    assert [(row.birth.date, row.birth.is_expected) for row in rows if row.birth] == [
        (due, True),
        (due, True),
    ]


def test_opted_out_suppressed_enrolled_and_repeated_numbers_are_skipped(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(sessions) as session:
        add_caregiver(session, phone="+12125550141", status="opted_out")
        add_caregiver(session, phone="+12125550142")
        suppression.suppress(session, "+12125550143", reason="deleted on request")
    text = CSV + "+12125550143,en\n+12125550146,en\n212 555 0146,es\n"
    with transaction(sessions) as session:
        report = import_invites(session, text=text, settings=settings, actor=ADMIN, now=NOW)
    assert [row.phone for row in report.invited] == ["+12125550146"]
    assert [(s.line, s.reason) for s in report.skipped] == [
        (2, "opted out"),
        (3, "already enrolled"),
        (4, "erased on request: never texted unless they opt in themselves"),
        (5, "repeats line 4"),
        (7, "repeats line 6"),
    ]
    assert [m.to_number for m in _invites(sessions)] == ["+12125550146"]


def test_no_tip_is_planned_for_an_invited_number(
    sessions: sessionmaker[Session], settings: Settings, engine: Engine
) -> None:
    with transaction(sessions) as session:
        sync_library(session, load_library(), now=NOW)
        add_caregiver(session, phone="+12125550149", enrolled_at=NOW)  # a control: enrolled
    _import(sessions, settings, CSV)
    for hours in range(0, 24 * 8, 6):
        plan(engine, now=NOW + timedelta(hours=hours), settings=settings)
    with sessions() as session:
        kinds = dict(
            session.execute(
                select(OutboundMessage.to_number, func.count())
                .where(OutboundMessage.kind.in_(["tip", "campaign"]))
                .group_by(OutboundMessage.to_number)
            ).all()
        )
    assert kinds.get("+12125550149", 0) >= 1
    assert set(kinds) == {"+12125550149"}


def test_texting_the_keyword_enrolls_and_the_consent_names_the_invitation(
    sessions: sessionmaker[Session], settings: Settings, client: TestClient
) -> None:
    _import(sessions, settings, CSV)
    english, spanish = Phone(client, "+12125550141"), Phone(client, "+12125550142")
    assert "Our team reads every message" in (english.text("who is this?") or "")
    assert caregiver(sessions, english.number).status == "invited"  # not a yes
    assert "When was Maya born?" in (english.text("JOIN") or "")  # the file named her
    english.text("3 months")
    assert "You're signed up!" in (english.text("1") or "")
    assert caregiver(sessions, english.number).status == "active"
    opt_in = [c for c in consents(sessions, english.number) if c.kind == "opt_in"]
    assert opt_in[0].source == "keyword" and opt_in[0].keyword == "JOIN"
    assert "in reply to invitation #" in opt_in[0].text
    assert NOW.date().isoformat() in opt_in[0].text
    # START answers an invitation too; STOP ends it.
    spanish.text("START")
    assert caregiver(sessions, spanish.number).status == "enrolling"
    assert "in reply to invitation #" in consents(sessions, spanish.number)[0].text
    Phone(client, "+12125550143").text("STOP")
    assert caregiver(sessions, "+12125550143").status == "opted_out"
    assert [m.kind for m in outbox(sessions, "+12125550143")] == ["system", "reply"]
    with sessions() as session:
        accepted = session.scalars(select(Invitation.accepted_at).order_by(Invitation.id)).all()
    assert [moment is not None for moment in accepted] == [True, True, False]


def test_an_import_at_night_waits_for_the_morning(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    night = datetime(2026, 12, 2, 23, 30, tzinfo=ZoneInfo("America/New_York"))
    with transaction(sessions) as session:
        import_invites(session, text=CSV, settings=settings, actor=ADMIN, now=night)
    due = {m.due_at.astimezone(ZoneInfo("America/New_York")) for m in _invites(sessions)}
    assert due == {datetime(2026, 12, 3, 8, 0, tzinfo=ZoneInfo("America/New_York"))}
