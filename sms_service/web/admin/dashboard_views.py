"""The dashboard (figures over a date range), the audit log and the CSV exports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jobs.scheduler import planner_next_run
from sms_service.core.models import AuditLog, Partner, Survey, utcnow
from sms_service.core.scope import Scope
from sms_service.core.settings import Settings
from sms_service.reports.figures import Report, range_report
from sms_service.reports.period import PRESETS, Period
from sms_service.reports.tips import TipResult, tip_results
from sms_service.staff.exports import (
    campaign_results_csv,
    caregivers_csv,
    replies_csv,
    tip_results_csv,
)
from sms_service.staff.reports import ProgramStats, SchedulerStatus, program_stats, scheduler_status
from sms_service.web.admin.charts import bar_chart
from sms_service.web.admin.forms import caregiver_filters, query_number
from sms_service.web.admin.support import requested_period, take_flash
from sms_service.web.admin.templating import render
from sms_service.web.context import app_context, in_read_transaction, in_transaction
from sms_service.web.guards import current_staff, require_network_staff

AUDIT_PAGE = 100


def _charts(stats: ProgramStats, report: Report) -> dict[str, Any]:
    return {
        "enrollments_chart": bar_chart(
            [(f"{week:%b} {week.day}", count) for week, count in stats.enrollments_per_week],
            title="Enrollments per week",
            series="enrolled",
        ),
        "funnel_chart": bar_chart(
            report.funnel,
            title="Delivery funnel",
            colors=[step for step, _ in report.funnel],
        ),
        "replies_chart": bar_chart(
            [(f"{week.start:%b} {week.start.day}", week.replies) for week in report.weekly],
            title="Replies to tips and campaigns per week",
            series="replies",
        ),
    }


@dataclass(frozen=True)
class Figures:
    """What a dashboard shows for one scope."""

    stats: ProgramStats
    scheduler: SchedulerStatus
    report: Report
    tips: list[TipResult]
    partner: str | None  # the partner's name, for a partner's dashboard
    surveys: bool  # whether any survey exists (its answers are shown then)


def _figures(
    session: Session, *, scope: Scope, period: Period, settings: Settings, now: datetime
) -> Figures:
    interval = timedelta(minutes=settings.planner_interval_minutes)
    partner = session.get(Partner, scope.partner_id) if scope.partner_id is not None else None
    return Figures(
        stats=program_stats(session, now=now, zone=settings.zone, scope=scope),
        scheduler=scheduler_status(planner_next_run(session), now=now, interval=interval),
        report=range_report(session, period=period, scope=scope),
        tips=tip_results(session, period=period, scope=scope),
        partner=partner.name if partner is not None else None,
        surveys=session.scalar(select(Survey.id).limit(1)) is not None,
    )


async def show_dashboard(request: Request, scope: Scope, *, here: str) -> Response:
    """The dashboard of `scope`'s families over the range asked for; `here` is its address
    (the range links ask it again)."""
    settings = app_context(request).settings
    period, refused = requested_period(request)
    figures = await in_read_transaction(
        request, _figures, scope=scope, period=period, settings=settings, now=utcnow()
    )
    return render(
        request,
        "dashboard.html",
        status_code=400 if refused else 200,
        partner=figures.partner,
        surveys=figures.surveys,
        stats=figures.stats,
        scheduler=figures.scheduler,
        zone=settings.zone,
        report=figures.report,
        tips=figures.tips,
        period=period,
        refused=refused,
        presets=PRESETS,
        asked=request.query_params,
        here=here,
        own=scope == current_staff(request).scope,  # the downloads are the viewer's own
        range_query=urlencode(period.query()),
        **_charts(figures.stats, figures.report),
        **take_flash(request),
    )


async def dashboard(request: Request) -> Response:
    return await show_dashboard(request, current_staff(request).scope, here="/admin/")


async def audit_log(request: Request) -> Response:
    require_network_staff(request)  # it names every partner's families and staff
    params = request.query_params
    before = query_number(params.get("before"))

    def work(session: Session) -> list[AuditLog]:
        query = select(AuditLog).order_by(AuditLog.id.desc()).limit(AUDIT_PAGE)
        if before is not None:
            query = query.where(AuditLog.id < before)
        return list(session.scalars(query))

    entries = await in_read_transaction(request, work)
    return render(request, "audit.html", entries=entries, page_size=AUDIT_PAGE)


def csv_response(content: str, filename: str) -> Response:
    """A CSV file to download."""
    return Response(
        content,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
        },
    )


async def export_caregivers(request: Request) -> Response:
    actor = current_staff(request).actor
    zone = app_context(request).settings.zone
    filters = caregiver_filters(request.query_params)
    # Exports are GETs that write: each one is audited.
    content = await in_transaction(request, caregivers_csv, actor=actor, zone=zone, **filters)
    return csv_response(content, "caregivers.csv")


async def export_campaign(request: Request) -> Response:
    campaign_id: int = request.path_params["campaign_id"]
    actor = current_staff(request).actor
    zone = app_context(request).settings.zone
    content = await in_transaction(
        request, campaign_results_csv, campaign_id, actor=actor, zone=zone
    )
    return csv_response(content, f"campaign-{campaign_id}-results.csv")


async def export_replies(request: Request) -> Response:
    period, refused = requested_period(request)
    if refused:
        return Response(refused, status_code=400, media_type="text/plain; charset=utf-8")
    actor = current_staff(request).actor
    content = await in_transaction(request, replies_csv, period=period, actor=actor)
    return csv_response(content, f"replies-{period.first}-to-{period.last}.csv")


async def export_tips(request: Request) -> Response:
    period, refused = requested_period(request)
    if refused:
        return Response(refused, status_code=400, media_type="text/plain; charset=utf-8")
    scope = current_staff(request).scope
    content = await in_read_transaction(request, tip_results_csv, period=period, scope=scope)
    return csv_response(content, f"tips-{period.first}-to-{period.last}.csv")


routes = [
    Route("/", dashboard, methods=["GET"]),
    Route("/audit", audit_log, methods=["GET"]),
    Route("/export/caregivers.csv", export_caregivers, methods=["GET"]),
    Route("/export/replies.csv", export_replies, methods=["GET"]),
    Route("/export/tips.csv", export_tips, methods=["GET"]),
    Route("/campaigns/{campaign_id:int}/results.csv", export_campaign, methods=["GET"]),
]
