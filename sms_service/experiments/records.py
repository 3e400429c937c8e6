"""Staff start and stop experiments on a tip's wording: checked like tip edits, audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from content.library import Library
from sms_service.core.audit import Actor
from sms_service.core.errors import NotFound
from sms_service.core.models import Experiment, OutboundMessage, TipVersion, utcnow
from sms_service.experiments.assignment import Arm
from sms_service.tips.editing import TipDraft, TipRefused, check_draft, edit_tip, get_tip

MIN_SHARE, MAX_SHARE = 0.05, 0.95  # below 5% one arm would take years to tell anything


class ExperimentRefused(ValueError):
    """The experiment cannot be started or stopped as asked; nothing was written."""


def get_experiment(session: Session, experiment_id: int) -> Experiment:
    """The experiment with this id (NotFound otherwise)."""
    row = session.get(Experiment, experiment_id)
    if row is None:
        raise NotFound(f"no experiment {experiment_id}")
    return row


def list_experiments(session: Session) -> list[Experiment]:
    """Every experiment, running ones first, newest first."""
    query = select(Experiment).order_by(Experiment.status, Experiment.started_at.desc())
    return list(session.scalars(query))


def running_for_tip(session: Session, tip_id: str) -> Experiment | None:
    """The tip's running experiment, if any (a tip has at most one)."""
    query = select(Experiment).where(Experiment.tip_id == tip_id, Experiment.status == "running")
    return session.scalars(query).first()


def families_exposed(session: Session, experiment_id: int) -> int:
    """How many families were planned a text of this experiment (either wording)."""
    query = select(func.count(func.distinct(OutboundMessage.caregiver_id))).where(
        OutboundMessage.experiment_id == experiment_id
    )
    return int(session.scalar(query) or 0)


def wording_a(session: Session, experiment: Experiment) -> str:
    """The tip's own wording the experiment compared against: the tip's text while it runs
    or kept A; once B was kept, the newest version sent as A (the tip's text is B's now)."""
    tip = experiment.tip
    if experiment.kept_arm != "B":
        return tip.text
    sent_as_a = select(func.max(OutboundMessage.tip_version)).where(
        OutboundMessage.experiment_id == experiment.id, OutboundMessage.arm == "A"
    )
    number = session.scalar(sent_as_a) or tip.version - 1
    version = session.get(TipVersion, (tip.id, number))
    return version.text if version is not None else ""


def start_experiment(
    session: Session,
    *,
    tip_id: str,
    wording_b: str,
    share_b: float,
    stop_at: datetime | None,
    target_size: int | None,
    library: Library,
    actor: Actor,
    now: datetime | None = None,
) -> Experiment:
    """Send `wording_b` instead of the tip's own wording to a `share_b` part of families until
    `stop_at` or until `target_size` families were sent the tip; refused when wording B fails
    the checker (the rules of a tip edit), or the tip is retired or already in an experiment."""
    moment = now or utcnow()
    tip = get_tip(session, tip_id)
    if tip.retired_at is not None:
        raise ExperimentRefused("the tip is retired: restore it first")
    if running_for_tip(session, tip_id) is not None:
        raise ExperimentRefused("the tip is already in a running experiment: stop that first")
    if not MIN_SHARE <= share_b <= MAX_SHARE:
        raise ExperimentRefused(
            f"wording B's share must be between {MIN_SHARE:.0%} and {MAX_SHARE:.0%}"
        )
    if stop_at is None and target_size is None:
        raise ExperimentRefused("give a stop date or a number of families")
    if stop_at is not None and stop_at <= moment:
        raise ExperimentRefused("the stop date has passed")
    if target_size is not None and target_size < 2:
        raise ExperimentRefused("the number of families must be at least 2")
    text = " ".join(wording_b.split())
    if text == tip.text:
        raise ExperimentRefused("wording B is the tip's own wording: change it")
    draft = TipDraft(tip.id, tip.language, tip.min_week, tip.max_week, tip.theme, text)
    check = check_draft(session, draft, library=library, coverage=False)
    if check.errors:
        raise TipRefused(f"the checker found {len(check.errors)} error(s) in wording B", check)
    row = Experiment(
        tip_id=tip.id,
        wording_b=text,
        share_b=share_b,
        status="running",
        started_at=moment,
        stop_at=stop_at,
        target_size=target_size,
        created_by_id=actor.staff_user_id,
    )
    session.add(row)
    session.flush()
    actor.audit(
        session,
        "sms_service.experiments.start",
        row,
        tip_id=tip.id,
        tip_version=tip.version,
        share_b=share_b,
        stop_at=stop_at.isoformat() if stop_at else None,
        target_size=target_size,
    )
    return row


def stop_experiment(
    session: Session,
    *,
    experiment_id: int,
    keep: Arm,
    library: Library,
    actor: Actor,
    now: datetime | None = None,
) -> Experiment:
    """Stop assigning wordings; keeping "B" saves wording B as the tip's new version (through
    the tip editor, so the checker runs again), keeping "A" leaves the tip as it is."""
    row = get_experiment(session, experiment_id)
    if row.status != "running":
        raise ExperimentRefused("the experiment is already stopped")
    if keep not in ("A", "B"):
        raise ExperimentRefused("keep wording A or B")
    tip = get_tip(session, row.tip_id)
    version = tip.version
    if keep == "B":
        draft = TipDraft(tip.id, tip.language, tip.min_week, tip.max_week, tip.theme, row.wording_b)
        version = edit_tip(
            session, draft=draft, expected_version=tip.version, library=library, actor=actor
        ).version
    row.status = "stopped"
    row.stopped_at = now or utcnow()
    row.kept_arm = keep
    actor.audit(
        session, "sms_service.experiments.stop", row, kept=keep, tip_id=tip.id, tip_version=version
    )
    session.flush()
    return row
