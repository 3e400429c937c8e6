"""`sms-tips serve` and `sms-tips web`: run the web app under uvicorn."""

from __future__ import annotations

import argparse
import logging
import os
from typing import Any

import uvicorn
from starlette.applications import Starlette

from jobs.dispatcher import DispatcherService
from jobs.scheduler import SchedulerService
from sms_service.cli.common import CommandError, Subparsers, connect, load_settings
from sms_service.core.settings import Settings
from sms_service.web.app import create_app
from sms_service.web.context import BackgroundService

logger = logging.getLogger(__name__)


def register(subparsers: Subparsers) -> None:
    serve = subparsers.add_parser(
        "serve",
        help="run everything in one process (local use): web, scheduler and dispatcher",
        description=(
            "Migrate the database, then run the web app, the scheduler and the dispatcher in "
            "one process. Meant for local use and small pilots on SQLite."
        ),
    )
    _add_listen_arguments(serve)
    serve.set_defaults(handler=_serve)
    web = subparsers.add_parser(
        "web",
        help="run only the web app (webhooks, admin, API); production runs several",
        description=(
            "Run the web app alone, in SMS_TIPS_WEB_WORKERS processes (default 1; on "
            "PostgreSQL set it to the number of cores). The schema must already be migrated."
        ),
    )
    _add_listen_arguments(web)
    web.set_defaults(handler=_web)


def _add_listen_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port",
        type=int,
        default=_default_port(),
        help="port to listen on (default: $PORT or 8000)",
    )


def _default_port() -> int:
    raw = os.environ.get("PORT", "8000")
    return int(raw) if raw.isdigit() else 8000


def _serve(args: argparse.Namespace) -> int:
    settings = load_settings()
    if settings.web_workers > 1:
        logger.warning(
            "serve runs in one process: SMS_TIPS_WEB_WORKERS=%d is for sms-tips web",
            settings.web_workers,
        )
    engine = connect(settings, migrate=True)
    app = create_app(settings, engine=engine, background=local_background(settings))
    return _run(args, app, settings)


def _web(args: argparse.Namespace) -> int:
    settings = load_settings()
    if settings.web_workers == 1:
        return _run(args, worker_app(settings), settings)
    # One line now if the database is out of reach, not a traceback from every worker.
    connect(settings).dispose()
    return _run(args, f"{__name__}:worker_app", settings)


def worker_app(settings: Settings | None = None) -> Starlette:
    """The web app of one `sms-tips web` process; uvicorn calls it in each of several workers
    (processes of their own, started afresh: they read the settings again)."""
    settings = settings or load_settings()
    return create_app(settings, engine=connect(settings))


def local_background(settings: Settings) -> list[BackgroundService]:
    """The services `serve` runs beside the web app."""
    return [SchedulerService(settings), DispatcherService(settings)]


def _run(args: argparse.Namespace, app: Starlette | str, settings: Settings) -> int:
    """Serve `app`: the app itself, or the import path of its factory for several workers."""
    if not 0 < args.port < 65536:
        raise CommandError(f"--port {args.port} is not a TCP port")
    options = uvicorn_options(settings, host=args.host, port=args.port)
    if isinstance(app, str):
        options.update(factory=True, workers=settings.web_workers)
    print(f"sms-tips listening on http://{args.host}:{args.port}", flush=True)
    uvicorn.run(app, **options)
    return 0


def uvicorn_options(settings: Settings, *, host: str, port: int) -> dict[str, Any]:
    """How uvicorn serves the app (benchmarks/bench_inbound.py serves its baselines the same).

    httptools and uvloop, not the pure-Python h11 parser and asyncio loop: on the webhook
    they are a large share of each request's CPU. Access logs are off: one line per webhook
    at thousands a second costs more than the handling, and the app logs what it did."""
    return {
        "host": host,
        "port": port,
        "log_config": None,
        "access_log": False,
        "proxy_headers": True,
        "forwarded_allow_ips": list(settings.trusted_proxies),
        "http": "httptools",
        "loop": "uvloop",
    }
