"""What scheduled jobs run against: the settings and engine their scheduler process bound.

APScheduler pickles each job's arguments into its job table. Storing the database URL there
would copy the database password into a table that anyone with read access can see, so a job
is stored with a key that names the database without secrets, and finds the live settings and
engine here, in the process that runs it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from sms_service.core.settings import Settings


@dataclass(frozen=True)
class JobRuntime:
    settings: Settings
    engine: Engine


_bound: dict[str, JobRuntime] = {}
_lock = threading.Lock()


def database_key(database_url: str) -> str:
    """The database's URL with any password masked: safe to store, still readable by people."""
    return make_url(database_url).render_as_string(hide_password=True)


def bind(settings: Settings, engine: Engine) -> str:
    """Let this process's jobs for `settings.database_url` use `engine`; returns their key."""
    key = database_key(settings.database_url)
    with _lock:
        _bound[key] = JobRuntime(settings, engine)
    return key


def unbind(key: str, engine: Engine) -> None:
    """Forget the binding of `key`, unless a newer scheduler has bound its own engine since."""
    with _lock:
        if key in _bound and _bound[key].engine is engine:
            del _bound[key]


def runtime(key: str) -> JobRuntime:
    """The settings and engine bound for `key`; a job run outside its scheduler fails loudly."""
    with _lock:
        found = _bound.get(key)
    if found is None:
        raise LookupError(f"no scheduler in this process is bound to the database {key}")
    return found
