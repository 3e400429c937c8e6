"""`GET /metrics`: the series move by what the service did, the token guards them, and the
values of several processes (multiprocess mode) add up in one scrape."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from jobs.planner import plan
from jobs.ratelimit import SharedPacer
from jobs.scheduler import ActiveScheduler
from sms_service.core.db import transaction
from sms_service.core.errors import ConfigError
from sms_service.core.models import OutboundMessage
from sms_service.core.settings import Settings
from sms_service.web.app import create_app
from tests.fakes.twilio_server import FakeTwilio, Fault
from tests.helpers.settings import TEST_AUTH_TOKEN, TEST_PUBLIC_BASE_URL, make_settings
from tests.helpers.texting import Phone, new_sid
from tests.helpers.twilio_signing import twilio_signature
from tests.jobs.factories import add_caregiver, tip_library
from tests.jobs.outbox import add_message, add_recipient, dispatch

TOKEN = "metrics-token-0123456789abcdef-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, SMS_TIPS_METRICS_TOKEN=TOKEN, SMS_TIPS_SEND_RATE="1000")


def scrape(client: TestClient) -> Samples:
    response = client.get("/metrics", headers=BEARER)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def grew(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def post_status(client: TestClient, sid: str, status: str) -> None:
    fields = {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC" + "0" * 32}
    url = TEST_PUBLIC_BASE_URL + "/sms/status"
    signature = twilio_signature(url, fields, TEST_AUTH_TOKEN)
    response = client.post("/sms/status", data=fields, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200


def test_metrics_count_inbound_texts_sends_errors_reports_and_planning(
    client: TestClient,
    engine: Engine,
    sessions: sessionmaker[Session],
    settings: Settings,
    fake_twilio: FakeTwilio,
) -> None:
    before = scrape(client)

    # Two texts in: an enrollment keyword (answered) and HELP (answered).
    phone = Phone(client, "+12125550177")
    assert phone.text("JOIN") is not None
    assert phone.text("HELP") is not None
    # One delivery report, for a SID not stored yet (kept for later: still counted).
    post_status(client, new_sid(), "delivered")
    post_status(client, new_sid(), "no-such-status")
    # Two tips sent through the fake Twilio, one refused.
    with transaction(sessions) as session:
        people = [add_recipient(session) for _ in range(3)]
        for person in people:
            add_message(session, person)
        refused = people[2].phone
    fake_twilio.add_fault(Fault(status=400, code=21611, message="queue exceeded"), to=refused)
    dispatch(sessions, settings, fake_twilio)
    # One planner run that plans one tip.
    with transaction(sessions) as session:
        session.add_all(tip_library())
        add_caregiver(session, phone="+12125550102", children=[("Ava", date(2025, 6, 1))])
    monday_evening = datetime(2026, 3, 2, 18, 5, tzinfo=ZoneInfo("America/New_York"))
    assert plan(engine, now=monday_evening, settings=settings).planned == 1

    after = scrape(client)
    assert grew(before, after, "sms_tips_inbound_texts_total", kind="keyword") == 1
    assert grew(before, after, "sms_tips_inbound_texts_total", kind="help") == 1
    assert grew(before, after, "sms_tips_texts_sent_total", kind="reply") == 2
    assert grew(before, after, "sms_tips_texts_sent_total", kind="tip") == 2
    assert grew(before, after, "sms_tips_send_latency_seconds_count") == 2
    assert grew(before, after, "sms_tips_send_latency_seconds_sum") >= 0
    assert grew(before, after, "sms_tips_twilio_errors_total", code="21611") == 1
    assert grew(before, after, "sms_tips_status_callbacks_total", status="delivered") == 1
    assert grew(before, after, "sms_tips_status_callbacks_total", status="other") == 1
    assert grew(before, after, "sms_tips_planner_rows_planned_total", planner="tips") == 1
    assert grew(before, after, "sms_tips_planner_run_seconds_count", planner="tips") == 1
    assert ("sms_tips_scheduler_leader", ()) in after
    # Read from the database at scrape time: the outbox as it is now.
    with sessions() as session:
        states = dict(
            session.execute(
                select(OutboundMessage.state, func.count()).group_by(OutboundMessage.state)
            ).all()
        )
    assert states["sent"] == 4  # 2 replies, 2 tips
    for state, count in states.items():
        assert value(after, "sms_tips_outbox_messages", state=state) == count
    assert value(after, "sms_tips_metrics_database_up") == 1


class FakeClock:
    """Wall-clock time that only moves when the pacer sleeps."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


