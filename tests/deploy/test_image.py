"""The deploy image, built from deploy/Dockerfile and run: non-root, no build tools, serving.

Runs where the machine has podman (`apt-get install podman runc debootstrap`), as
`pytest -m image` (scripts/test runs it last; it is skipped elsewhere). Machines without a
container registry build the base image themselves from Debian packages (debootstrap, with
the machine's own CA bundle so pip reaches the package index the machine uses) and pass it as
the Dockerfile's PYTHON_IMAGE; anywhere else the Dockerfile's default python:3.12-slim is used.

The image then migrates a scratch PostgreSQL database with `sms-tips db upgrade`, serves
`sms-tips web` beside a `sms-tips scheduler`, and answers /healthz and /readyz from inside the
container, as compose would run it.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from tests.conftest import PG_SERVER_URL
from tests.helpers.ci import unavailable

pytestmark = pytest.mark.image

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "localhost/sms-tips:test"
LOCAL_BASE = "localhost/sms-tips-base:bookworm"
BASE_PACKAGES = "python3,python3-venv,python-is-python3,ca-certificates"
# How long `sms-tips web` may take to answer after its container starts.
START_SECONDS = 60


def _podman(
    *args: str, check: bool = True, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", *args], capture_output=True, text=True, check=check, timeout=timeout
    )


def _run_options() -> list[str]:
    """`podman run` options that also work in a sandbox without CAP_SYS_RESOURCE or cgroup v2.

    podman asks the runtime to raise open files and processes above the caller's limits, which
    needs CAP_SYS_RESOURCE; asking for the caller's own limits works everywhere. crun refuses
    hybrid cgroup hierarchies, runc does not.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    options = ["--network=host", f"--ulimit=nofile={soft}:{hard}", "--ulimit=nproc=4096:4096"]
    if shutil.which("runc"):
        options.insert(0, "--runtime=runc")
    return options


def _registry_reachable() -> bool:
    return _podman("pull", "-q", "docker.io/library/python:3.12-slim", check=False).returncode == 0


def _local_base() -> str:
    """A Debian bookworm image with Python, made here from Debian packages (once per machine)."""
    if _podman("image", "exists", LOCAL_BASE, check=False).returncode == 0:
        return LOCAL_BASE
    if shutil.which("debootstrap") is None or os.geteuid() != 0:
        pytest.skip("no registry to pull python:3.12-slim from, and no debootstrap as root")
    with tempfile.TemporaryDirectory(prefix="sms-tips-rootfs-") as rootfs:
        subprocess.run(
            ["debootstrap", "--variant=minbase", f"--include={BASE_PACKAGES}", "bookworm", rootfs],
            check=True,
            capture_output=True,
            timeout=900,
        )
        # The machine's trust store and resolver: pip in the build reaches the same index.
        shutil.copy("/etc/ssl/certs/ca-certificates.crt", f"{rootfs}/etc/ssl/certs/")
        shutil.copy("/etc/resolv.conf", f"{rootfs}/etc/resolv.conf")
        tar = subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
        subprocess.run(
            ["podman", "import", "-", LOCAL_BASE],
            stdin=tar.stdout,
            check=True,
            capture_output=True,
            timeout=600,
        )
        tar.wait()
    return LOCAL_BASE


@pytest.fixture(scope="module")
def image() -> str:
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed (apt-get install podman runc debootstrap)")
    build = ["build", "--format=docker", "--isolation=chroot", "-f", "deploy/Dockerfile"]
    if not _registry_reachable():
        build.append(f"--build-arg=PYTHON_IMAGE={_local_base()}")
    result = subprocess.run(
        ["podman", *build, "-t", IMAGE, "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return IMAGE


@pytest.fixture
def database_url() -> Iterator[str]:
    name = f"sms_tips_image_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        admin.dispose()
        unavailable(f"PostgreSQL is not reachable: {error.orig}", ci_must="run the image on it")
    try:
        yield make_url(PG_SERVER_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_image_runs_as_a_non_root_user_with_a_healthcheck_and_no_build_tools(image: str) -> None:
    found = json.loads(_podman("image", "inspect", image).stdout)[0]
    config = found["Config"]
    assert config["User"] == "10001:10001"
    assert "/healthz" in " ".join(found["Healthcheck"]["Test"])
    assert config["Cmd"][:2] == ["sms-tips", "web"]
    tools = _podman(
        "run",
        "--rm",
        *_run_options(),
        image,
        "sh",
        "-c",
        "command -v gcc cc make apt-get pip3",
        check=False,
    )
    # Only the Debian base's own apt-get may be found; no compiler, no make, no system pip.
    assert "gcc" not in tools.stdout and "make" not in tools.stdout, tools.stdout
    who = _podman("run", "--rm", *_run_options(), image, "id", "-u").stdout.strip()
    assert who == "10001"


def test_image_migrates_and_serves_healthz_and_readyz(image: str, database_url: str) -> None:
    port = _free_port()
    env = [
        f"--env=DATABASE_URL={database_url}",
        "--env=SMS_TIPS_SCHEDULER_TAKEOVER_SECONDS=1",
    ]
    migrated = _podman("run", "--rm", *_run_options(), *env, image, "sms-tips", "db", "upgrade")
    assert migrated.returncode == 0, migrated.stderr
    names = [f"sms-tips-web-{port}", f"sms-tips-scheduler-{port}"]
    try:
        _podman(
            "run",
            "-d",
            f"--name={names[0]}",
            *_run_options(),
            *env,
            image,
            "sms-tips",
            "web",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        )
        _podman(
            "run", "-d", f"--name={names[1]}", *_run_options(), *env, image, "sms-tips", "scheduler"
        )
        deadline = time.monotonic() + START_SECONDS
        ready: tuple[int, dict[str, object]] = (0, {})
        while time.monotonic() < deadline:
            try:
                ready = _get(f"http://127.0.0.1:{port}/readyz")
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                ready = (0, {})
            if ready[0] == 200:
                break
            time.sleep(0.5)
        assert ready[0] == 200, (ready, _podman("logs", names[0], check=False).stderr[-2000:])
        assert _get(f"http://127.0.0.1:{port}/healthz")[0] == 200
    finally:
        for name in names:
            _podman("rm", "-f", "-t", "5", name, check=False)
