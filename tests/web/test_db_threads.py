"""A web process runs at most SMS_TIPS_WEB_DB_THREADS requests' database work at once; the
others wait their turn and are all answered."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import replace

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from sms_service.core.models import Caregiver
from sms_service.core.settings import ConfigError, Settings
from sms_service.web.context import AppContext, in_read_transaction, in_transaction
from tests.helpers.settings import make_settings


def _most_at_once(context: AppContext, requests: int) -> tuple[int, list[int]]:
    """Run `requests` transactions at once; how many ran together at most, and their answers."""
    lock, running, most = threading.Lock(), [0], [0]

    def work(session: Session) -> int:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)  # long enough for every request to be waiting
        with lock:
            running[0] -= 1
        return session.scalar(select(func.count(Caregiver.id))) or 0

    async def all_of_them() -> list[int]:
        reads = [in_read_transaction(context, work) for _ in range(requests // 2)]
        writes = [in_transaction(context, work) for _ in range(requests - requests // 2)]
        return list(await asyncio.gather(*reads, *writes))

    answers = asyncio.run(all_of_them())
    return most[0], answers


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_database_work_runs_on_the_configured_number_of_threads(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    most, answers = _most_at_once(AppContext(replace(settings, web_db_threads=3), sessions), 8)
    assert most == 3
    assert answers == [0] * 8  # every request answered, none dropped

    most, _ = _most_at_once(AppContext(settings, sessions), 8)
    assert most == settings.web_db_threads == 2  # the default


def test_the_thread_count_is_checked_at_start_up() -> None:
    url = "sqlite:///sms_tips.db"
    assert make_settings(url, SMS_TIPS_WEB_DB_THREADS="8").web_db_threads == 8
    for bad in ("0", "65", "many"):
        with pytest.raises(ConfigError, match="SMS_TIPS_WEB_DB_THREADS"):
            make_settings(url, SMS_TIPS_WEB_DB_THREADS=bad)
