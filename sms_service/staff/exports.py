"""CSV exports for staff: caregivers (as the list is filtered), a campaign's per-text results,
the replies of a date range, per-tip results and partners compared.

Each holds only the families of the viewer's scope (a partner's staff get their partner's).

Phone numbers are masked for the staff role and whole for admins only (an opted-out family's
number is left out: no export is a list to text); every export of personal data is audited
(with its filters and whether numbers were whole). Times are in the program's zone, to the
second.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from sms_service.campaigns.authoring import get_campaign
from sms_service.caregivers.records import filtered_caregivers
from sms_service.core.audit import Actor
from sms_service.core.models import Caregiver, OutboundMessage
from sms_service.core.phones import mask
from sms_service.core.scope import Scope
from sms_service.reports.answers import parent_texts
from sms_service.reports.partners import compare_partners
from sms_service.reports.period import Period
from sms_service.reports.tips import tip_results

CAREGIVER_COLUMNS = (
    "id", "phone", "opted_out", "status", "language", "timezone", "region",
    "enrollment_keyword", "enrolled_at", "children", "tags",
)  # fmt: skip
RESULT_COLUMNS = (
    "caregiver_id", "phone", "message", "state", "error_code", "due_at", "sent_at",
    "delivered_at",
)  # fmt: skip
REPLY_COLUMNS = (
    "received_at", "caregiver_id", "phone", "language", "message", "answers",
    "answered_tip", "answered_campaign", "answered_text", "answered_sent_at",
    "counts_as_reply",
)  # fmt: skip
TIP_COLUMNS = ("tip_id", "sent", "answered", "replies", "opt_outs", "reply_rate", "text")
PARTNER_COLUMNS = (
    "partner", "slug", "enrolled_in_range", "active", "texts_sent", "opt_outs",
    "opt_outs_per_100_sent", "replies", "tip_and_campaign_texts_sent", "answered", "reply_rate",
    "delivered", "final_status", "delivery_rate", "survey_answers",
)  # fmt: skip
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?\d+$")
_LOCAL = "%Y-%m-%d %H:%M:%S"


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A cell starting like a formula would run in a spreadsheet (CSV injection); a bare
    # number such as +12125550123 cannot do anything and stays as it is.
    if text.startswith(_FORMULA_START) and not _NUMBER.match(text):
        return "'" + text
    return text


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return buffer.getvalue()


def local_time(value: datetime | None, zone: ZoneInfo) -> str:
    """`value` in the program's zone, to the second ("" for none)."""
    return value.astimezone(zone).strftime(_LOCAL) if value is not None else ""


def _header(columns: Sequence[str], zone: ZoneInfo, times: Sequence[str]) -> list[str]:
    """Time columns say their zone: "sent_at (America/New_York)"."""
    return [f"{name} ({zone.key})" if name in times else name for name in columns]


def shown_phone(phone: str | None, actor: Actor) -> str:
    """The whole number for an admin, masked for everyone else."""
    if not phone:
        return ""
    return phone if actor.is_admin else mask(phone)


def caregivers_csv(
    session: Session,
    *,
    actor: Actor,
    zone: ZoneInfo,
    query: str = "",
    status: str = "",
    language: str = "",
    tag: str = "",
) -> str:
    """The caregivers the list's filters find; an opted-out caregiver is flagged and their
    number left out."""
    filters = {"query": query, "status": status, "language": language, "tag": tag}
    statement = (
        filtered_caregivers(scope=actor.scope, **filters).order_by(None).order_by(Caregiver.id)
    )
    caregivers = list(session.scalars(statement))
    actor.audit(
        session,
        "export.caregivers",
        None,
        filters={name: value for name, value in filters.items() if value},
        rows=len(caregivers),
        whole_numbers=actor.is_admin,
    )

    def lines() -> Iterable[Sequence[object]]:
        for caregiver in caregivers:
            opted_out = caregiver.status == "opted_out"
            yield (
                caregiver.id,
                "" if opted_out else shown_phone(caregiver.phone, actor),
                "yes" if opted_out else "no",
                caregiver.status,
                caregiver.language,
                caregiver.timezone,
                caregiver.region,
                caregiver.enrollment_keyword,
                local_time(caregiver.enrolled_at, zone),
                sum(1 for child in caregiver.children if child.status == "active"),
                " ".join(sorted(t.tag for t in caregiver.tags)),
            )

    return _csv(_header(CAREGIVER_COLUMNS, zone, ("enrolled_at",)), lines())


