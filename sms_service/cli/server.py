"""`sms-tips serve` and `sms-tips web`: run the web app under uvicorn."""

from __future__ import annotations

import argparse
import logging
import os
from typing import Any

import uvicorn

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
        description="Run the web app alone. The schema must already be migrated.",
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
    engine = connect(settings, migrate=True)
    app = create_app(settings, engine=engine, background=local_background(settings))
    return _run(args, app, settings)


def _web(args: argparse.Namespace) -> int:
    settings = load_settings()
    return _run(args, create_app(settings, engine=connect(settings)), settings)


def local_background(settings: Settings) -> list[BackgroundService]:
    """The services `serve` runs beside the web app."""
    return [SchedulerService(settings), DispatcherService(settings)]


def _run(args: argparse.Namespace, app: object, settings: Settings) -> int:
    if not 0 < args.port < 65536:
        raise CommandError(f"--port {args.port} is not a TCP port")
    print(f"sms-tips listening on http://{args.host}:{args.port}", flush=True)
    uvicorn.run(app, **uvicorn_options(settings, host=args.host, port=args.port))  # type: ignore[arg-type]
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
