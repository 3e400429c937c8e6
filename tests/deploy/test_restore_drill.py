"""The restore drill of README "Backup and restore", rehearsed on the local PostgreSQL.

A fresh database is migrated with the real `sms-tips db upgrade`, given a few rows through the
project's own code, dumped with `pg_dump -Fc` and restored with `pg_restore` into a second new
database; the restored one has the rows, the Alembic revision, and the constraints and indexes
that keep the promises (the outbox's unique dedupe key still refuses a second copy of a text).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, inspect, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from sms_service.caregivers.consent import record_consent
from sms_service.core.audit import CLI_ACTOR
from sms_service.core.db import build_engine, schema_revisions
from sms_service.core.models import (
    AuditLog,
    Caregiver,
    ConsentEvent,
    OutboundMessage,
    utcnow,
)
from sms_service.core.outbox import system_key
from tests.conftest import PG_SERVER_URL, _postgres_problem
from tests.helpers.ci import unavailable
from tests.helpers.people import add_caregiver

PHONE = "+12125550199"
CI_MUST = "rehearse the PostgreSQL backup and restore"


def _admin() -> Engine:
    return create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def _server_tool(name: str) -> Path:
    """pg_dump/pg_restore of the server's major version (an older client refuses to dump)."""
    admin = _admin()
    with admin.connect() as connection:
        version_num = int(connection.execute(text("SHOW server_version_num")).scalar_one())
    admin.dispose()
    tool = Path(f"/usr/lib/postgresql/{version_num // 10000}/bin/{name}")
    if not tool.is_file():
        unavailable(f"{tool} is not installed (the server's own {name})", ci_must=CI_MUST)
    return tool


@pytest.fixture
def new_database() -> Iterator[Any]:
    """Make empty databases on the test server on request; all are dropped afterwards."""
    problem = _postgres_problem()
    if problem is not None:
        unavailable(problem, ci_must=CI_MUST)
    admin = _admin()
    made: list[str] = []

    def make(purpose: str) -> URL:
        name = f"smstips_drill_{purpose}_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return make_url(PG_SERVER_URL).set(database=name)

    yield make
    with admin.connect() as connection:
        for name in made:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def str_url(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def _libpq_args(url: URL) -> tuple[list[str], dict[str, str]]:
    args = [f"--host={url.host or '127.0.0.1'}", f"--port={url.port or 5432}"]
    args += [f"--username={url.username or 'postgres'}", f"--dbname={url.database}"]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _add_rows(engine: Engine) -> dict[str, Any]:
    """A caregiver with a child, their opt-in, a queued text and an audit row."""
    now = utcnow()
    with Session(engine) as session, session.begin():
        caregiver = add_caregiver(session, phone=PHONE, child_name="Ana", child_age_days=120)
        [child] = caregiver.children
        record_consent(
            session,
            caregiver=caregiver,
            kind="opt_in",
            source="keyword",
            keyword="JOIN",
            text="JOIN",
            inbound=None,
            now=now,
        )
        key = system_key(name="welcome", caregiver_id=caregiver.id, child_id=child.id)
        session.add(
            OutboundMessage(
                dedupe_key=key,
                kind="system",
                caregiver_id=caregiver.id,
                child_id=child.id,
                to_number=PHONE,
                body="Little Moments: welcome!",
                due_at=now + timedelta(hours=1),
            )
        )
        CLI_ACTOR.audit(session, "caregiver.pause", caregiver, reason="restore drill")
        session.flush()
        return {"caregiver_id": caregiver.id, "child_id": child.id, "dedupe_key": key}


def _schema(engine: Engine) -> dict[str, Any]:
    """Every table's indexes, unique, check and foreign-key constraints, comparable."""
    inspector = inspect(engine)
    schema: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        schema[table] = {
            "pk": inspector.get_pk_constraint(table)["constrained_columns"],
            "indexes": sorted(
                (i["name"] or "", tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(table)
            ),
            "unique": sorted(
                (u["name"] or "", tuple(u["column_names"]))
                for u in inspector.get_unique_constraints(table)
            ),
            # Names only: the server re-renders a CHECK's text on dump (`IN (...)` comes back
            # with other casts); the inserts below show the checks still bite.
            "checks": sorted(c["name"] or "" for c in inspector.get_check_constraints(table)),
            "foreign_keys": sorted(
                (f["name"] or "", tuple(f["constrained_columns"]), f["referred_table"])
                for f in inspector.get_foreign_keys(table)
            ),
        }
    return schema


@pytest.mark.timeout(60)
def test_a_pg_dump_restores_into_a_new_database_with_rows_revision_and_constraints(
    new_database: Any, tmp_path: Path
) -> None:
    pg_dump, pg_restore = _server_tool("pg_dump"), _server_tool("pg_restore")
    source_url: URL = new_database("source")
    # The README's migration command, as a process (cwd: no .env of the working tree is read).
    migrate = subprocess.run(
        [sys.executable, "-m", "sms_service", "db", "upgrade"],
        env={"PATH": os.environ["PATH"], "DATABASE_URL": str_url(source_url)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert migrate.returncode == 0, migrate.stderr

    source = build_engine(str_url(source_url))
    rows = _add_rows(source)
    source_schema = _schema(source)
    source.dispose()

    # The README's backup and restore commands.
    dump = tmp_path / "sms_tips.dump"
    args, env = _libpq_args(source_url)
    subprocess.run([str(pg_dump), "--format=custom", f"--file={dump}", *args], env=env, check=True)
    restored_url: URL = new_database("restored")
    args, env = _libpq_args(restored_url)
    restore = [str(pg_restore), "--no-owner", "--exit-on-error", "--single-transaction"]
    subprocess.run([*restore, *args, str(dump)], env=env, check=True)

    restored = build_engine(str_url(restored_url))
    try:
        with restored.connect() as connection:
            at, head = schema_revisions(connection)
        assert at is not None and at == head
        assert _schema(restored) == source_schema
        assert "ix_outbound_message_state_due_at" in {
            name for name, _, _ in source_schema["outbound_message"]["indexes"]
        }

        with Session(restored) as session:
            caregiver = session.get(Caregiver, rows["caregiver_id"])
            assert caregiver is not None and caregiver.phone == PHONE
            assert [(c.id, c.name) for c in caregiver.children] == [(rows["child_id"], "Ana")]
            consents = session.scalars(select(ConsentEvent.kind)).all()
            assert consents == ["opt_in"]
            [queued] = session.scalars(select(OutboundMessage)).all()
            assert (queued.dedupe_key, queued.state) == (rows["dedupe_key"], "pending")
            [audit] = session.scalars(select(AuditLog)).all()
            assert (audit.action, audit.target_id) == ("caregiver.pause", str(caregiver.id))
            assert audit.detail == {"reason": "restore drill"}

        # The outbox still refuses a second copy of the same text ...
        with pytest.raises(IntegrityError), Session(restored) as session, session.begin():
            session.add(
                OutboundMessage(
                    dedupe_key=rows["dedupe_key"],
                    kind="system",
                    caregiver_id=rows["caregiver_id"],
                    to_number=PHONE,
                    body="a second copy",
                    due_at=utcnow(),
                )
            )
        # ... check constraints still hold, and the id sequences continue after the restored rows.
        with pytest.raises(IntegrityError), Session(restored) as session, session.begin():
            session.add(
                ConsentEvent(caregiver_id=rows["caregiver_id"], kind="maybe", source="keyword")
            )
        with Session(restored) as session, session.begin():
            later = add_caregiver(session, phone="+12125550198")
            assert later.id > rows["caregiver_id"]
    finally:
        restored.dispose()
