"""`GET /metrics`: the Prometheus exposition of the service (metric names: core/metrics.py).

Protected: with SMS_TIPS_METRICS_TOKEN set, only `Authorization: Bearer <token>` is served
(401 without it, 403 with a wrong one); without it, production refuses every scrape (403) and
a local service answers loopback clients only. The token is never logged."""

from __future__ import annotations

import hmac
import ipaddress
import logging

from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from jobs.scheduler import planner_next_run
from sms_service.core import metrics
from sms_service.core.models import OutboundMessage
from sms_service.core.settings import Settings
from sms_service.web.context import app_context, in_read_transaction

logger = logging.getLogger(__name__)

METRICS_PATH = "/metrics"


def read_database_metrics(session: Session) -> metrics.DatabaseMetrics:
    """The outbox by state (one GROUP BY on the state index) and the planner's next run."""
    counts = session.execute(
        select(OutboundMessage.state, func.count()).group_by(OutboundMessage.state)
    ).all()
    next_run = planner_next_run(session)
    return metrics.DatabaseMetrics(
        reachable=True,
        outbox={state: count for state, count in counts},
        planner_next_run=next_run.timestamp() if next_run is not None else None,
    )


def refusal(request: Request, settings: Settings) -> Response | None:
    """Why this scrape may not be answered, as the response to give; None when it may."""
    token = settings.metrics_token
    if token is not None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return PlainTextResponse(
                "metrics need a bearer token",
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        if not hmac.compare_digest(given.strip().encode(), str(token).encode()):
            return PlainTextResponse("wrong metrics token", status_code=403)
        return None
    if settings.is_production:
        return PlainTextResponse("set SMS_TIPS_METRICS_TOKEN to serve metrics", status_code=403)
    if not _is_loopback(request.client.host if request.client else None):
        return PlainTextResponse("metrics without a token: loopback only", status_code=403)
    return None


def _is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def metrics_endpoint(request: Request) -> Response:
    settings = app_context(request).settings
    refused = refusal(request, settings)
    if refused is not None:
        return refused
    try:
        found = await in_read_transaction(request, read_database_metrics)
    except SQLAlchemyError as error:
        logger.warning("metrics: database unreachable: %s", type(error).__name__)
        found = metrics.DatabaseMetrics(reachable=False)
    body = await run_in_threadpool(
        metrics.render, found, multiproc_dir=settings.metrics_multiproc_dir
    )
    return Response(body, media_type=CONTENT_TYPE_LATEST)


routes = [Route(METRICS_PATH, metrics_endpoint, methods=["GET"])]
