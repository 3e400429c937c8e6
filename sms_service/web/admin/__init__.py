"""The staff admin under /admin: server-rendered pages behind the guards of web.guards."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from sms_service.core.errors import NotFound
from sms_service.core.settings import Settings
from sms_service.web.admin import (
    account_views,
    campaign_views,
    caregiver_views,
    content_views,
    dashboard_views,
    error_pages,
    experiment_views,
    inbox_views,
    invite_views,
    login_views,
    partner_views,
    survey_views,
    tip_views,
)
from sms_service.web.guards import AdminOnly, admin_middleware

STATIC_DIR = Path(__file__).parent / "static"


def mount(settings: Settings) -> Mount:
    """/admin: every admin route, behind the session, sign-in and CSRF guard."""
    return Mount(
        "/admin",
        routes=[
            *login_views.routes,
            *dashboard_views.routes,
            *partner_views.routes,
            *campaign_views.routes,
            *caregiver_views.routes,
            *inbox_views.routes,
            *invite_views.routes,
            *survey_views.routes,
            *content_views.routes,
            *tip_views.routes,
            *experiment_views.routes,
            *account_views.routes,
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="admin-static"),
        ],
        middleware=admin_middleware(
            settings, handlers={AdminOnly: error_pages.admin_only, NotFound: error_pages.not_found}
        ),
    )
