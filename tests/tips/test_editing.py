"""Editing, adding and retiring tips in the database, without HTTP: checked, versioned, audited,
never silently overwritten by a load, and exported back to files that load to no change."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from content.checker import check_library
from content.library import DEFAULT_ROOT, Library, load_library
from sms_service.core.audit import Actor
from sms_service.core.db import transaction
from sms_service.core.models import AuditLog, OutboundMessage, TipVersion, utcnow
from sms_service.core.models import Tip as TipRow
from sms_service.tips.editing import (
    TipDraft,
    TipRefused,
    add_tip,
    edit_tip,
    restore_tip,
    retire_tip,
    version_history,
)
from sms_service.tips.export import export_tips
from sms_service.tips.sync import SyncConflict, sync_library
from tests.helpers.people import add_caregiver

ADA = Actor(name="ada@example.org", staff_user_id=None, role="admin")
TIP = "en-w000-your-face"
NEW_TEXT = (
    "{Child} loves your face most of all. During a feed, let your eyes meet and smile. "
    "Your face is the first picture your baby learns by heart."
)


@cache
def shipped() -> Library:
    return load_library()


@pytest.fixture
def loaded(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """The shipped tips loaded into the database."""
    with transaction(sessions) as session:
        sync_library(session, shipped())
    return sessions


def draft(text: str = NEW_TEXT, *, tip_id: str = TIP, weeks: tuple[int, int] = (0, 3)) -> TipDraft:
    return TipDraft(tip_id, "en", weeks[0], weeks[1], "connection", text)


def edit(sessions: sessionmaker[Session], change: TipDraft, version: int = 1) -> TipRow:
    with transaction(sessions) as session:
        return edit_tip(
            session, draft=change, expected_version=version, library=shipped(), actor=ADA
        )


def test_an_edit_is_a_new_version_kept_and_audited(loaded: sessionmaker[Session]) -> None:
    row = edit(loaded, draft())
    assert (row.version, row.text) == (2, NEW_TEXT)
    with loaded() as session:
        versions = session.scalars(select(TipVersion).where(TipVersion.tip_id == TIP)).all()
        assert sorted((v.version, v.source, v.author) for v in versions) == [
            (1, "files", "cli"),
            (2, "admin", "ada@example.org"),
        ]
        entry = session.scalars(select(AuditLog)).one()
        assert (entry.action, entry.target_id, entry.actor) == (
            "sms_service.tips.edit",
            TIP,
            ADA.name,
        )
        assert entry.detail == {"version": 2, "previous_version": 1}
        assert session.get_one(TipRow, TIP).edited_at is not None
    # Saving the same again is no new version; a save based on an old version is refused.
    assert edit(loaded, draft(), version=2).version == 2
    with pytest.raises(TipRefused, match="someone saved version 2"):
        edit(loaded, draft(NEW_TEXT + " Smile."), version=1)


@pytest.mark.parametrize(
    ("text", "rule", "field"),
    [
        ("You should look at {child} during every feed and smile back warmly.", "framing", "text"),
        ("Look at {child} and smile. " * 20, "segments", "text"),
        (
            "Look at {baby} and smile, your face is what your baby knows best.",
            "placeholder",
            "text",
        ),
    ],
)
def test_an_edit_with_a_checker_error_is_refused_and_nothing_changes(
    loaded: sessionmaker[Session], text: str, rule: str, field: str
) -> None:
    with pytest.raises(TipRefused) as refused:
        edit(loaded, draft(text))
    assert refused.value.check is not None
    assert (field, rule) in {(f, finding.rule) for f, finding in refused.value.check.errors}
    with loaded() as session:
        assert session.get_one(TipRow, TIP).version == 1
        assert session.scalars(select(AuditLog)).all() == []


HUM = "Hum a soft tune while you rock {child}. Your voice tells your baby that you are near."
REPLACEMENT = (
    "Hold {child} close on your chest while you both are awake. Your warm skin and your "
    "heartbeat help your baby settle."
)


def add(session: Session, tip_id: str, text: str, replaces: str | None = None) -> TipRow:
    change = draft(text, tip_id=tip_id, weeks=(2, 5))
    return add_tip(session, draft=change, library=shipped(), actor=ADA, replaces=replaces)


def test_adding_a_tip_checks_its_id_and_the_weeks_it_takes(
    loaded: sessionmaker[Session],
) -> None:
    with transaction(loaded) as session:
        for bad_id, problem in [
            ("w005-hum", "must start with 'en-'"),
            (TIP, "already has"),
            # Every week of the shipped library is needed: one more tip and the last is lost.
            ("en-w005-hum", "no family would receive en-w153"),
        ]:
            with pytest.raises(TipRefused) as refused:
                add(session, bad_id, HUM)
            assert refused.value.check is not None
            assert any(problem in f.message for _, f in refused.value.check.errors), bad_id
        row = add(session, "en-w001-chest-hold", REPLACEMENT, replaces="en-w001-bare-chest")
        assert (row.version, row.source_file, row.retired_at) == (1, "01-months-0-3.yaml", None)
        assert session.get_one(TipRow, "en-w001-bare-chest").retired_at is not None
        actions = session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
        assert actions == ["sms_service.tips.retire", "sms_service.tips.add"]


def test_retiring_leaves_no_child_without_a_tip(loaded: sessionmaker[Session]) -> None:
    with transaction(loaded) as session, pytest.raises(TipRefused, match="replacement first"):
        retire_tip(session, tip_id="en-w001-bare-chest", actor=ADA)
    with transaction(loaded) as session:
        add(session, "en-w001-chest-hold", REPLACEMENT, replaces="en-w001-bare-chest")
    with transaction(loaded) as session:
        # Both in at once would lose the last tip; out at once would leave a gap.
        with pytest.raises(TipRefused):
            restore_tip(session, tip_id="en-w001-bare-chest", library=shipped(), actor=ADA)
        with pytest.raises(TipRefused):
            retire_tip(session, tip_id="en-w001-chest-hold", actor=ADA)
        assert session.get_one(TipRow, "en-w001-chest-hold").retired_at is None


def test_a_load_does_not_overwrite_browser_edits_unless_forced(
    loaded: sessionmaker[Session],
) -> None:
    edit(loaded, draft())
    with transaction(loaded) as session, pytest.raises(SyncConflict) as conflict:
        sync_library(session, shipped())
    assert conflict.value.tip_ids == [TIP]
    with transaction(loaded) as session:
        report = sync_library(session, shipped(), force=True)
        assert report.updated == [TIP]
        row = session.get_one(TipRow, TIP)
        assert (row.version, row.edited_at) == (3, None)
        assert row.text != NEW_TEXT


def test_export_round_trip(loaded: sessionmaker[Session], tmp_path: Path) -> None:
    edit(loaded, draft())
    with transaction(loaded) as session:
        add(session, "en-w001-chest-hold", REPLACEMENT, replaces="en-w001-bare-chest")
        export_tips(session, out=tmp_path / "out", root=DEFAULT_ROOT)
    exported = load_library(tmp_path / "out")
    assert check_library(exported).ok
    ids = {tip.id for tip in exported.all_tips()}
    assert "en-w001-chest-hold" in ids and "en-w001-bare-chest" not in ids
    # An untouched file says the same (its comments too); only the edited ones differ.
    exported_file = (tmp_path / "out/tips/es/00-embarazo.yaml").read_text("utf-8")
    shipped_file = (DEFAULT_ROOT / "tips/es/00-embarazo.yaml").read_text("utf-8")
    assert yaml.safe_load(exported_file) == yaml.safe_load(shipped_file)
    assert exported_file.splitlines()[0] == shipped_file.splitlines()[0]
    with transaction(loaded) as session:
        report = sync_library(session, exported)
        assert not report.changed
        assert session.scalars(select(TipRow).where(TipRow.edited_at.is_not(None))).all() == []


def test_the_history_counts_families_per_version(loaded: sessionmaker[Session]) -> None:
    edit(loaded, draft())
    with transaction(loaded) as session:
        for index, (version, state) in enumerate(
            [(1, "delivered"), (1, "sent"), (2, "delivered"), (2, "cancelled")]
        ):
            caregiver = add_caregiver(session, phone=f"+1212555{index:04d}")
            session.add(
                OutboundMessage(
                    dedupe_key=f"tip-{index}",
                    kind="tip",
                    caregiver_id=caregiver.id,
                    tip_id=TIP,
                    tip_version=version,
                    to_number=caregiver.phone,
                    body="x",
                    state=state,
                    due_at=utcnow() - timedelta(days=1),
                )
            )
    with loaded() as session:
        history = version_history(session, TIP)
    assert [(h.number, h.families, h.texts) for h in history] == [(2, 1, 1), (1, 2, 2)]
    assert history[0].version is not None and history[0].version.text == NEW_TEXT
