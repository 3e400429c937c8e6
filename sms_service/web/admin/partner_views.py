"""Partners' results for the network's staff: every partner compared (page and CSV), and one
partner's dashboard."""

from __future__ import annotations

from urllib.parse import urlencode

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sms_service.core.scope import Scope
from sms_service.partners.records import visible_partner
from sms_service.reports.partners import compare_partners
from sms_service.reports.period import PRESETS
from sms_service.staff.exports import partners_csv
from sms_service.web.admin.dashboard_views import csv_response, show_dashboard
from sms_service.web.admin.support import requested_period
from sms_service.web.admin.templating import render
from sms_service.web.context import in_read_transaction
from sms_service.web.guards import require_network_staff


async def partners_page(request: Request) -> Response:
    require_network_staff(request)  # it compares every partner's families
    period, refused = requested_period(request)
    comparison = await in_read_transaction(request, compare_partners, period=period)
    return render(
        request,
        "partners.html",
        status_code=400 if refused else 200,
        comparison=comparison,
        period=period,
        refused=refused,
        presets=PRESETS,
        asked=request.query_params,
        here="/admin/partners",
        range_query=urlencode(period.query()),
    )


async def partner_dashboard(request: Request) -> Response:
    """One partner's dashboard, named by slug (or id), for the network's staff."""
    scope = require_network_staff(request).scope
    key: str = request.path_params["slug"]

    def find(session: Session) -> tuple[int, str]:
        partner = visible_partner(session, key, scope=scope)  # 404 for none
        return partner.id, partner.slug

    partner_id, slug = await in_read_transaction(request, find)
    return await show_dashboard(request, Scope(partner_id), here=f"/admin/partners/{slug}")


async def export_partners(request: Request) -> Response:
    require_network_staff(request)
    period, refused = requested_period(request)
    if refused:
        return Response(refused, status_code=400, media_type="text/plain; charset=utf-8")
    content = await in_read_transaction(request, partners_csv, period=period)
    return csv_response(content, f"partners-{period.first}-to-{period.last}.csv")


routes = [
    Route("/partners", partners_page, methods=["GET"]),
    Route("/partners/{slug}", partner_dashboard, methods=["GET"]),
    Route("/export/partners.csv", export_partners, methods=["GET"]),
]
