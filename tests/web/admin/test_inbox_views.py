"""The inbox pages: staff see families' texts, urgent ones first, and answer them by text."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from sms_service.core.db import transaction
from sms_service.core.models import InboundMessage, OutboundMessage
from sms_service.core.settings import Settings
from tests.helpers.partners import add_partner
from tests.helpers.people import add_caregiver, add_inbox_text


def test_staff_find_answer_and_close_a_familys_text(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        caregiver = add_caregiver(session, child_name="Rosie", language="es")
        phone = caregiver.phone
        question = add_inbox_text(session, caregiver, "¿El centro abre el 2 de enero?").id
        urgent = add_inbox_text(session, add_caregiver(session), "I can't go on like this")
        urgent.urgent = True
        urgent_id = urgent.id
    listing = web.get("/admin/inbox").text
    assert (
        '<span class="count">2<span class="visually-hidden"> waiting</span></span>' in listing
    )  # the navigation counts what waits
    assert listing.index(f"/admin/inbox/{urgent_id}") < listing.index(f"/admin/inbox/{question}")
    assert phone not in listing and phone[-4:] in listing  # masked for staff
    page = web.get(f"/admin/inbox/{question}").text
    assert "¿El centro abre el 2 de enero?" in page and "Rosie" in page
    assert "Peligro" not in page  # the crisis box is for urgent texts only
    assert "988" in web.get(f"/admin/inbox/{urgent_id}").text

    sent = web.post(
        f"/admin/inbox/{question}/answer",
        data={"csrf_token": staff_csrf, "text": "", "saved": "3"},
        follow_redirects=True,
    )
    assert sent.status_code == 200
    with sessions() as session:
        queued = session.scalars(select(OutboundMessage).where(OutboundMessage.kind == "staff"))
        bodies = [row.body for row in queued]
        assert bodies == [
            "Little Moments: Hay grupos para familias cerca de ti. Llama al 211 o visita tu "
            "biblioteca pública para encontrar uno esta semana."
        ]  # the saved answer, in the family's language
        assert session.get_one(InboundMessage, question).inbox_state == "done"
    assert (
        '<span class="count">1<span class="visually-hidden"> waiting</span></span>'
        in web.get("/admin/inbox").text
    )


def test_guessed_or_non_inbox_ids_get_nothing(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        caregiver = add_caregiver(session)
        command = InboundMessage(
            message_sid="SMcommand",
            caregiver_id=caregiver.id,
            from_number=caregiver.phone,
            body="PAUSE",
            handled_as="command:pause",
        )
        session.add(command)
        session.flush()
        command_id = command.id
    for message_id in (command_id, 999_999):
        assert web.get(f"/admin/inbox/{message_id}").status_code == 404
        refused = web.post(
            f"/admin/inbox/{message_id}/answer",
            data={"csrf_token": staff_csrf, "text": "Hello"},
            follow_redirects=True,
        )
        assert "there is no inbox message" in refused.text
    with sessions() as session:
        assert session.scalars(select(OutboundMessage)).all() == []


def test_an_empty_answer_is_refused_at_the_form(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        question = add_inbox_text(session, add_caregiver(session), "Thanks!").id
    page = web.post(
        f"/admin/inbox/{question}/answer",
        data={"csrf_token": staff_csrf, "text": "   "},
        follow_redirects=True,
    ).text
    assert "write the answer first" in page
    assign = web.post(
        f"/admin/inbox/{question}/assign",
        data={"csrf_token": staff_csrf, "staff_user_id": "me"},
        follow_redirects=True,
    )
    assert "Assigned." in assign.text
    assert f"/admin/inbox/{question}" in web.get("/admin/inbox?mine=1").text


def test_the_text_names_the_familys_partner_and_its_local_resources_to_point_to(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session], settings: Settings
) -> None:
    with transaction(sessions) as session:
        partner = add_partner(session, settings, "eastside")
        partner.local_resources = "Playgroup Thursdays at 10, Eastside library."
        family = add_caregiver(session, partner_id=partner.id)
        asking = add_inbox_text(session, family, "Is there a playgroup near us?").id
        elsewhere = add_inbox_text(session, add_caregiver(session), "Any groups?").id
    page = web.get(f"/admin/inbox/{asking}").text
    assert "Joined with:</strong> Eastside Family Center" in page
    assert "Playgroup Thursdays at 10, Eastside library." in page
    other = web.get(f"/admin/inbox/{elsewhere}").text
    assert "Joined with:</strong> Little Moments" in other and "Playgroup" not in other
