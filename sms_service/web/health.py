"""Liveness: `/healthz` answers 200 while the database answers, 503 when it does not."""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sms_service.web.context import in_read_transaction

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


routes = [Route("/healthz", healthz, methods=["GET"])]
