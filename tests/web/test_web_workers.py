"""`sms-tips web` in several worker processes (SMS_TIPS_WEB_WORKERS): every text handled once,
`/metrics` counting them all whichever worker answered, all of them stopped by one SIGTERM;
and the settings that would make several workers wrong refused at start-up."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, multiprocess
from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from sms_service.core.errors import ConfigError
from sms_service.core.models import InboundMessage
from tests.helpers.settings import make_settings, service_environ
from tests.helpers.texting import replies
from tests.reliability.processes import answers, free_port, listening, sms_tips
from tests.reliability.traffic import INBOUND_PATH, sign, text_form

WORKERS = 2
PHONES = 24
MOST_PHONES = 200


def _workers(pid: int) -> set[int]:
    """The worker processes `pid` started (Linux): multiprocessing's spawned children, not its
    resource tracker."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:  # a thread or a child may end meanwhile
            children = (task / "children").read_text().split()
            found.update(int(c) for c in children if b"spawn_main" in _cmdline(int(c)))
        except FileNotFoundError:
            continue
    return found


def _cmdline(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _inbound_texts(base: str) -> float:
    """The webhook's texts counted by /metrics, over every kind."""
    return _texts_in(text_string_to_metric_families(httpx.get(f"{base}/metrics", timeout=10).text))


def _counted_by(pid: int, metrics_dir: Path, scratch: Path) -> float:
    """The texts one worker counted: its own counter file, read alone."""
    alone = Path(tempfile.mkdtemp(prefix=f"worker-{pid}-", dir=scratch))
    for path in metrics_dir.glob(f"counter_*-{pid}.db"):
        shutil.copy(path, alone / path.name)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(alone))  # type: ignore[no-untyped-call]
    return _texts_in(registry.collect())


def _texts_in(families: Iterable[Metric]) -> float:
    return sum(
        sample.value
        for family in families
        for sample in family.samples
        if sample.name == "sms_tips_inbound_texts_total"
    )


def _join(base: str, number: int) -> list[str]:
    """A new phone's JOIN, on a connection of its own; the reply's text."""
    webhook = sign(
        INBOUND_PATH, text_form(f"+1212555{number:04d}", "JOIN", f"SMworker{number:026d}")
    )
    with httpx.Client(base_url=base, timeout=30) as client:
        response = client.post(webhook.path, content=webhook.content, headers=webhook.headers)
    assert response.status_code == 200, response.text
    return replies(response.text)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_several_workers_answer_every_text_once_and_metrics_count_them_all(
    tmp_path: Path, database_url: str, sessions: sessionmaker[Session]
) -> None:
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    environ = service_environ(
        database_url,
        SMS_TIPS_WEB_WORKERS=str(WORKERS),
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "web.log"
    with sms_tips("web", "--port", str(port), environ=environ, cwd=tmp_path, log=log) as server:
        deadline = time.monotonic() + 60
        while listening(log) < WORKERS or not answers(base):
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        workers = _workers(server.pid)
        assert len(workers) == WORKERS

        def counted() -> list[float]:
            """The texts each worker counted, in its own file."""
            return [_counted_by(pid, metrics_dir, tmp_path) for pid in sorted(workers)]

        # One after another, each on a new connection that either worker may take (texts
        # arriving together are all taken by the first to wake): on until both took some.
        joined: list[list[str]] = []
        while len(joined) < PHONES or not all(counted()):
            assert len(joined) < MOST_PHONES, f"one worker answered all: {counted()}"
            joined.append(_join(base, len(joined)))

        assert all(len(reply) == 1 and "name" in reply[0] for reply in joined)
        with sessions() as session:
            stored = session.scalar(select(func.count()).select_from(InboundMessage))
        assert stored == len(joined)
        assert sum(counted()) == len(joined)
        # A scrape adds up both workers' files, whichever worker answers it.
        assert [_inbound_texts(base) for _ in range(4)] == [len(joined)] * 4

    assert server.returncode is not None
    assert not any(_alive(pid) for pid in workers)  # the SIGTERM stopped every worker


def test_several_workers_need_postgresql_and_a_metrics_directory(tmp_path: Path) -> None:
    postgres = "postgresql://sms_tips@db.internal/sms_tips"
    assert make_settings("sqlite:///sms_tips.db").web_workers == 1  # the default
    assert (
        make_settings(
            postgres, SMS_TIPS_WEB_WORKERS="4", PROMETHEUS_MULTIPROC_DIR=str(tmp_path)
        ).web_workers
        == 4
    )
    refused = [  # on SQLite; without a metrics directory
        ("sqlite:///sms_tips.db", {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}, "SQLite"),
        (postgres, {}, "PROMETHEUS"),
    ]
    for database, extra, problem in refused:
        with pytest.raises(ConfigError, match=f"SMS_TIPS_WEB_WORKERS.*{problem}"):
            make_settings(database, SMS_TIPS_WEB_WORKERS="2", **extra)
    for bad, problem in (("0", "between 1 and 64"), ("65", "between"), ("many", "whole number")):
        with pytest.raises(ConfigError, match=f"SMS_TIPS_WEB_WORKERS.*{problem}"):
            make_settings(
                postgres, SMS_TIPS_WEB_WORKERS=bad, PROMETHEUS_MULTIPROC_DIR=str(tmp_path)
            )


def test_a_refused_worker_count_is_one_line_before_anything_starts(tmp_path: Path) -> None:
    environ = service_environ(f"sqlite:///{tmp_path / 'sms_tips.db'}", SMS_TIPS_WEB_WORKERS="2")
    log = tmp_path / "web.log"
    with sms_tips("web", "--port", str(free_port()), environ=environ, cwd=tmp_path, log=log) as web:
        assert web.wait(timeout=60) == 2
    assert log.read_text().strip().splitlines() == [
        "sms-tips: configuration error: SMS_TIPS_WEB_WORKERS must be 1 on SQLite: "
        "more need PostgreSQL"
    ]
