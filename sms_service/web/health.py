"""Liveness and readiness: `/healthz` answers 200 while the database answers; `/readyz` also
needs the schema at the latest revision and a scheduler leading (503 with what is wrong)."""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from jobs.readiness import readiness_checks
from sms_service.core.models import utcnow
from sms_service.web.context import app_context, in_read_transaction

logger = logging.getLogger(__name__)


def _ping(session: Session) -> None:
    session.execute(text("SELECT 1"))


async def healthz(request: Request) -> JSONResponse:
    try:
        await in_read_transaction(request, _ping)
    except SQLAlchemyError as error:
        logger.error("health check: database unreachable: %s", type(error).__name__)
        return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


async def readyz(request: Request) -> JSONResponse:
    settings = app_context(request).settings
    try:
        checks = await in_read_transaction(request, readiness_checks, settings, now=utcnow())
    except SQLAlchemyError as error:
        logger.error("readiness check: database unreachable: %s", type(error).__name__)
        found = {"database": {"ok": False, "detail": "unreachable"}}
        return JSONResponse({"status": "not ready", "checks": found}, status_code=503)
    ready = all(check.ok for check in checks)
    return JSONResponse(
        {
            "status": "ready" if ready else "not ready",
            "checks": {check.name: {"ok": check.ok, "detail": check.detail} for check in checks},
        },
        status_code=200 if ready else 503,
    )


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
]