@sqlite_only
def test_waits_for_the_shared_rate_are_counted(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    before = scrape(client)
    clock = FakeClock()
    start = clock.now
    pacer = SharedPacer(sessions, 10, clock=clock, sleep=clock.sleep)

    async def spend() -> None:
        for _ in range(21):
            await pacer.acquire(1)

    asyncio.run(spend())
    after = scrape(client)
    waited = clock.now - start
    assert waited == pytest.approx(2.0)
    assert grew(before, after, "sms_tips_ratelimit_waits_total") >= 19
    assert grew(before, after, "sms_tips_ratelimit_wait_seconds_total") == pytest.approx(waited)


@sqlite_only
def test_a_429_counts_its_code_and_a_hold(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, fake_twilio: FakeTwilio
) -> None:
    with transaction(sessions) as session:
        add_message(session, add_recipient(session))
    fake_twilio.add_fault(Fault(status=429, code=20429, message="Too Many", retry_after=1))
    before = scrape(client)
    dispatch(sessions, settings, fake_twilio)
    after = scrape(client)
    assert grew(before, after, "sms_tips_twilio_errors_total", code="20429") == 1
    assert grew(before, after, "sms_tips_ratelimit_holds_total") == 1
    assert grew(before, after, "sms_tips_texts_sent_total", kind="tip") == 0


@sqlite_only
def test_the_leading_scheduler_shows_and_the_planner_next_run_comes_from_its_table(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    active = ActiveScheduler(settings, engine)
    active.start()
    try:
        assert active.leading.wait(timeout=10)
        leading = scrape(client)
    finally:
        active.stop()
    stopped = scrape(client)
    assert value(leading, "sms_tips_scheduler_leader") == 1
    assert value(stopped, "sms_tips_scheduler_leader") == 0
    next_run = value(leading, "sms_tips_planner_next_run_timestamp_seconds")
    assert abs(next_run - time.time()) < settings.planner_interval_minutes * 60 + 60


# --- protection -------------------------------------------------------------------------


@sqlite_only
def test_metrics_need_the_bearer_token(client: TestClient) -> None:
    missing = client.get("/metrics")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert "sms_tips" not in missing.text
    assert client.get("/metrics", headers={"Authorization": "Basic abc"}).status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer " + "x" * 40})
    assert wrong.status_code == 403 and "sms_tips" not in wrong.text
    assert client.get("/metrics", headers=BEARER).status_code == 200


@sqlite_only
def test_without_a_token_production_refuses_and_local_serves_loopback_only(
    database_url: str, engine: Engine
) -> None:
    production = make_settings(
        database_url, SMS_TIPS_ENV="production", SMS_TIPS_HELP_CONTACT="help@example.org"
    )
    assert production.metrics_token is None
    app = create_app(production, engine=engine)
    with TestClient(app, client=("127.0.0.1", 40000)) as web:
        assert web.get("/metrics").status_code == 403
    local = make_settings(database_url)
    app = create_app(local, engine=engine)
    with TestClient(app) as web:  # from "testclient", not a loopback address
        assert web.get("/metrics").status_code == 403
    for address in ("127.0.0.1", "::1"):
        with TestClient(app, client=(address, 40000)) as web:
            response = web.get("/metrics")
            assert response.status_code == 200
            assert "sms_tips_metrics_database_up 1.0" in response.text


@pytest.mark.parametrize(
    ("variable", "raw"),
    [
        ("SMS_TIPS_METRICS_TOKEN", "too-short"),
        ("SMS_TIPS_METRICS_TOKEN", "has spaces in it and is long enough to pass"),
        ("SMS_TIPS_LOG_FORMAT", "xml"),
        ("PROMETHEUS_MULTIPROC_DIR", "/no/such/directory"),
    ],
)
def test_bad_observability_settings_name_their_variable(variable: str, raw: str) -> None:
    with pytest.raises(ConfigError) as raised:
        make_settings("sqlite:///x.db", **{variable: raw})
    assert raised.value.variable == variable
    assert raw not in str(raised.value) or variable == "PROMETHEUS_MULTIPROC_DIR"


def test_logs_are_json_in_production_text_locally_and_the_token_is_kept_secret() -> None:
    production = make_settings(
        "postgresql://u@db/x",
        SMS_TIPS_ENV="production",
        SMS_TIPS_HELP_CONTACT="help@example.org",
        SMS_TIPS_METRICS_TOKEN=TOKEN,
    )
    assert production.log_format == "json"
    assert TOKEN not in repr(production) and TOKEN not in repr(production.metrics_token)
    assert make_settings("sqlite:///x.db").log_format == "text"
    assert make_settings("sqlite:///x.db", SMS_TIPS_LOG_FORMAT="JSON").log_format == "json"


# --- multiprocess mode --------------------------------------------------------------------

WRITER = """
import os
import sys
from sms_service.core import metrics
metrics.INBOUND_TEXTS.labels(kind="help").inc(int(sys.argv[1]))
metrics.TEXTS_SENT.labels(kind="tip").inc(int(sys.argv[2]))
metrics.SEND_LATENCY.observe(0.2)
metrics.SCHEDULER_LEADER.set(1)
if sys.argv[3] == "stops":  # a scheduler that stepped down and exited cleanly
    metrics.process_exiting(os.environ["PROMETHEUS_MULTIPROC_DIR"])
"""


@sqlite_only
def test_one_scrape_adds_up_the_values_of_every_process(
    tmp_path: Path, database_url: str, engine: Engine
) -> None:
    directory = tmp_path / "prometheus"
    directory.mkdir()
    environ = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    root = Path(__file__).resolve().parents[2]
    for texts, tips, end in ((2, 5, "stops"), (3, 7, "runs")):
        subprocess.run(
            [sys.executable, "-c", WRITER, str(texts), str(tips), end],
            env=environ,
            cwd=root,
            check=True,
            timeout=60,
        )
    # One file per process, named by host and pid (containers sharing the directory may all
    # run as pid 1).
    counters = sorted(path.name for path in directory.glob("counter_*.db"))
    assert len(counters) == 2
    assert all(re.fullmatch(r"counter_[A-Za-z0-9.-]+-\d+\.db", name) for name in counters)
    settings = make_settings(
        database_url, SMS_TIPS_METRICS_TOKEN=TOKEN, PROMETHEUS_MULTIPROC_DIR=str(directory)
    )
    assert settings.metrics_multiproc_dir == str(directory)
    with TestClient(create_app(settings, engine=engine)) as web:
        samples = scrape(web)
    assert value(samples, "sms_tips_inbound_texts_total", kind="help") == 5
    assert value(samples, "sms_tips_texts_sent_total", kind="tip") == 12
    assert value(samples, "sms_tips_send_latency_seconds_count") == 2
    # The leader gauge of the process that exited cleanly is gone; the other's still counts.
    assert len(list(directory.glob("gauge_livemax_*.db"))) == 1
    assert value(samples, "sms_tips_scheduler_leader") == 1
    assert value(samples, "sms_tips_metrics_database_up") == 1  # the database gauges too
