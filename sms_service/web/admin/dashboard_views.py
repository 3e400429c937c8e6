"""The dashboard (figures over a date range), the audit log and the CSV exports."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jobs.scheduler import planner_next_run
from sms_service.core.models import AuditLog, utcnow
from sms_service.reports.figures import Report, range_report
from sms_service.reports.period import PRESETS
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


async def dashboard(request: Request) -> Response:
    settings = app_context(request).settings
    zone, now = settings.zone, utcnow()
    period, refused = requested_period(request)

    def work(
        session: Session,
    ) -> tuple[ProgramStats, SchedulerStatus, Report, list[TipResult]]:
        interval = timedelta(minutes=settings.planner_interval_minutes)
        status = scheduler_status(planner_next_run(session), now=now, interval=interval)
        return (
            program_stats(session, now=now, zone=zone),
            status,
            range_report(session, period=period),
            tip_results(session, period=period),
        )

    stats, scheduler, report, tips = await in_read_transaction(request, work)
    return render(
        request,
        "dashboard.html",
        status_code=400 if refused else 200,
        stats=stats,
        scheduler=scheduler,
        zone=zone,
        report=report,
        tips=tips,
        period=period,
        refused=refused,
        presets=PRESETS,
        asked=request.query_params,
        range_query=urlencode(period.query()),
        **_charts(stats, report),
        **take_flash(request),
    )


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


def _csv(content: str, filename: str) -> Response:
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
    return _csv(content, "caregivers.csv")


async def export_campaign(request: Request) -> Response:
    campaign_id: int = request.path_params["campaign_id"]
    actor = current_staff(request).actor
    zone = app_context(request).settings.zone
    content = await in_transaction(
        request, campaign_results_csv, campaign_id, actor=actor, zone=zone
    )
    return _csv(content, f"campaign-{campaign_id}-results.csv")


async def export_replies(request: Request) -> Response:
    period, refused = requested_period(request)
    if refused:
        return Response(refused, status_code=400, media_type="text/plain; charset=utf-8")
    actor = current_staff(request).actor
    content = await in_transaction(request, replies_csv, period=period, actor=actor)
    return _csv(content, f"replies-{period.first}-to-{period.last}.csv")


async def export_tips(request: Request) -> Response:
    period, refused = requested_period(request)
    if refused:
        return Response(refused, status_code=400, media_type="text/plain; charset=utf-8")
    content = await in_read_transaction(request, tip_results_csv, period=period)
    return _csv(content, f"tips-{period.first}-to-{period.last}.csv")


routes = [
    Route("/", dashboard, methods=["GET"]),
    Route("/audit", audit_log, methods=["GET"]),
    Route("/export/caregivers.csv", export_caregivers, methods=["GET"]),
    Route("/export/replies.csv", export_replies, methods=["GET"]),
    Route("/export/tips.csv", export_tips, methods=["GET"]),
    Route("/campaigns/{campaign_id:int}/results.csv", export_campaign, methods=["GET"]),
]
