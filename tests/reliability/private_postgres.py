"""A PostgreSQL cluster of one test's own, to stop and start: the shared server stays up."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from sms_service.core.db import build_engine, upgrade
from tests.reliability.processes import free_port


def initdb() -> Path | None:
    """The newest initdb installed, if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]) if found else None


class PrivatePostgres:
    """A cluster in a temporary directory, run as the postgres user on a free loopback port."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="smstips-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/smstips"
        shutil.chown(self.root, "postgres", "postgres")
        self._as_postgres("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-N")

    def _as_postgres(self, program: str, *args: str) -> None:
        command = ["runuser", "-u", "postgres", "--", str(self.bin_dir / program), *args]
        subprocess.run(command, check=True, capture_output=True, cwd=self.root)

    def start(self) -> None:
        """Start the server and wait until it takes connections."""
        # fsync off: the outage is a crash of the server process, not of the machine.
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.root / "server.log")
        self._as_postgres("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def crash(self) -> None:
        """Stop the server the hard way (every connection cut, no shutdown checkpoint)."""
        self._as_postgres("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def create_database(self) -> None:
        """The service's database, migrated to the latest schema."""
        server = self.url.rsplit("/", 1)[0] + "/postgres"
        admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with admin.connect() as connection:
            connection.execute(text("CREATE DATABASE smstips"))
        admin.dispose()
        engine = build_engine(self.url)
        upgrade(engine)
        engine.dispose()

    def remove(self) -> None:
        """Stop the server if it runs and delete the cluster."""
        if (self.data / "postmaster.pid").exists():
            self.crash()
        shutil.rmtree(self.root, ignore_errors=True)


def can_run() -> str | None:
    """Why a private cluster cannot be made here, or None."""
    if initdb() is None:
        return "no PostgreSQL server binaries (initdb) under /usr/lib/postgresql"
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        return "a private PostgreSQL cluster needs root (runuser -u postgres)"
    return None
