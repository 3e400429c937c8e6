"""Staff edit, add, retire and restore tips in the database: checked, versioned and audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from content.library import Library, SafetyReview, Tip
from content.segments import analyze
from content.tip_check import TipCheck, check_tip, retirement_gaps
from sms_service.core.audit import Actor
from sms_service.core.models import OutboundMessage, TipVersion, utcnow
from sms_service.core.models import Tip as TipRow
from sms_service.tips.rows import as_tip, live_tips
from sms_service.tips.sync import content_hash, record_version

# The texts of a tip that reached (or were handed to) the carrier.
SENT_STATES = ("sent", "delivered", "undelivered", "failed")


class TipNotFound(LookupError):
    """No tip has this id."""


class TipRefused(ValueError):
    """The tip fails the checker (or someone saved it first); nothing was written."""

    def __init__(self, message: str, check: TipCheck | None = None) -> None:
        super().__init__(message)
        self.check = check


@dataclass(frozen=True)
class TipDraft:
    """What a staff member typed: a tip before it is checked and saved."""

    id: str
    language: str
    min_week: int
    max_week: int
    theme: str
    text: str

    def as_tip(self, reviews: tuple[SafetyReview, ...] = (), file: str = "") -> Tip:
        """The draft as a content tip (spaces folded as the files fold them)."""
        text = " ".join(self.text.split())
        shown = file or f"tips/{self.language}/(added in the admin)"
        return Tip(
            self.id, self.language, self.min_week, self.max_week, self.theme, text, shown, reviews
        )


def get_tip(session: Session, tip_id: str) -> TipRow:
    """The tip row with this id (TipNotFound otherwise)."""
    row = session.get(TipRow, tip_id)
    if row is None:
        raise TipNotFound(tip_id)
    return row


def check_draft(
    session: Session,
    draft: TipDraft,
    *,
    library: Library,
    adding: bool = False,
    replaces: str | None = None,
    coverage: bool = True,
) -> TipCheck:
    """The checker's findings for `draft` among the live tips of its language; `adding`: a new
    tip, whose id must not be taken; `replaces`: a tip retired in the same step."""
    row = session.get(TipRow, draft.id)
    reviews = as_tip(row).reviews if row is not None and not adding else ()
    others = [tip for tip in live_tips(session, draft.language) if tip.id != replaces]
    return check_tip(
        draft.as_tip(reviews),
        others=others,
        themes=library.themes,
        taken_ids={draft.id} if adding and row is not None else (),
        # A retired tip is in no family's sequence: its weeks matter when it is restored.
        coverage=coverage and (adding or row is None or row.retired_at is None),
    )


def _refuse_errors(check: TipCheck) -> None:
    if check.errors:
        raise TipRefused(f"the checker found {len(check.errors)} error(s); nothing saved", check)


def edit_tip(
    session: Session,
    *,
    draft: TipDraft,
    expected_version: int,
    library: Library,
    actor: Actor,
    now: datetime | None = None,
) -> TipRow:
    """Save `draft` over its tip as version + 1 (nothing when nothing changed); refused on a
    checker error or when the tip was saved by someone else since `expected_version`."""
    row = get_tip(session, draft.id)
    if row.version != expected_version:
        raise TipRefused(
            f"someone saved version {row.version} while you edited version {expected_version}; "
            "reload the page to see it"
        )
    draft = TipDraft(row.id, row.language, draft.min_week, draft.max_week, draft.theme, draft.text)
    check = check_draft(session, draft, library=library)
    _refuse_errors(check)
    tip = draft.as_tip(as_tip(row).reviews)
    digest = content_hash(tip)
    if digest == row.content_hash:
        return row
    previous = row.version
    moment = now or utcnow()
    row.min_week, row.max_week, row.theme, row.text = (
        tip.min_week,
        tip.max_week,
        tip.theme,
        tip.text,
    )
    row.content_hash = digest
    row.version += 1
    row.updated_at = row.edited_at = moment
    record_version(session, row, source="admin", author=actor.name)
    actor.audit(
        session, "sms_service.tips.edit", row, version=row.version, previous_version=previous
    )
    session.flush()
    return row


def add_tip(
    session: Session,
    *,
    draft: TipDraft,
    library: Library,
    actor: Actor,
    replaces: str | None = None,
    now: datetime | None = None,
) -> TipRow:
    """A new tip, version 1, optionally retiring the tip it `replaces` in the same step (in a
    library where every week is needed, adding or retiring alone would fail the checker);
    refused on a checker error (an id taken or malformed too)."""
    check = check_draft(session, draft, library=library, adding=True, replaces=replaces)
    _refuse_errors(check)
    tip = draft.as_tip()
    moment = now or utcnow()
    if replaces is not None:
        old = get_tip(session, replaces)
        if old.language != tip.language:
            raise TipRefused("a tip can only replace a tip of its own language")
        if old.retired_at is None:
            old.retired_at = old.edited_at = moment
            actor.audit(session, "sms_service.tips.retire", old, version=old.version, by=tip.id)
    row = TipRow(
        id=tip.id,
        language=tip.language,
        min_week=tip.min_week,
        max_week=tip.max_week,
        theme=tip.theme,
        text=tip.text,
        version=1,
        content_hash=content_hash(tip),
        safety_reviewed=[],
        source_file=_nearest_file(session, tip),
        retired_at=None,
        updated_at=moment,
        edited_at=moment,
    )
    session.add(row)
    record_version(session, row, source="admin", author=actor.name)
    actor.audit(session, "sms_service.tips.add", row, version=1, replaces=replaces)
    session.flush()
    return row


def _nearest_file(session: Session, tip: Tip) -> str | None:
    """The tip file of the same language whose tip starts nearest in age (export puts it there)."""
    query = (
        select(TipRow.source_file)
        .where(TipRow.language == tip.language, TipRow.source_file.is_not(None))
        .order_by(func.abs(TipRow.min_week - tip.min_week), TipRow.id)
        .limit(1)
    )
    return session.scalars(query).first()


def retire_tip(
    session: Session, *, tip_id: str, actor: Actor, now: datetime | None = None
) -> TipRow:
    """Stop planning the tip for anyone (it stays for the texts that name it); refused when
    some child would be left without a tip for a week (add the replacement first)."""
    row = get_tip(session, tip_id)
    if row.retired_at is None:
        gaps = retirement_gaps(as_tip(row), live=live_tips(session, row.language))
        if gaps:
            check = TipCheck([("weeks", gap) for gap in gaps], [], analyze(row.text))
            raise TipRefused(
                "retiring it would leave children without a tip; add its replacement first",
                check,
            )
        row.retired_at = row.edited_at = now or utcnow()
        actor.audit(session, "sms_service.tips.retire", row, version=row.version)
        session.flush()
    return row


def restore_tip(
    session: Session, *, tip_id: str, library: Library, actor: Actor, now: datetime | None = None
) -> TipRow:
    """Plan a retired tip again; refused when it now fails the checker among the live tips."""
    row = get_tip(session, tip_id)
    if row.retired_at is None:
        return row
    tip = as_tip(row)
    draft = TipDraft(row.id, row.language, row.min_week, row.max_week, row.theme, row.text)
    check = check_tip(
        draft.as_tip(tip.reviews),
        others=live_tips(session, row.language),
        themes=library.themes,
    )
    _refuse_errors(check)
    row.retired_at = None
    row.edited_at = now or utcnow()
    actor.audit(session, "sms_service.tips.restore", row, version=row.version)
    session.flush()
    return row


@dataclass(frozen=True)
class VersionSends:
    """One version of a tip and how many families were sent it."""

    version: TipVersion | None  # None: a version from before versions were kept
    number: int
    families: int
    texts: int


def version_history(session: Session, tip_id: str) -> list[VersionSends]:
    """Every version of the tip, newest first, with the families and texts sent each."""
    sends = session.execute(
        select(
            OutboundMessage.tip_version,
            func.count(func.distinct(OutboundMessage.caregiver_id)),
            func.count(),
        )
        .where(OutboundMessage.tip_id == tip_id, OutboundMessage.state.in_(SENT_STATES))
        .group_by(OutboundMessage.tip_version)
    ).all()
    counts = {number: (families, texts) for number, families, texts in sends if number}
    versions = {
        v.version: v for v in session.scalars(select(TipVersion).where(TipVersion.tip_id == tip_id))
    }
    numbers = sorted(set(versions) | set(counts), reverse=True)
    return [VersionSends(versions.get(n), n, *counts.get(n, (0, 0))) for n in numbers]