def campaign_results_csv(
    session: Session, campaign_id: int, *, actor: Actor, zone: ZoneInfo
) -> str:
    """One line per campaign text to a family of the actor's scope: who, which message, and
    what happened to it (a campaign the scope does not see is CampaignNotFound, a 404)."""
    get_campaign(session, campaign_id, scope=actor.scope)
    rows = session.execute(
        select(OutboundMessage, Caregiver.status)
        .join(Caregiver, Caregiver.id == OutboundMessage.caregiver_id)
        .where(OutboundMessage.campaign_id == campaign_id, actor.scope.families())
        .order_by(OutboundMessage.id)
    )
    actor.audit(
        session,
        "export.campaign_results",
        None,
        campaign_id=campaign_id,
        whole_numbers=actor.is_admin,
    )

    def lines() -> Iterable[Sequence[object]]:
        for row, status in rows:
            message_id = row.dedupe_key.split(":")[1]
            yield (
                row.caregiver_id,
                "" if status == "opted_out" else shown_phone(row.to_number, actor),
                message_id,
                row.state,
                row.error_code,
                local_time(row.due_at, zone),
                local_time(row.sent_at, zone),
                local_time(row.delivered_at, zone),
            )

    times = ("due_at", "sent_at", "delivered_at")
    return _csv(_header(RESULT_COLUMNS, zone, times), lines())


def replies_csv(session: Session, *, period: Period, actor: Actor) -> str:
    """The actor's families' own texts received in `period`, each with the text it answers."""
    zone = period.zone
    answers = parent_texts(session, start=period.start, end=period.end, scope=actor.scope)
    families = {
        caregiver.id: caregiver
        for caregiver in session.scalars(
            select(Caregiver).where(Caregiver.id.in_({a.caregiver_id for a in answers}))
        )
    }
    actor.audit(
        session,
        "export.replies",
        None,
        first=period.first.isoformat(),
        last=period.last.isoformat(),
        rows=len(answers),
        whole_numbers=actor.is_admin,
    )

    def lines() -> Iterable[Sequence[object]]:
        for answer in answers:
            family = families.get(answer.caregiver_id)
            yield (
                local_time(answer.at, zone),
                answer.caregiver_id,
                shown_phone(family.phone, actor) if family and family.status != "opted_out" else "",
                family.language if family else "",
                answer.body,
                answer.text_kind or "",
                answer.tip_id or "",
                answer.campaign_id or "",
                answer.text_body,
                local_time(answer.text_sent_at, zone),
                "yes" if answer.answers_tip_or_campaign else "no",
            )

    return _csv(_header(REPLY_COLUMNS, zone, ("received_at", "answered_sent_at")), lines())


def tip_results_csv(session: Session, *, period: Period, scope: Scope) -> str:
    """Each tip sent to `scope`'s families in `period` with its replies and opt-outs (no
    personal data)."""

    def lines() -> Iterable[Sequence[object]]:
        for result in tip_results(session, period=period, scope=scope):
            yield (
                result.tip_id, result.sent, result.answered, result.replies, result.opt_outs,
                _share(result.reply_rate), result.text,
            )  # fmt: skip

    return _csv(TIP_COLUMNS, lines())


def _share(value: float | None, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if value is not None else ""


def partners_csv(session: Session, *, period: Period) -> str:
    """Each partner's figures of `period`, the network's own families' and the totals (no
    personal data)."""

    def lines() -> Iterable[Sequence[object]]:
        for row in compare_partners(session, period=period).rows:
            yield (
                row.name, row.slug or "", row.enrolled, row.active, row.sent, row.opt_outs,
                _share(row.opt_out_rate, 2), row.replies, row.answerable, row.answered,
                _share(row.reply_rate), row.delivered, row.final, _share(row.delivery_rate),
                row.survey_answers,
            )  # fmt: skip

    return _csv(PARTNER_COLUMNS, lines())
