"""Delivery reports: Twilio's message statuses applied to the outbox, never moving backwards.

Twilio reports queued, sending, sent, then delivered / undelivered / failed (with ErrorCode).
Reports can arrive out of order or twice, so each one only moves a row forward:
sent -> delivered | undelivered | failed. A report can also come before the dispatcher has
stored the message's SID (Twilio answers the create call and may report within 0.1 s): it is
kept in early_delivery_report and applied when the SID is written (`apply_early_reports`).
Kept reports whose SID never turns up (a reply, another app on the account) expire.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sms_service.caregivers.lifecycle import mark_undeliverable
from sms_service.core.id_lists import in_texts
from sms_service.core.models import EarlyDeliveryReport, OutboundMessage, utcnow

# Twilio's status -> ours; "queued", "accepted", "sending" mean Twilio has it: our "sent".
_STATES = {
    "accepted": "sent",
    "queued": "sent",
    "sending": "sent",
    "sent": "sent",
    "delivered": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
}
# A report may replace a row in one of these states (and nothing else).
_MAY_REPLACE = {
    "sent": ("sending",),
    "delivered": ("sending", "sent"),
    "undelivered": ("sending", "sent"),
    "failed": ("sending", "sent"),
}
# Delivery errors that say the number itself cannot get texts (not a passing outage):
# 30005 unknown destination handset, 30006 landline or unreachable carrier.
UNDELIVERABLE_ERRORS = frozenset({"30005", "30006"})


def record_status(session: Session, *, sid: str, status: str, error_code: str | None) -> bool:
    """Apply one delivery report to the outbox row with this SID; False when nothing changed."""
    state = _STATES.get(status)
    if state is None:
        return False
    now = utcnow()
    values: dict[str, object] = {"state": state, "updated_at": now}
    if state == "delivered":
        values["delivered_at"] = now
    if state in ("undelivered", "failed") and error_code:
        values["error_code"] = error_code[:20]
    changed = session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.provider_sid == sid,
            OutboundMessage.state.in_(_MAY_REPLACE[state]),
        )
        .values(**values)
        .returning(OutboundMessage.caregiver_id)
    ).scalar_one_or_none()
    if changed is None:
        known = session.scalar(
            select(OutboundMessage.id).where(OutboundMessage.provider_sid == sid)
        )
        if known is None:
            _keep_early(session, sid=sid, status=state, error_code=error_code, now=now)
        return False
    if state == "undelivered" and error_code in UNDELIVERABLE_ERRORS:
        mark_undeliverable(session, changed, error_code=error_code, now=now)
    return True


# How far each of our states has come: an early report only replaces a less advanced one.
_PROGRESS = {"sent": 0, "delivered": 1, "undelivered": 1, "failed": 1}
EARLY_REPORTS_EXPIRE = timedelta(days=2)


def _keep_early(
    session: Session, *, sid: str, status: str, error_code: str | None, now: datetime
) -> None:
    kept = session.get(EarlyDeliveryReport, sid[:64], with_for_update=True)
    if kept is None:
        try:
            with session.begin_nested():
                session.add(
                    EarlyDeliveryReport(
                        provider_sid=sid[:64],
                        status=status,
                        error_code=error_code[:20] if error_code else None,
                        received_at=now,
                    )
                )
            return
        except IntegrityError:  # the same SID's other report got in first
            kept = session.get_one(EarlyDeliveryReport, sid[:64], with_for_update=True)
    if _PROGRESS[status] > _PROGRESS.get(kept.status, 0):
        kept.status, kept.error_code = status, error_code[:20] if error_code else None


# One parameter for the SIDs of a flush (hundreds): an expanding IN made new SQL text each time.
_EARLY_REPORTS = select(EarlyDeliveryReport).where(
    in_texts(EarlyDeliveryReport.provider_sid.expression, "sids")
)


def apply_early_reports(session: Session, sids: list[str], *, now: datetime) -> int:
    """Apply the reports that came before these SIDs were stored; returns how many."""
    session.execute(
        delete(EarlyDeliveryReport).where(
            EarlyDeliveryReport.received_at < now - EARLY_REPORTS_EXPIRE
        )
    )
    if not sids:
        return 0
    reports = session.scalars(_EARLY_REPORTS, {"sids": sids}).all()
    for report in reports:
        if report.status != "sent":
            record_status(
                session,
                sid=report.provider_sid,
                status=report.status,
                error_code=report.error_code,
            )
        session.delete(report)
    return len(reports)
