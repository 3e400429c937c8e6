"""What a text costs the database: the statements its webhook runs, held to a budget per kind.

Thousands of parents answer a campaign within minutes; every statement is a round trip under
the family's lock. A change that reads back what the handling already knows fails here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

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
    assert [s.split(" (")[0] for s in seen if s.startswith("INSERT")] == [
        "INSERT INTO caregiver",
        "INSERT INTO inbound_message",
        "INSERT INTO outbound_message",  # the reply, on record as sent
    ]
    assert len(seen) <= 8, seen


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
    assert len(seen) <= 5, seen
