"""The Starlette application factory: routes, middleware and the lifespan of background services."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from sms_service.core.db import build_engine, build_sessionmaker
from sms_service.core.settings import Settings
from sms_service.web import admin, api, health, metrics, sms_inbound, sms_status
from sms_service.web.context import AppContext, BackgroundService
from sms_service.web.request_id import RequestIdMiddleware

logger = logging.getLogger(__name__)


def build_routes(settings: Settings) -> list[BaseRoute]:
    """Every route the service answers, gathered from the modules that own them; /admin and
    /api are mounted with their guards, the webhooks and /healthz without; /metrics checks
    its own token."""
    return [
        *health.routes,
        *metrics.routes,
        admin.mount(settings),
        *api.routes,
        *sms_status.routes,
        *sms_inbound.routes,
    ]


class _ServiceApp(Starlette):
    """Starlette with the request id outside everything, Starlette's own error handler
    included: a 500 answer carries the id too, and so does the server's traceback line."""

    def build_middleware_stack(self) -> ASGIApp:
        return RequestIdMiddleware(super().build_middleware_stack())


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    background: Sequence[BackgroundService] = (),
) -> Starlette:
    """A ready-to-serve app; `background` services start and stop with it."""
    engine = engine if engine is not None else build_engine(settings.database_url)
    context = AppContext(settings=settings, sessions=build_sessionmaker(engine))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not settings.twilio_enabled:
            logger.warning(
                "Twilio is not configured: webhook signatures are NOT checked and texts go to "
                "the console transport (local mode)"
            )
        if settings.uses_local_secret:
            logger.warning("SECRET_KEY is not set: using the local development key")
        started: list[BackgroundService] = []
        try:
            for service in background:
                await service.start()
                started.append(service)
                logger.info("started %s", service.name)
            yield
        finally:
            for service in reversed(started):
                await service.stop()
                logger.info("stopped %s", service.name)

    app = _ServiceApp(routes=build_routes(settings), lifespan=lifespan)
    app.state.context = context
    return app
