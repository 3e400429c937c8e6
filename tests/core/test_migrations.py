from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

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
