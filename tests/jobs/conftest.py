"""Fixtures of the planning tests: the small tip library in the database."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from sms_service.core.db import transaction
from tests.jobs.factories import tip_library


@pytest.fixture
def tips(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        session.add_all(tip_library())
