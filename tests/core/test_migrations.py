"""Alembic migrations: they build the models' schema, go down and up, and move data right."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from jobs.scheduler import JOBS_TABLE
from sms_service.core.db import downgrade, include_object, upgrade
from sms_service.core.models import Base


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": include_object, "compare_type": True}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_downgrade_to_base_and_back(engine: Engine) -> None:
    try:
        downgrade(engine, "base")
        # APScheduler makes its own job table (an earlier test's scheduler may have left it).
        assert set(inspect(engine).get_table_names()) - {JOBS_TABLE} <= {"alembic_version"}
    finally:
        upgrade(engine)  # even after a failure: later tests share this PostgreSQL database
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())


def _add_caregiver_row(connection: Connection, caregiver_id: int, *, at: datetime) -> None:
    """A caregiver in New York with the number +1212555{id:04d}, written in plain SQL."""
    connection.execute(
        text(
            "INSERT INTO caregiver (id, phone, language, timezone, status, conversation_data, "
            "created_at, updated_at) VALUES (:id, :phone, 'en', 'America/New_York', 'active', "
            "'{}', :at, :at)"
        ),
        {"id": caregiver_id, "phone": f"+1212555{caregiver_id:04d}", "at": at},
    )


def test_0002_anchors_the_uncertainty_of_rows_already_sending(engine: Engine) -> None:
    claimed = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    row = {"to_number": "+12125550900", "body": "hi", "segments": 1, "attempts": 1}
    try:
        downgrade(engine, "0001")
        with engine.begin() as connection:
            _add_caregiver_row(connection, 900, at=claimed)
            for key, state in (("m:sending", "sending"), ("m:pending", "pending")):
                connection.execute(
                    text(
                        "INSERT INTO outbound_message (dedupe_key, kind, caregiver_id, to_number,"
                        " body, segments, state, due_at, attempts, claimed_at, created_at,"
                        " updated_at) VALUES (:key, 'tip', 900, :to_number, :body, :segments,"
                        " :state, :at, :attempts, :at, :at, :at)"
                    ),
                    {**row, "key": key, "state": state, "at": claimed},
                )
        upgrade(engine, "0002")
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT dedupe_key, uncertain_since FROM outbound_message")
            )
            found = {key: since for key, since in rows}
        assert found["m:pending"] is None
        assert found["m:sending"] is not None
        downgrade(engine, "0001")
        columns = {column["name"] for column in inspect(engine).get_columns("outbound_message")}
        assert "uncertain_since" not in columns
        assert "early_delivery_report" not in inspect(engine).get_table_names()
    finally:
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM caregiver WHERE id = 900"))
        upgrade(engine)


def test_0004_counts_existing_tips_and_this_weeks_campaign_texts(engine: Engine) -> None:
    recent = datetime.now(UTC).replace(microsecond=0)
    year, week, _ = recent.astimezone(ZoneInfo("America/New_York")).isocalendar()
    try:
        downgrade(engine, "0003")
        with engine.begin() as connection:
            _add_caregiver_row(connection, 901, at=recent)
            for key, kind, due in (
                ("tip:901:1:2026-W10", "tip", datetime(2026, 3, 2, 23, 0, tzinfo=UTC)),
                ("campaign:1:901", "campaign", recent),
                ("campaign:2:901", "campaign", recent - timedelta(days=30)),
                ("reply:SM1", "reply", recent),
            ):
                connection.execute(
                    text(
                        "INSERT INTO outbound_message (dedupe_key, kind, caregiver_id, to_number,"
                        " body, segments, state, due_at, attempts, created_at, updated_at)"
                        " VALUES (:key, :kind, 901, '+12125550901', 'hi', 1, 'pending', :due, 0,"
                        " :due, :due)"
                    ),
                    {"key": key, "kind": kind, "due": due},
                )
        upgrade(engine, "0004")
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT dedupe_key, cap_week FROM outbound_message"))
            found = {key: week for key, week in rows}
        assert found == {
            "tip:901:1:2026-W10": "2026-W10",
            "campaign:1:901": f"{year}-W{week:02d}",
            "campaign:2:901": None,  # a week long over needs no count
            "reply:SM1": None,
        }
        downgrade(engine, "0003")
        columns = {column["name"] for column in inspect(engine).get_columns("outbound_message")}
        assert "cap_week" not in columns
    finally:
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM caregiver WHERE id = 901"))
        upgrade(engine)


def test_0005_puts_unanswered_texts_in_the_inbox_and_keeps_answers_as_replies(
    engine: Engine,
) -> None:
    at = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    try:
        downgrade(engine, "0004")
        with engine.begin() as connection:
            _add_caregiver_row(connection, 902, at=at)
            for sid, handled_as in (("SMa", "reply"), ("SMb", "command:pause")):
                connection.execute(
                    text(
                        "INSERT INTO inbound_message (message_sid, caregiver_id, from_number,"
                        " to_number, body, num_media, handled_as, received_at) VALUES (:sid,"
                        " 902, '+12125550902', '', 'hi', 0, :handled_as, :at)"
                    ),
                    {"sid": sid, "handled_as": handled_as, "at": at},
                )
        upgrade(engine, "0005")
        with engine.begin() as connection:
            rows = connection.execute(text("SELECT message_sid, inbox_state FROM inbound_message"))
            states = {sid: state for sid, state in rows}
            connection.execute(
                text(
                    "INSERT INTO outbound_message (dedupe_key, kind, caregiver_id, to_number,"
                    " body, segments, state, due_at, attempts, created_at, updated_at) VALUES"
                    " ('staff:1:1', 'staff', 902, '+12125550902', 'Yes!', 1, 'pending', :at, 0,"
                    " :at, :at)"
                ),
                {"at": at},
            )
        assert states == {"SMa": "unread", "SMb": None}
        downgrade(engine, "0004")
        with engine.connect() as connection:
            kinds = connection.execute(text("SELECT kind FROM outbound_message")).scalars().all()
        assert kinds == ["reply"]
        columns = {column["name"] for column in inspect(engine).get_columns("inbound_message")}
        assert not columns & {"inbox_state", "urgent", "assigned_to_id"}
    finally:
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM caregiver WHERE id = 902"))
        upgrade(engine)


def test_0007_takes_any_language_and_goes_back_only_when_all_are_english_or_spanish(
    engine: Engine,
) -> None:
    at = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    insert = text(
        "INSERT INTO caregiver (id, phone, language, timezone, status, conversation_data, "
        "created_at, updated_at) VALUES (903, '+12125550903', :language, 'America/New_York', "
        "'active', '{}', :at, :at)"
    )
    try:
        downgrade(engine, "0006")
        # 0006 turns a third language away.
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(insert, {"language": "xx", "at": at})
        upgrade(engine, "0007")
        with engine.begin() as connection:
            connection.execute(insert, {"language": "xx", "at": at})
        indexes = {index["name"] for index in inspect(engine).get_indexes("caregiver")}
        assert "ix_caregiver_enrolled_at" in indexes
        with pytest.raises(RuntimeError, match="1 caregiver row"):
            downgrade(engine, "0006")
        with engine.begin() as connection:
            connection.execute(text("UPDATE caregiver SET language = 'es' WHERE id = 903"))
        downgrade(engine, "0006")
        indexes = {index["name"] for index in inspect(engine).get_indexes("caregiver")}
        assert "ix_caregiver_enrolled_at" not in indexes
    finally:
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM caregiver WHERE id = 903"))
        upgrade(engine)


def test_0009_takes_invited_numbers_and_going_back_forgets_only_them(engine: Engine) -> None:
    at = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    insert = text(
        "INSERT INTO caregiver (id, phone, language, timezone, status, conversation_data, "
        "created_at, updated_at) VALUES (:id, :phone, 'en', 'America/New_York', :status, "
        "'{}', :at, :at)"
    )
    invited = {"id": 904, "phone": "+12125550904", "status": "invited", "at": at}
    try:
        downgrade(engine, "0008")
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(insert, invited)  # 0008 knows no invited status
        upgrade(engine, "0009")
        with engine.begin() as connection:
            connection.execute(insert, invited)
            _add_caregiver_row(connection, 905, at=at)
            connection.execute(
                text(
                    "INSERT INTO invitation (caregiver_id, line, created_at) VALUES (904, 2, :at)"
                ),
                {"at": at},
            )
        downgrade(engine, "0008")
        with engine.connect() as connection:
            left = connection.execute(text("SELECT id FROM caregiver ORDER BY id")).scalars()
            assert list(left) == [905]
        assert "invitation" not in inspect(engine).get_table_names()
    finally:
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM caregiver WHERE id IN (904, 905)"))
        upgrade(engine)


def test_0010_puts_every_existing_family_with_the_default_partner(engine: Engine) -> None:
    at = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    try:
        downgrade(engine, "0009")
        assert "partner" not in inspect(engine).get_table_names()
        with engine.begin() as connection:
            _add_caregiver_row(connection, 906, at=at)
            _add_caregiver_row(connection, 907, at=at)
        upgrade(engine, "0010")
        with engine.begin() as connection:
            partners = connection.execute(text("SELECT id, slug, name FROM partner")).all()
            assert [(slug, name) for _, slug, name in partners] == [("program", "Little Moments")]
            owners = connection.execute(
                text("SELECT DISTINCT partner_id FROM caregiver WHERE id IN (906, 907)")
            ).scalars()
            assert list(owners) == [partners[0][0]]
        # From here a family always has a partner: a row without one is refused.
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text("UPDATE caregiver SET partner_id = NULL WHERE id = 906"))
        assert "sender" in {c["name"] for c in inspect(engine).get_columns("outbound_message")}
        downgrade(engine, "0009")
        columns = {column["name"] for column in inspect(engine).get_columns("caregiver")}
        assert "partner_id" not in columns
        assert "sender" not in {c["name"] for c in inspect(engine).get_columns("outbound_message")}
        assert not {"partner", "partner_keyword"} & set(inspect(engine).get_table_names())
        with engine.connect() as connection:
            kept = connection.execute(text("SELECT id FROM caregiver ORDER BY id")).scalars()
            assert list(kept) == [906, 907]  # the families stay; only the partner goes
    finally:
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM caregiver WHERE id IN (906, 907)"))
        upgrade(engine)


def test_0011_surveys_go_back_keeping_sent_questions_as_system_texts(engine: Engine) -> None:
    at = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    outbound = text(
        "INSERT INTO outbound_message (dedupe_key, kind, caregiver_id, to_number, body, segments,"
        " state, due_at, attempts, created_at, updated_at, survey_run_id) VALUES (:key, 'survey',"
        " 906, '+12125550906', 'Reply 0-7', 1, :state, :at, 0, :at, :at, 1)"
    )
    try:
        downgrade(engine, "0009")
        assert "survey" not in inspect(engine).get_table_names()
        with engine.begin() as connection:
            _add_caregiver_row(connection, 906, at=at)  # 0010 gives it the default partner
        upgrade(engine, "0011")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO survey (id, name, status, schedule, created_at, updated_at)"
                    " VALUES (1, 'S', 'active', 'once', :at, :at)"
                ),
                {"at": at},
            )
            connection.execute(
                text(
                    "INSERT INTO survey_run (id, survey_id, caregiver_id, occasion, state,"
                    " reasked, created_at) VALUES (1, 1, 906, 'once', 'open', false, :at)"
                ),
                {"at": at},
            )
            for key, state in (("survey:1:a", "sent"), ("survey:1:b", "pending")):
                connection.execute(outbound, {"key": key, "state": state, "at": at})
            # A run is asked once per occasion, however often it is planned.
            with pytest.raises(IntegrityError), connection.begin_nested():
                connection.execute(
                    text(
                        "INSERT INTO survey_run (survey_id, caregiver_id, occasion, state,"
                        " reasked, created_at) VALUES (1, 906, 'once', 'open', false, :at)"
                    ),
                    {"at": at},
                )
        downgrade(engine, "0010")
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT dedupe_key, kind FROM outbound_message WHERE caregiver_id = 906")
            )
            assert dict(rows.all()) == {"survey:1:a": "system"}
        columns = {column["name"] for column in inspect(engine).get_columns("outbound_message")}
        assert "survey_run_id" not in columns
        assert not {"survey", "survey_run", "survey_answer"} & set(
            inspect(engine).get_table_names()
        )
    finally:
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM caregiver WHERE id = 906"))
        upgrade(engine)


def test_0013_experiments_go_back_keeping_the_texts_sent_in_them(engine: Engine) -> None:
    at = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    try:
        downgrade(engine, "0009")
        with engine.begin() as connection:
            _add_caregiver_row(connection, 913, at=at)  # 0010 gives it the default partner
        upgrade(engine, "0012")
        assert "experiment" not in inspect(engine).get_table_names()
        upgrade(engine, "0013")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO tip (id, language, min_week, max_week, theme, text, version,"
                    " content_hash, safety_reviewed, updated_at) VALUES ('exp-913', 'en', 1, 2,"
                    " 'play', 'Words', 1, 'x', '[]', :at)"
                ),
                {"at": at},
            )
            tip_id = "exp-913"
            connection.execute(
                text(
                    "INSERT INTO experiment (id, tip_id, wording_b, share_b, status, started_at)"
                    " VALUES (913, :tip, 'Other words', 0.5, 'running', :at)"
                ),
                {"tip": tip_id, "at": at},
            )
            connection.execute(
                text(
                    "INSERT INTO outbound_message (dedupe_key, kind, caregiver_id, to_number, body,"
                    " segments, state, due_at, attempts, created_at, updated_at, experiment_id,"
                    " arm) VALUES ('exp:913', 'tip', 913, '+12125550913', 'Other words', 1,"
                    " 'sent', :at, 0, :at, :at, 913, 'B')"
                ),
                {"at": at},
            )
            # Only the two wordings are arms.
            with pytest.raises(IntegrityError), connection.begin_nested():
                connection.execute(text("UPDATE outbound_message SET arm = 'C'"))
        downgrade(engine, "0012")
        with engine.connect() as connection:
            body = connection.execute(
                text("SELECT body FROM outbound_message WHERE caregiver_id = 913")
            ).scalar_one()
        assert body == "Other words"
        columns = {column["name"] for column in inspect(engine).get_columns("outbound_message")}
        assert not {"experiment_id", "arm"} & columns
        assert "experiment" not in inspect(engine).get_table_names()
    finally:
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM caregiver WHERE id = 913"))
            connection.execute(text("DELETE FROM tip WHERE id = 'exp-913'"))
        upgrade(engine)
