"""POST /sms/status: signed delivery reports move a message forward only, never backwards."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from sms_service.core.db import build_engine, transaction
from sms_service.core.models import Caregiver, EarlyDeliveryReport
from sms_service.web.app import create_app
from tests.fakes.twilio_server import FakeTwilio
from tests.helpers.settings import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    TEST_PUBLIC_BASE_URL,
    make_settings,
)
from tests.helpers.twilio_signing import twilio_signature
from tests.jobs.outbox import NOON_NEW_YORK, add_message, add_recipient, dispatch, outbox

URL = f"{TEST_PUBLIC_BASE_URL}/sms/status"


def report(client: TestClient, sid: str, status: str, error_code: str | None = None) -> int:
    """Post a status callback signed like Twilio's; return the HTTP status."""
    form = {
        "AccountSid": TEST_ACCOUNT_SID,
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "To": "+12125550100",
        "ApiVersion": "2010-04-01",
    }
    if error_code is not None:
        form["ErrorCode"] = error_code
    headers = {"X-Twilio-Signature": twilio_signature(URL, form, TEST_AUTH_TOKEN)}
    return client.post("/sms/status", data=form, headers=headers).status_code


def sent_message(sessions: sessionmaker[Session], sid: str) -> tuple[int, int]:
    """A row the dispatcher has sent with `sid`; returns (row id, caregiver id)."""
    with transaction(sessions) as session:
        person = add_recipient(session)
        row = add_message(session, person)
        row.state = "sent"
        row.provider_sid = sid
        row.sent_at = NOON_NEW_YORK
        return row.id, person.id


def test_reports_move_the_message_to_delivered(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    row_id, _ = sent_message(sessions, "SM" + "1" * 32)

    assert report(client, "SM" + "1" * 32, "queued") == 200
    assert outbox(sessions)[row_id].state == "sent"
    assert report(client, "SM" + "1" * 32, "delivered") == 200

    row = outbox(sessions)[row_id]
    assert row.state == "delivered"
    assert row.delivered_at is not None


def test_a_late_sent_report_never_moves_delivered_backwards(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    sid = "SM" + "2" * 32
    row_id, _ = sent_message(sessions, sid)

    report(client, sid, "delivered")
    delivered_at = outbox(sessions)[row_id].delivered_at
    for late in ("sent", "sending", "queued", "undelivered", "failed"):
        assert (
            report(client, sid, late, "30003" if late in ("undelivered", "failed") else None) == 200
        )

    row = outbox(sessions)[row_id]
    assert row.state == "delivered"
    assert row.delivered_at == delivered_at
    assert row.error_code is None


@pytest.mark.parametrize("status", ["undelivered", "failed"])
def test_undelivered_and_failed_keep_the_error_code(
    client: TestClient, sessions: sessionmaker[Session], status: str
) -> None:
    sid = "SM" + "3" * 32
    row_id, caregiver_id = sent_message(sessions, sid)

    report(client, sid, status, "30003")  # handset unreachable: a passing problem
    report(client, sid, "delivered")  # a terminal report is not replaced by another

    row = outbox(sessions)[row_id]
    assert (row.state, row.error_code) == (status, "30003")
    with transaction(sessions) as session:
        assert session.get_one(Caregiver, caregiver_id).status == "active"


def test_landline_delivery_error_marks_the_caregiver_undeliverable(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    sid = "SM" + "4" * 32
    row_id, caregiver_id = sent_message(sessions, sid)

    report(client, sid, "undelivered", "30006")

    assert outbox(sessions)[row_id].error_code == "30006"
    with transaction(sessions) as session:
        assert session.get_one(Caregiver, caregiver_id).status == "undeliverable"


def test_unknown_sid_is_acknowledged_without_writing(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    row_id, _ = sent_message(sessions, "SM" + "5" * 32)
    before = outbox(sessions)[row_id].updated_at

    assert report(client, "SM" + "9" * 32, "delivered") == 200

    row = outbox(sessions)[row_id]
    assert (row.state, row.updated_at) == ("sent", before)


@pytest.mark.parametrize(
    ("status", "error_code", "expected"),
    [("delivered", None, "delivered"), ("undelivered", "30006", "undelivered")],
)
def test_a_report_before_the_dispatcher_recorded_the_sid_is_applied_when_it_is(
    client: TestClient,
    sessions: sessionmaker[Session],
    fake_twilio: FakeTwilio,
    database_url: str,
    status: str,
    error_code: str | None,
    expected: str,
) -> None:
    with transaction(sessions) as session:
        person = add_recipient(session)
        row_id = add_message(session, person).id
    # Twilio reports on the message before the dispatcher has even read the create answer.
    fake_twilio.on_create = lambda message: report(client, message["sid"], status, error_code)

    dispatch(sessions, make_settings(database_url), fake_twilio)

    row = outbox(sessions)[row_id]
    assert (row.state, row.error_code) == (expected, error_code)
    with transaction(sessions) as session:
        caregiver = session.get_one(Caregiver, person.id)
        assert caregiver.status == ("undeliverable" if error_code else "active")
        assert session.scalars(select(EarlyDeliveryReport)).all() == []


def test_forged_signature_is_refused_and_nothing_changes(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    sid = "SM" + "7" * 32
    row_id, _ = sent_message(sessions, sid)
    form = {"MessageSid": sid, "MessageStatus": "failed", "ErrorCode": "30007"}
    forged = twilio_signature(URL, form, "0" * 32)

    assert (
        client.post("/sms/status", data=form, headers={"X-Twilio-Signature": forged}).status_code
        == 403
    )
    assert client.post("/sms/status", data=form).status_code == 403

    assert outbox(sessions)[row_id].state == "sent"


def test_a_nul_in_a_report_is_dropped_not_a_500(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    """Found by tests/reliability/test_signed_fuzz.py: PostgreSQL refused the NUL (a 500)."""
    sid = "SM" + "5" * 32
    row_id, _ = sent_message(sessions, sid)

    assert report(client, sid + "\x00", "undelivered\x00", "30003\x00") == 200
    assert report(client, "\x00", "delivered") == 400

    row = outbox(sessions)[row_id]
    assert (row.state, row.error_code) == ("undelivered", "30003")


def test_a_report_while_the_database_is_away_is_a_503() -> None:
    """Found by tests/reliability/test_database_outage.py: it was a 500."""
    url = "postgresql+psycopg://nobody@127.0.0.1:1/nowhere"
    engine = build_engine(url, connect_args={"connect_timeout": 2})
    with TestClient(create_app(make_settings(url), engine=engine)) as client:
        assert report(client, "SM" + "6" * 32, "delivered") == 503


def test_report_without_sid_or_status_is_a_clear_400(client: TestClient) -> None:
    form = {"AccountSid": TEST_ACCOUNT_SID}
    headers = {"X-Twilio-Signature": twilio_signature(URL, form, TEST_AUTH_TOKEN)}
    assert client.post("/sms/status", data=form, headers=headers).status_code == 400
