"""The staff admin under /admin: server-rendered pages, guarded by sms_service.staff.auth."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from sms_service.web.admin import (
    account_views,
    campaign_views,
    caregiver_views,
    content_views,
    dashboard_views,
    login_views,
)

STATIC_DIR = Path(__file__).parent / "static"

routes: list[BaseRoute] = [
    Mount(
        "/admin",
        routes=[
            *login_views.routes,
            *dashboard_views.routes,
            *campaign_views.routes,
            *caregiver_views.routes,
            *content_views.routes,
            *account_views.routes,
            Mount("/static", StaticFiles(directory=STATIC_DIR), name="admin-static"),
        ],
    )
]
