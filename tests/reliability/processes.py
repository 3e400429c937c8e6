"""The service's own processes (`sms-tips web`, `dispatcher`...) run as subprocesses for a proof."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def sms_tips(
    *args: str, environ: Mapping[str, str], cwd: Path, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """`sms-tips <args>` with exactly `environ` (no .env is read from `cwd`); its output goes
    to `log`. Stopped with SIGTERM on exit, as a supervisor would."""
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "sms_service", *args],
            env={"PATH": os.environ["PATH"], **environ},
            cwd=cwd,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def answers(base: str) -> bool:
    """Whether the server at `base` answers /healthz with 200."""
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def listening(log: Path) -> int:
    """How many of a server's processes have started serving, by uvicorn's line for each in
    its log (several workers start one by one: the first may answer long before the last)."""
    return log.read_text().count("Application startup complete.")


@contextmanager
def web_server(environ: Mapping[str, str], *, cwd: Path) -> Iterator[str]:
    """`sms-tips web` on a free loopback port; yields its base URL once /healthz answers."""
    port = free_port()
    log = cwd / "web.log"
    with sms_tips("web", "--port", str(port), environ=environ, cwd=cwd, log=log) as process:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while not answers(base):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"sms-tips web did not start:\n{log.read_text()}")
            time.sleep(0.1)
        yield base
