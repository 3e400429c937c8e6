"""Reads do not take SQLite's write lock: GET pages, the API's reads and the health check."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from sms_service.core.audit import CLI_ACTOR
from sms_service.core.db import read_transaction, transaction
from sms_service.core.models import AuditLog, Experiment, StaffUser, utcnow
from sms_service.core.settings import Settings
from sms_service.staff.tokens import create_api_token
from sms_service.surveys.definitions import install_default
from sms_service.web.context import AppContext, in_read_transaction, in_transaction
from tests.helpers.campaigns import make_campaign
from tests.helpers.people import add_caregiver, add_inbox_text
from tests.helpers.tips import add_probe_tip
from tests.web.admin.test_route_guard import walk

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
# GETs that write all the same: every export of personal data is audited.
AUDITED_GETS = {
    "/admin/export/caregivers.csv",
    "/admin/caregivers/1/export.json",
    "/admin/campaigns/1/results.csv",
    "/admin/export/replies.csv",
}


def _write_elsewhere(engine: Engine) -> None:
    """Write on a connection of its own that gives up at once if any lock is held."""
    writer = sqlite3.connect(str(engine.url.database), timeout=0, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute(
            "INSERT INTO audit_log (actor, action, detail, created_at) "
            "VALUES ('other', 'other.write', '{}', '2030-01-01 00:00:00')"
        )
        writer.execute("COMMIT")
    finally:
        writer.close()


@contextmanager
def _begins(engine: Engine) -> Iterator[list[str]]:
    """The BEGIN statements the engine sends while the block runs."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("BEGIN"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@sqlite_only
def test_a_write_goes_through_while_a_read_transaction_is_open(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings
) -> None:
    context = AppContext(settings=settings, sessions=sessions)

    def read_while_another_writes(session: Session) -> int:
        before = session.scalar(select(func.count(AuditLog.id)))
        _write_elsewhere(engine)  # would raise "database is locked" if the reader held it
        # The read keeps its snapshot: the other write is not seen until the next transaction.
        assert session.scalar(select(func.count(AuditLog.id))) == before
        return before or 0

    with _begins(engine) as begins:
        before = asyncio.run(in_read_transaction(context, read_while_another_writes))
    assert begins == ["BEGIN DEFERRED"]
    with sessions() as session:
        assert session.scalar(select(func.count(AuditLog.id))) == before + 1


@sqlite_only
def test_a_write_transaction_still_takes_the_lock_when_it_begins(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings
) -> None:
    context = AppContext(settings=settings, sessions=sessions)

    def read_first(session: Session) -> None:
        session.scalar(select(func.count(AuditLog.id)))
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            _write_elsewhere(engine)

    with _begins(engine) as begins:
        asyncio.run(in_transaction(context, read_first))
    assert begins == ["BEGIN IMMEDIATE"]


def test_a_read_transaction_refuses_writes_and_leaves_the_connection_writable(
    sessions: sessionmaker[Session],
) -> None:
    with pytest.raises(DBAPIError), read_transaction(sessions) as session:
        CLI_ACTOR.audit(session, "test.write")
        session.flush()
    with transaction(sessions) as session:  # the same pooled connection, writing again
        CLI_ACTOR.audit(session, "test.write")
    with read_transaction(sessions) as session:
        assert session.scalars(select(AuditLog.action)).all() == ["test.write"]


@sqlite_only
def test_get_pages_api_reads_and_the_health_check_take_no_write_lock(
    web: TestClient,
    admin_csrf: str,
    engine: Engine,
    sessions: sessionmaker[Session],
    settings: Settings,
) -> None:
    with transaction(sessions) as session:
        add_inbox_text(session, add_caregiver(session, child_name="Luna"), "Hi")
        make_campaign(session, settings, times=[datetime(2031, 4, 7, 10)], now=utcnow())
        add_probe_tip(session)
        install_default(session=session, now=utcnow())  # /admin/surveys/1 has a survey
        session.add(Experiment(id=1, tip_id="1", wording_b="Hello {child}.", share_b=0.5))
        staff_id = session.scalars(select(StaffUser.id)).one()
        token = create_api_token(session, staff_user_id=staff_id, name="t", actor=CLI_ACTOR)
    bearer = {"Authorization": f"Bearer {token}"}
    web.get("/api/stats", headers=bearer)  # the token's first use is recorded: a write
    gets = sorted(
        path
        for method, path in set(walk(list(web.app.routes)))  # type: ignore[attr-defined]
        if method == "GET" and path.startswith(("/admin", "/api", "/healthz"))
    )
    assert set(gets) >= AUDITED_GETS
    for path in gets:
        with _begins(engine) as begins:
            response = web.get(path, headers=bearer if path.startswith("/api") else {})
        assert response.status_code == 200, (path, response.text[:300])
        if path in AUDITED_GETS:
            assert "BEGIN IMMEDIATE" in begins, path
        else:
            assert "BEGIN IMMEDIATE" not in begins, (path, begins)
