"""What a text costs the database: the statements its webhook runs, held to a budget per kind.

Thousands of parents answer a campaign within minutes; every statement is a round trip under
the family's lock. A change that reads back what the handling already knows fails here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from sms_service.core.models import InboundMessage, utcnow
from sms_service.texting import inbound
from tests.helpers.texting import Phone, caregiver


@contextmanager
def statements(sessions: sessionmaker[Session]) -> Iterator[list[str]]:
    """The SQL statements run meanwhile, one line each."""
    engine: Engine = sessions.kw["bind"]
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def reading(seen: list[str], table: str) -> list[str]:
    """The SELECTs whose main table (subqueries aside) is `table`."""
    found = []
    for statement in seen:
        outer = statement
        while (inner := re.sub(r"\([^()]*\)", "", outer)) != outer:
            outer = inner
        if outer.startswith("SELECT") and re.search(rf" FROM {table}\b", outer):
            found.append(statement)
    return found


def written(statement: str) -> list[str]:
    """The tables a statement inserts into, in the order it names them (a WITH's first)."""
    return re.findall(r"INSERT INTO (\w+)", statement)


def test_a_new_phone_joining_reads_its_partner_once_and_writes_each_row_once(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    Phone(client, "+12125550141").text("JOIN")  # the program's default partner is on record
    phone = Phone(client, "+12125550142")
    with statements(sessions) as seen:
        reply = phone.text("JOIN")

    assert reply is not None and "name" in reply  # the first enrollment question
    assert caregiver(sessions, phone.number).conversation_step is not None
    # A row made for this text has no children or invitation to look up.
    assert reading(seen, "child") == [] and reading(seen, "invitation") == []
    assert len(reading(seen, "partner")) == 1  # its keyword's, its number's or the default
    assert [s for s in seen if s.startswith("UPDATE inbound_message")] == []
    assert sorted(table for s in seen for table in written(s)) == [
        "caregiver",
        "inbound_message",
        "outbound_message",  # the reply, on record as sent
    ]
    postgresql = sessions.kw["bind"].dialect.name == "postgresql"
    assert len(seen) <= (7 if postgresql else 8), seen  # SQLite: BEGIN is a statement too
    if postgresql:
        # The text's row and its reply in one statement: one round trip, not two.
        assert [written(s) for s in seen if "inbound_message" in written(s)] == [
            ["outbound_message", "inbound_message"]
        ]


def test_a_reply_from_a_family_with_no_survey_open_does_not_look_for_a_question(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    phone = Phone(client, "+12125550143")
    for body in ("JOIN", "Maya", "8 months", "1"):
        phone.text(body)
    assert caregiver(sessions, phone.number).status == "active"

    with statements(sessions) as seen:
        reply = phone.text("she loved the song")

    assert reply is not None  # the acknowledgement: a person will read it
    assert reading(seen, "survey_run") == []
    # The family, the text and the reply (one statement on PostgreSQL), the acknowledgement's
    # time (flushed at commit); SQLite also runs its BEGIN as one.
    assert len(seen) <= (3 if sessions.kw["bind"].dialect.name == "postgresql" else 5), seen


def test_the_webhooks_own_inserts_write_every_column_the_handling_knows() -> None:
    """texting/inbound._store writes the text's row with Core, not the ORM: a column added to
    inbound_message must be added there too (the ORM would have filled in its default), and
    the one-statement form must leave SQLAlchemy no Python-side default to fill in (it fills
    those of one INSERT of a statement only)."""
    table = InboundMessage.__table__
    assert set(table.columns.keys()) == {"id", "assigned_to_id", *inbound._INBOUND_COLUMNS}
    reply = inbound._reply(
        InboundMessage(message_sid="SM1", caregiver_id=1), "+12125550100", "Hi", utcnow()
    )
    both = inbound._inbound_and_reply(tuple(reply)).compile(dialect=postgresql.dialect())
    assert both.insert_prefetch == []
