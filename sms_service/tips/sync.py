"""Sync the tip files into the database (models.Tip): stable ids, versions, retirement.

The database is the truth once loaded; the files are how tips arrive and how they go back for
review (`tips/export.py`). A tip staff changed in the admin (its `edited_at` is set) is not
overwritten by a load whose file says something else: the load is refused, naming those tips,
unless forced. Once the files say the same as the database again, `edited_at` is cleared.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.library import Library, Tip
from sms_service.core.models import Tip as TipRow
from sms_service.core.models import TipVersion, utcnow
from sms_service.tips.rows import reviews_of


class SyncRefused(Exception):
    """The library has structure errors; syncing it could retire tips by mistake."""


class SyncConflict(SyncRefused):
    """Tips edited in the admin would be overwritten or retired by the files."""

    def __init__(self, tip_ids: list[str]) -> None:
        self.tip_ids = tip_ids
        super().__init__(
            f"{len(tip_ids)} tip(s) were changed in the admin since the last load and the files "
            f"differ: {', '.join(tip_ids)}. Run `sms-tips content export` and review the files, "
            "or load with --force to let the files win"
        )


@dataclass
class SyncReport:
    """What a sync changed, by tip id."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)  # a new version: text, range or theme changed
    restored: list[str] = field(default_factory=list)  # back in the files after being retired
    retired: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        """Whether the database differs from before the sync."""
        return bool(self.created or self.updated or self.restored or self.retired)


def content_hash(tip: Tip) -> str:
    """A fingerprint of what a caregiver would notice: text, age range, theme, language."""
    payload = json.dumps(
        [tip.language, tip.min_week, tip.max_week, tip.theme, tip.text], ensure_ascii=False
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def record_version(session: Session, row: TipRow, *, source: str, author: str) -> None:
    """Keep the row's current version in tip_version (what families of that version got)."""
    session.add(
        TipVersion(
            tip_id=row.id,
            version=row.version,
            min_week=row.min_week,
            max_week=row.max_week,
            theme=row.theme,
            text=row.text,
            content_hash=row.content_hash,
            source=source,
            author=author,
            created_at=row.updated_at,
        )
    )


def _apply(row: TipRow, tip: Tip, digest: str) -> None:
    row.language = tip.language
    row.min_week = tip.min_week
    row.max_week = tip.max_week
    row.theme = tip.theme
    row.text = tip.text
    row.content_hash = digest
    row.safety_reviewed = reviews_of(tip)
    row.source_file = tip.file.rsplit("/", 1)[-1]


def _matches(row: TipRow, tip: Tip | None) -> bool:
    """Whether the files say what the database says about this tip."""
    if tip is None:
        return row.retired_at is not None
    return (
        row.retired_at is None
        and row.content_hash == content_hash(tip)
        and row.safety_reviewed == reviews_of(tip)
    )


def conflicts(rows: dict[str, TipRow], library: Library) -> list[str]:
    """Ids of tips edited in the admin whose files say something else."""
    in_files = {tip.id: tip for tip in library.all_tips()}
    return sorted(
        tip_id
        for tip_id, row in rows.items()
        if row.edited_at is not None and not _matches(row, in_files.get(tip_id))
    )


def sync_library(
    session: Session, library: Library, *, now: datetime | None = None, force: bool = False
) -> SyncReport:
    """Make models.Tip match the library. A changed tip gets version + 1; a tip gone from the
    files gets retired_at (rows are never deleted: sent messages point at them). Running it
    twice changes nothing the second time. Refuses (SyncConflict) to overwrite admin edits
    unless `force`. Does not commit."""
    if library.has_errors():
        problems = sum(finding.severity == "error" for finding in library.findings)
        raise SyncRefused(
            f"the content files have {problems} structure error(s); run `sms-tips content check`"
        )
    moment = now or utcnow()
    report = SyncReport()
    rows = {row.id: row for row in session.scalars(select(TipRow))}
    clashing = conflicts(rows, library)
    if clashing and not force:
        raise SyncConflict(clashing)
    for edited in rows.values():
        edited.edited_at = None  # the files win, or already say the same
    for tip in library.all_tips():
        digest = content_hash(tip)
        row = rows.pop(tip.id, None)
        if row is None:
            new = TipRow(id=tip.id, version=1, retired_at=None, updated_at=moment)
            _apply(new, tip, digest)
            session.add(new)
            record_version(session, new, source="files", author="cli")
            report.created.append(tip.id)
            continue
        if row.retired_at is not None:
            row.retired_at = None
            report.restored.append(tip.id)
        if row.content_hash != digest:
            _apply(row, tip, digest)
            row.version += 1
            row.updated_at = moment
            record_version(session, row, source="files", author="cli")
            if tip.id not in report.restored:
                report.updated.append(tip.id)
        else:
            _apply(row, tip, digest)  # reviews and file name: no new version
            if tip.id not in report.restored:
                report.unchanged += 1
    for row in rows.values():
        if row.retired_at is None:
            row.retired_at = moment
            report.retired.append(row.id)
    session.flush()
    return report
