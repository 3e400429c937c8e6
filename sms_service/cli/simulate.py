"""`sms-tips simulate`: chat with the service from the terminal as a parent's phone would."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from collections.abc import Callable, Iterable

from sms_service.cli.common import CommandError, Subparsers, connect, load_settings
from sms_service.cli.simulator import Simulator, SimulatorError
from sms_service.core.phones import to_e164

DEFAULT_PHONE = "+12125550123"


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="text the service from the terminal (no Twilio account needed)",
        description=(
            "A terminal chat with the service as a parent's phone: each line you type goes "
            "through the same webhook code Twilio calls (signed when Twilio is configured), "
            "using the configured database, and the reply is printed. Tips and campaign texts "
            "sent to this number (e.g. by `sms-tips serve` with the console transport) appear "
            "as they go out. End with Ctrl-D."
        ),
    )
    parser.add_argument(
        "--phone",
        default=DEFAULT_PHONE,
        help=f"the phone number you text from, E.164 (default {DEFAULT_PHONE})",
    )
    parser.add_argument(
        "--poll",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="how often to look for tips sent to this number (default 2)",
    )
    parser.set_defaults(handler=_simulate)


def _simulate(args: argparse.Namespace) -> int:
    phone = to_e164(args.phone)
    if phone is None or not args.phone.strip().startswith("+"):
        raise CommandError(f"{args.phone!r} is not a phone number: use E.164, e.g. +12125550123")
    if args.poll <= 0:
        raise CommandError("--poll must be a positive number of seconds")
    settings = load_settings()
    for name in ("httpx", "httpx2"):  # one line per in-process request drowns the chat
        logging.getLogger(name).setLevel(logging.WARNING)
    engine = connect(settings, migrate=True)
    try:
        with Simulator(settings, engine, phone) as simulator:
            print(
                f"Texting {settings.program_name} as {phone} "
                f"({'signed like Twilio' if settings.twilio_enabled else 'local mode'}). "
                "Type a message and press Enter; Ctrl-D ends.",
                flush=True,
            )
            chat(
                simulator,
                sys.stdin,
                _printer(),
                poll_seconds=args.poll,
                echo=not sys.stdin.isatty(),
            )
    except SimulatorError as error:
        raise CommandError(str(error)) from None
    finally:
        engine.dispose()
    return 0


def _printer() -> Callable[[str], None]:
    lock = threading.Lock()

    def write(line: str) -> None:
        with lock:
            print(line, flush=True)

    return write


def chat(
    simulator: Simulator,
    lines: Iterable[str],
    write: Callable[[str], None],
    *,
    poll_seconds: float,
    echo: bool,
) -> None:
    """Send each line, print the replies; meanwhile print tips as they are sent."""
    stop = threading.Event()

    def show_new() -> None:
        for body in simulator.new_messages():
            write(f"< {body}")

    def poll() -> None:
        while not stop.wait(poll_seconds):
            show_new()

    poller = threading.Thread(target=poll, name="simulate-poll", daemon=True)
    poller.start()
    try:
        for line in lines:
            text = line.rstrip("\r\n")
            if echo:
                write(f"> {text}")
            for reply in simulator.send(text):
                write(f"< {reply}")
    finally:
        stop.set()
        poller.join()
        show_new()
