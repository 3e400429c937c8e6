"""The inbound benchmark's two baselines, served on the same uvicorn as `sms-tips web`.

    python -m benchmarks.inbound_baselines minimal --port 8001   # DATABASE_URL etc. from env
    python -m benchmarks.inbound_baselines minimal --port 8001 --workers 2
    python -m benchmarks.inbound_baselines bare --port 8002

`minimal`: the Twilio signature check (the service's own) and one insert of the text, then
the TwiML answer. `bare`: a Starlette endpoint returning that TwiML and nothing else.
"""

from __future__ import annotations

import argparse

import uvicorn
from sqlalchemy import insert
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from sms_service.cli.server import uvicorn_options
from sms_service.core.db import build_engine, build_sessionmaker
from sms_service.core.logsetup import configure_logging
from sms_service.core.models import InboundMessage, utcnow
from sms_service.core.settings import INBOUND_PATH, Settings
from sms_service.web.context import AppContext, in_transaction
from sms_service.web.sms_inbound import twiml
from sms_service.web.twilio_signature import ForbiddenWebhook, verified_form

# The answer both baselines give: as long as a typical reply of the full handler.
REPLY = "Thanks for your message! We read every one and will reply soon."


def minimal_from_env() -> Starlette:
    """The minimal app of one of several worker processes (uvicorn calls it in each)."""
    return minimal_app(_settings())


def _settings() -> Settings:
    """The settings, with logging as `sms-tips web` sets it up: the benchmark reads each
    worker's "Application startup complete." to know they all listen."""
    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    return settings


def minimal_app(settings: Settings) -> Starlette:
    """Signature check plus one insert: the floor of any handler that stores what it gets."""
    engine = build_engine(settings.database_url)
    context = AppContext(settings=settings, sessions=build_sessionmaker(engine))

    def store(session: Session, sid: str, sender: str, body: str) -> None:
        session.execute(
            insert(InboundMessage).values(
                message_sid=sid, from_number=sender, body=body, received_at=utcnow()
            )
        )

    async def inbound(request: Request) -> Response:
        try:
            form = await verified_form(request, settings)
        except ForbiddenWebhook:
            return PlainTextResponse("Forbidden", status_code=403)
        sid, sender, body = (str(form.get(name, "")) for name in ("MessageSid", "From", "Body"))
        await in_transaction(context, store, sid, sender, body)
        return twiml(REPLY)

    return Starlette(routes=[Route(INBOUND_PATH, inbound, methods=["POST"]), _health()])


def bare_app() -> Starlette:
    """The same TwiML from a bare endpoint: the ceiling of the server itself."""
    answer = twiml(REPLY).body

    async def inbound(request: Request) -> Response:
        return Response(answer, media_type="application/xml")

    return Starlette(routes=[Route(INBOUND_PATH, inbound, methods=["POST"]), _health()])


def _health() -> Route:
    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    return Route("/healthz", healthz)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["minimal", "bare"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1, help="processes, as `sms-tips web`")
    args = parser.parse_args()
    settings = _settings()
    options = uvicorn_options(settings, host="127.0.0.1", port=args.port)
    if args.workers > 1:
        if args.kind == "bare":
            parser.error("--workers: the bare endpoint is the ceiling of one process")
        factory = "benchmarks.inbound_baselines:minimal_from_env"  # run as __main__ here
        uvicorn.run(factory, factory=True, workers=args.workers, **options)
    else:
        uvicorn.run(minimal_app(settings) if args.kind == "minimal" else bare_app(), **options)


if __name__ == "__main__":
    main()
