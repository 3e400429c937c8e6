"""Sync the tip files into the database (models.Tip): stable ids, versions, retirement."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.library import Library, Tip
from sms_service.core.models import Tip as TipRow
from sms_service.core.models import utcnow


class SyncRefused(Exception):
    """The library has structure errors; syncing it could retire tips by mistake."""


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


def _apply(row: TipRow, tip: Tip, digest: str) -> None:
    row.language = tip.language
    row.min_week = tip.min_week
    row.max_week = tip.max_week
    row.theme = tip.theme
    row.text = tip.text
    row.content_hash = digest


def sync_library(session: Session, library: Library, *, now: datetime | None = None) -> SyncReport:
    """Make models.Tip match the library. A changed tip gets version + 1; a tip gone from the
    files gets retired_at (rows are never deleted: sent messages point at them). Running it
    twice changes nothing the second time. Does not commit."""
    if library.has_errors():
        problems = sum(finding.severity == "error" for finding in library.findings)
        raise SyncRefused(
            f"the content files have {problems} structure error(s); run `sms-tips content check`"
        )
    moment = now or utcnow()
    report = SyncReport()
    rows = {row.id: row for row in session.scalars(select(TipRow))}
    for tip in library.all_tips():
        digest = content_hash(tip)
        row = rows.pop(tip.id, None)
        if row is None:
            new = TipRow(id=tip.id, version=1, retired_at=None, updated_at=moment)
            _apply(new, tip, digest)
            session.add(new)
            report.created.append(tip.id)
            continue
        if row.retired_at is not None:
            row.retired_at = None
            report.restored.append(tip.id)
        if row.content_hash != digest:
            _apply(row, tip, digest)
            row.version += 1
            if tip.id not in report.restored:
                report.updated.append(tip.id)
        elif tip.id not in report.restored:
            report.unchanged += 1
    for row in rows.values():
        if row.retired_at is None:
            row.retired_at = moment
            report.retired.append(row.id)
    session.flush()
    return report
