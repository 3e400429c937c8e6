"""Syncing the library into models.Tip: idempotent, a version per change, retired not deleted."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from content.library import load_library
from sms_service.core.db import transaction
from sms_service.core.models import Tip as TipRow
from sms_service.core.models import utcnow
from sms_service.tips.sync import SyncRefused, SyncReport, sync_library
from tests.content.conftest import GOOD_EN, GOOD_ES, WriteTips, tip


def rows(sessions: sessionmaker[Session]) -> dict[str, TipRow]:
    with sessions() as session:
        return {row.id: row for row in session.scalars(select(TipRow))}


def sync(sessions: sessionmaker[Session], root: Path, *, now: datetime | None = None) -> SyncReport:
    with transaction(sessions) as session:
        return sync_library(session, load_library(root), now=now)


def test_sync_creates_versions_retires_and_restores(
    sessions: sessionmaker[Session], write_tips: WriteTips, content_root: Path
) -> None:
    write_tips("en", [tip("en-a", GOOD_EN[0]), tip("en-b", GOOD_EN[1])])
    write_tips("es", [tip("es-a", GOOD_ES[0], weeks=(-8, -4))])
    first = sync(sessions, content_root)
    assert first.created == ["en-a", "en-b", "es-a"]
    stored = rows(sessions)
    assert {key: (row.version, row.retired_at) for key, row in stored.items()} == {
        "en-a": (1, None),
        "en-b": (1, None),
        "es-a": (1, None),
    }
    assert (stored["es-a"].language, stored["es-a"].min_week, stored["es-a"].max_week) == (
        "es",
        -8,
        -4,
    )
    assert stored["en-a"].text == GOOD_EN[0]

    again = sync(sessions, content_root)
    assert not again.changed and again.unchanged == 3
    assert {row.id: row.version for row in rows(sessions).values()} == {
        "en-a": 1,
        "en-b": 1,
        "es-a": 1,
    }

    # A text change and a range change each make a new version; en-b leaves the files.
    write_tips("en", [tip("en-a", GOOD_EN[2])])
    write_tips("es", [tip("es-a", GOOD_ES[0], weeks=(-8, -3))])
    later = utcnow() + timedelta(hours=1)
    changed = sync(sessions, content_root, now=later)
    assert changed.updated == ["en-a", "es-a"]
    assert changed.retired == ["en-b"]
    stored = rows(sessions)
    assert (stored["en-a"].version, stored["en-a"].text) == (2, GOOD_EN[2])
    assert (stored["es-a"].version, stored["es-a"].max_week) == (2, -3)
    assert stored["en-b"].retired_at == later and stored["en-b"].version == 1
    assert not sync(sessions, content_root).changed

    # en-b comes back unchanged: restored, same version.
    write_tips("en", [tip("en-a", GOOD_EN[2]), tip("en-b", GOOD_EN[1])])
    restored = sync(sessions, content_root)
    assert restored.restored == ["en-b"]
    assert rows(sessions)["en-b"].retired_at is None
    assert rows(sessions)["en-b"].version == 1


def test_sync_refuses_a_library_with_structure_errors(
    sessions: sessionmaker[Session], write_tips: WriteTips, content_root: Path
) -> None:
    write_tips("en", [tip("en-a", GOOD_EN[0]), tip("en-b", GOOD_EN[1])])
    sync(sessions, content_root)
    # A broken file must not make its tips look deleted (and so retired).
    (content_root / "tips" / "en" / "tips.yaml").write_text("tips: [broken", "utf-8")
    with pytest.raises(SyncRefused, match="structure error"):
        sync(sessions, content_root)
    assert all(row.retired_at is None for row in rows(sessions).values())
