"""Tip rows as the content layer's tips, and back: the one translation between the two."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.library import SafetyReview, Tip
from sms_service.core.models import Tip as TipRow


def reviews_of(tip: Tip) -> list[dict[str, str]]:
    """A tip's safety reviews as the row stores them."""
    return [{"rule": review.rule, "reason": review.reason} for review in tip.reviews]


def as_tip(row: TipRow) -> Tip:
    """The row as a content tip (its file as `content check` names it)."""
    reviews = tuple(SafetyReview(r["rule"], r["reason"]) for r in row.safety_reviewed or [])
    shown = f"tips/{row.language}/{row.source_file or '(added in the admin)'}"
    return Tip(
        row.id, row.language, row.min_week, row.max_week, row.theme, row.text, shown, reviews
    )


def live_tips(session: Session, language: str) -> list[Tip]:
    """The tips of `language` not retired, as content tips."""
    rows = session.scalars(
        select(TipRow).where(TipRow.language == language, TipRow.retired_at.is_(None))
    )
    return [as_tip(row) for row in rows]


@dataclass(frozen=True)
class TipState:
    """What the database says of a tip, beside its file: the version families get now."""

    version: int
    edited: bool  # changed in the admin since the files last said the same
    retired: bool


def tip_states(session: Session, language: str) -> dict[str, TipState]:
    """Every tip of `language` in the database: id -> version, edited, retired."""
    rows = session.execute(
        select(TipRow.id, TipRow.version, TipRow.edited_at, TipRow.retired_at).where(
            TipRow.language == language
        )
    )
    return {
        tip_id: TipState(version, edited is not None, retired is not None)
        for tip_id, version, edited, retired in rows
    }
