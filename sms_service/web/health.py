"""Liveness: `/healthz` answers 200 while the database answers, 503 when it does not."""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sms_service.core.db import ping
from sms_service.web.context import app_context

logger = logging.getLogger(__name__)


async def healthz(request: Request) -> JSONResponse:
    engine = app_context(request).engine
    try:
        await run_in_threadpool(ping, engine)
    except SQLAlchemyError as error:
        logger.error("health check: database unreachable: %s", type(error).__name__)
        return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


routes = [Route("/healthz", healthz, methods=["GET"])]
