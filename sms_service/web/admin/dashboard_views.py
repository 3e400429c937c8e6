"""The dashboard, the audit log and the CSV exports."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jobs.scheduler import planner_next_run
from sms_service.core.models import AuditLog, utcnow
from sms_service.staff.exports import campaign_results_csv, caregivers_csv
from sms_service.staff.reports import ProgramStats, SchedulerStatus, program_stats, scheduler_status
from sms_service.web.admin.charts import bar_chart
from sms_service.web.admin.forms import query_number
from sms_service.web.admin.support import take_flash
from sms_service.web.admin.templating import render
from sms_service.web.context import app_context, in_read_transaction, in_transaction
from sms_service.web.guards import current_staff

AUDIT_PAGE = 100


async def dashboard(request: Request) -> Response:
    settings = app_context(request).settings
    zone, now = settings.zone, utcnow()

    def work(session: Session) -> tuple[ProgramStats, SchedulerStatus]:
        interval = timedelta(minutes=settings.planner_interval_minutes)
        status = scheduler_status(planner_next_run(session), now=now, interval=interval)
        return program_stats(session, now=now, zone=zone), status

    stats, scheduler = await in_read_transaction(request, work)
    enrollments = bar_chart(
        [(week.strftime("%b %d"), count) for week, count in stats.enrollments_per_week],
        title="Enrollments per week",
    )
    funnel = bar_chart(stats.funnel, title="Delivery funnel, last 30 days", color="#3b82f6")
    return render(
        request,
        "dashboard.html",
        stats=stats,
        scheduler=scheduler,
        zone=zone,
        enrollments_chart=enrollments,
        funnel_chart=funnel,
        **take_flash(request),
    )


async def audit_log(request: Request) -> Response:
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
    # Exports are GETs that write: each one is audited.
    content = await in_transaction(request, caregivers_csv, actor=actor)
    return _csv(content, "caregivers.csv")


async def export_campaign(request: Request) -> Response:
    campaign_id: int = request.path_params["campaign_id"]
    actor = current_staff(request).actor

    content = await in_transaction(request, campaign_results_csv, campaign_id, actor=actor)
    return _csv(content, f"campaign-{campaign_id}-results.csv")


routes = [
    Route("/", dashboard, methods=["GET"]),
    Route("/audit", audit_log, methods=["GET"]),
    Route("/export/caregivers.csv", export_caregivers, methods=["GET"]),
    Route("/campaigns/{campaign_id:int}/results.csv", export_campaign, methods=["GET"]),
]
