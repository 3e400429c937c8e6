"""Database engine, sessions and schema migrations (Alembic is the only way the schema is made)."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent.parent / "migrations"
# The execution option that makes a connection's transaction read-only (read by the begin hooks).
READ_ONLY = "sms_tips_read_only"


def build_engine(database_url: str, **options: Any) -> Engine:
    """An engine for `database_url`, with SQLite set up for concurrent use (WAL, foreign keys)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        options.setdefault("connect_args", {"timeout": 30})
        engine = create_engine(url, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN, which breaks SELECT-then-UPDATE
        # claims; emitting BEGIN ourselves gives real transactions (documented SQLAlchemy recipe).
        event.listen(engine, "begin", _sqlite_begin)
        _WRITERS[engine] = threading.RLock()
        return engine
    options.setdefault("pool_pre_ping", True)
    # A web process serves many webhooks at once, each holding a connection for its one
    # transaction: the default 5 made them queue for a connection (16 is the load tested).
    options.setdefault("pool_size", 16)
    engine = create_engine(url, **options)
    event.listen(engine, "begin", _postgres_begin)
    return engine


# SQLite has one writer at a time. Threads of one process that wait inside SQLite poll for its
# lock (sleeping longer each try, a busy handler): under load a write then waits up to seconds
# while the lock sits free. Queuing them on a lock of our own hands it over at once, in order;
# other processes still meet SQLite's own lock (and its busy timeout). Reentrant: a transaction
# opened inside another on the same thread waits for SQLite as it always did.
_WRITERS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    read_only = bool(connection.get_execution_options().get(READ_ONLY))
    # query_only makes a write in a read transaction fail at once, as READ ONLY does on
    # PostgreSQL, instead of racing for the lock; it stays set on the connection, so it is only
    # changed when the kind of transaction changes.
    if connection.info.get("query_only", False) != read_only:
        connection.exec_driver_sql(f"PRAGMA query_only={int(read_only)}")
        connection.info["query_only"] = read_only
    # IMMEDIATE takes the write lock up front, so two writers queue instead of deadlocking;
    # a reader takes no lock until it reads, and in WAL mode readers never block the writer.
    connection.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")


def _postgres_begin(connection: Connection) -> None:
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("SET TRANSACTION READ ONLY")


# APScheduler creates and owns its job table; it is not part of this schema.
_FOREIGN_TABLES = frozenset({"apscheduler_jobs"})


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Leave tables that other libraries own out of Alembic's autogenerate comparison."""
    return not (type_ == "table" and name in _FOREIGN_TABLES)


def build_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values after commit (routes render them after the transaction)."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One session and one transaction: committed on success, rolled back on any error."""
    with ExitStack() as stack:
        bind = factory.kw.get("bind")
        writer = _WRITERS.get(bind) if isinstance(bind, Engine) else None
        if writer is not None:
            stack.enter_context(writer)
        session = stack.enter_context(factory())
        stack.enter_context(session.begin())
        yield session


@contextmanager
def read_transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One session and one read-only transaction: writes fail, and on SQLite it takes no lock
    that would make writers wait."""
    with factory() as session, session.begin():
        session.connection(execution_options={READ_ONLY: True})
        yield session


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    """Alembic's configuration for the packaged migrations, optionally bound to `connection`."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to `revision` (the latest by default)."""
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the database down to `revision` ("base" removes every table)."""
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), revision)


def schema_revisions(connection: Connection) -> tuple[str | None, str | None]:
    """(the revision the database is at, the latest the code has); None: not migrated at all."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    return MigrationContext.configure(connection).get_current_revision(), head
