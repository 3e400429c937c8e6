"""The service's Prometheus metrics: every series is named here once; callers increment.

Web, scheduler and dispatcher are separate processes (and uvicorn may run several web
workers), so with PROMETHEUS_MULTIPROC_DIR set in the environment of every process
prometheus_client writes each process's values to files in that directory and `/metrics`
(web/metrics.py) adds them up. The variable must be in the environment before anything
imports prometheus_client, and the directory emptied when the service (re)starts as a whole.
Without it each process keeps its own values and `/metrics` shows the web process's.

The outbox depth and the planner's next run are read from the database at scrape time
(`database_metrics`), so they are right whichever process serves the scrape.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

PREFIX = "sms_tips"


def process_identifier() -> str:
    """This process in the multiprocess file names: host and pid, so that containers sharing
    one directory (each of whose processes may be pid 1) never write the same file. No "_":
    prometheus_client splits file names on it."""
    host = re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname()) or "host"
    return f"{host}-{os.getpid()}"


if values.ValueClass is not values.MutexValue:  # multiprocess mode (PROMETHEUS_MULTIPROC_DIR)
    # Chosen before any metric below is made: each takes its value class when constructed.
    values.ValueClass = values.MultiProcessValue(process_identifier=process_identifier)  # type: ignore[no-untyped-call]

INBOUND_TEXTS = Counter(
    f"{PREFIX}_inbound_texts",
    "Texts received on the inbound webhook, by how they were handled "
    "(opt_out, help, keyword, answer, reply, command:pause, duplicate...).",
    ["kind"],
)
TEXTS_SENT = Counter(
    f"{PREFIX}_texts_sent",
    "Texts accepted by the provider, by outbox kind (tip, campaign, ...; reply: TwiML answers).",
    ["kind"],
)
SEND_LATENCY = Histogram(
    f"{PREFIX}_send_latency_seconds",
    "Dispatcher: from claiming an outbox row to the provider accepting the text.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0),
)
TWILIO_ERRORS = Counter(
    f"{PREFIX}_twilio_errors",
    "Failed provider calls (retried or refused), by Twilio error code ('none' without one).",
    ["code"],
)
STATUS_CALLBACKS = Counter(
    f"{PREFIX}_status_callbacks",
    "Twilio delivery reports received, by MessageStatus ('other' for an unknown one).",
    ["status"],
)
PLANNER_RUN = Histogram(
    f"{PREFIX}_planner_run_seconds",
    "Duration of one planner run, by planner (tips, campaigns).",
    ["planner"],
    buckets=(0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0),
)
PLANNER_ROWS = Counter(
    f"{PREFIX}_planner_rows_planned",
    "Outbox rows written by the planners, by planner (tips, surveys, campaigns).",
    ["planner"],
)
SCHEDULER_LEADER = Gauge(
    f"{PREFIX}_scheduler_leader",
    "1 while a scheduler process of this host leads (runs the jobs), else 0.",
    multiprocess_mode="livemax",
)
RATELIMIT_WAITS = Counter(
    f"{PREFIX}_ratelimit_waits",
    "Sends that had to wait for the shared send rate (jobs/ratelimit.py).",
)
RATELIMIT_WAIT_SECONDS = Counter(
    f"{PREFIX}_ratelimit_wait_seconds",
    "Total time sends waited for the shared send rate.",
)
RATELIMIT_HOLDS = Counter(
    f"{PREFIX}_ratelimit_holds",
    "Times the provider asked to slow down (Retry-After) and every sender held.",
)

# Read from the database at scrape time (names here so they are defined once too).
OUTBOX_MESSAGES = f"{PREFIX}_outbox_messages"
PLANNER_NEXT_RUN = f"{PREFIX}_planner_next_run_timestamp_seconds"
DATABASE_UP = f"{PREFIX}_metrics_database_up"

# Twilio's documented MessageStatus values; anything else is counted as "other".
KNOWN_STATUSES = frozenset(
    {
        "accepted",
        "scheduled",
        "canceled",
        "queued",
        "sending",
        "sent",
        "failed",
        "delivered",
        "undelivered",
        "receiving",
        "received",
        "read",
        "partially_delivered",
    }
)


def status_label(status: str) -> str:
    """A delivery report's status as a label: one of a known few, so a label stays bounded."""
    return status if status in KNOWN_STATUSES else "other"


def error_code_label(code: object) -> str:
    """A provider error code as a label: digits only (Twilio's are), else 'none' / 'other'."""
    if code is None or code == "":
        return "none"
    text = str(code)
    return text if text.isascii() and text.isdigit() and len(text) <= 6 else "other"


@dataclass(frozen=True)
class DatabaseMetrics(Collector):
    """What the database says at scrape time; `reachable` False when it could not be read."""

    reachable: bool
    outbox: Mapping[str, int] = field(default_factory=dict)
    planner_next_run: float | None = None  # epoch seconds

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(DATABASE_UP, "1 when /metrics could read the database, else 0.")
        up.add_metric([], 1.0 if self.reachable else 0.0)
        yield up
        if not self.reachable:
            return
        depth = GaugeMetricFamily(
            OUTBOX_MESSAGES, "Outbox rows by state, counted at scrape time.", labels=["state"]
        )
        for state, count in sorted(self.outbox.items()):
            depth.add_metric([state], float(count))
        yield depth
        if self.planner_next_run is not None:
            next_run = GaugeMetricFamily(
                PLANNER_NEXT_RUN,
                "When the leading scheduler next plans tips (epoch seconds); "
                "time() above it by more than the interval means no scheduler leads.",
            )
            next_run.add_metric([], self.planner_next_run)
            yield next_run


class _Together(Collector):
    """Several collectors as one, for generate_latest."""

    def __init__(self, collectors: Iterable[Collector]) -> None:
        self._collectors = list(collectors)

    def collect(self) -> Iterator[Metric]:
        for collector in self._collectors:
            yield from collector.collect()


def render(extra: Collector, *, multiproc_dir: str | None) -> bytes:
    """The exposition text: every process's values (the multiprocess directory) or this
    process's, then `extra` (the database gauges)."""
    if multiproc_dir is not None:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=multiproc_dir)  # type: ignore[no-untyped-call]
        base: Collector = registry
    else:
        base = REGISTRY
    return generate_latest(_Together([base, extra]))


def process_exiting(multiproc_dir: str | None) -> None:
    """A process of the service ends: drop its live gauges (the scheduler leader) from the
    multiprocess directory, so a stopped leader no longer counts. A process that dies without
    calling this leaves its last value there until the directory is emptied."""
    if multiproc_dir is not None:
        multiprocess.mark_process_dead(process_identifier(), multiproc_dir)  # type: ignore[no-untyped-call]
