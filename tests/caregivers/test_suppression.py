"""After staff delete a family's data, their number is never texted unless it opts in again."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from sms_service.caregivers.lifecycle import delete
from sms_service.caregivers.records import get_caregiver
from sms_service.core.audit import Actor
from sms_service.core.db import transaction
from sms_service.core.models import Caregiver, Suppression
from sms_service.core.scope import NETWORK
from tests.helpers.people import add_caregiver, is_suppressed
from tests.helpers.texting import Phone

NUMBER = "+12125550177"
ADMIN = Actor(name="ada@example.org", role="admin")


def test_a_deleted_number_stays_opted_out_until_it_joins_again(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        caregiver_id = add_caregiver(session, phone=NUMBER).id
    with transaction(sessions) as session:
        delete(session, get_caregiver(session, caregiver_id, scope=NETWORK), actor=ADMIN)
    phone = Phone(client, NUMBER)
    assert phone.text("hi, who is this?") is None  # no welcome, no enrollment conversation
    with sessions() as session:
        caregiver = session.scalars(select(Caregiver)).one()
        assert caregiver.status == "opted_out"  # the opt-out now lives on the new row
        assert session.scalars(select(Suppression)).all() == []
    assert phone.text("JOIN") is not None  # an explicit opt-in starts enrollment again
    with sessions() as session:
        assert session.scalars(select(Caregiver.status)).one() == "enrolling"
        assert not is_suppressed(session, NUMBER)


def test_the_suppression_record_cannot_be_looked_up_in_a_fast_table(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        other = add_caregiver(session, phone="+12125550178").id
        caregiver_id = add_caregiver(session, phone=NUMBER).id
    with transaction(sessions) as session:
        delete(session, get_caregiver(session, caregiver_id, scope=NETWORK), actor=ADMIN)
    with sessions() as session:
        [stored] = session.scalars(select(Suppression.phone_hash)).all()
        assert is_suppressed(session, NUMBER)
        assert not is_suppressed(session, session.get_one(Caregiver, other).phone)
    # Neither the number nor a fast digest of it (which anyone can tabulate for every number).
    assert NUMBER[2:] not in stored
    assert stored not in {
        hashlib.sha256(NUMBER.encode()).hexdigest(),
        hashlib.md5(NUMBER.encode()).hexdigest(),
    }
