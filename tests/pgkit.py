"""A throwaway PostgreSQL server for the warehouse tests, and helpers to read it back.

The server is Debian's `postgresql` package (tests/tools/ensure-postgresql installs it):
`initdb` into a temporary folder and `pg_ctl start` on a free localhost port, with password
authentication so that a wrong password is a real failure. PostgreSQL refuses to run as root, so
as root it runs as `nobody`. When no server can be started the tests fail, saying why.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

USER = "seeknal"
PASSWORD = "Pg-t3st-secret"
INSTALL = "Install it: sudo apt-get install -y postgresql (make test does it when run as root)"


def server_bin() -> Path:
    """The newest server under SEEKNAL_TEST_PG_ROOT (tests/tools/ensure-postgresql's too)."""
    root = os.environ.get("SEEKNAL_TEST_PG_ROOT", "/usr/lib/postgresql")
    for folder in sorted(glob.glob(f"{root}/*/bin"), reverse=True):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    pytest.fail(f"No PostgreSQL server binaries (initdb, pg_ctl) on this machine. {INSTALL}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    bin: Path
    base: Path
    port: int
    prefix: list[str]

    def connect(self, dbname: str = "postgres") -> psycopg.Connection[Any]:
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=USER,
            password=PASSWORD,
            dbname=dbname,
            autocommit=True,
        )

    def stop(self) -> None:
        subprocess.run(
            [*self.prefix, str(self.bin / "pg_ctl"), "-D", str(self.base / "data"), "-m", "fast"]
            + ["stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(self.base, ignore_errors=True)


def start_server() -> PgServer:
    folder = server_bin()
    base = Path(tempfile.mkdtemp(prefix="seeknal-pg-"))
    prefix: list[str] = []
    if os.getuid() == 0:
        os.chown(base, pwd.getpwnam("nobody").pw_uid, -1)
        prefix = ["runuser", "-u", "nobody", "--"]
    (base / "pw").write_text(PASSWORD + "\n")
    os.chmod(base / "pw", 0o644)
    port = free_port()
    steps = [
        [str(folder / "initdb"), "-D", str(base / "data"), "-U", USER, "--pwfile", str(base / "pw")]
        + ["--auth", "scram-sha-256", "-E", "UTF8", "--no-sync"],
        [str(folder / "pg_ctl"), "-D", str(base / "data"), "-l", str(base / "log"), "-w"]
        + ["-o", f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off", "start"],
    ]
    for step in steps:
        proc = subprocess.run([*prefix, *step], capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            log = (base / "log").read_text() if (base / "log").exists() else ""
            shutil.rmtree(base, ignore_errors=True)
            pytest.fail(
                f"Could not start a PostgreSQL server for the tests ({Path(step[0]).name} "
                f"failed): {proc.stdout}{proc.stderr}{log}"
            )
    return PgServer(folder, base, port, prefix)


@dataclass
class PgDb:
    """One database of the test server, fresh for each test."""

    server: PgServer
    name: str

    def execute(self, query: str, params: Any = None) -> None:
        with self.server.connect(self.name) as con:
            con.execute(query, params)

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        with self.server.connect(self.name) as con:
            return list(con.execute(query).fetchall())

    def schemas(self) -> set[str]:
        found = self.rows(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg_%' "
            "AND nspname <> 'information_schema'"
        )
        return {r[0] for r in found}

    def tables(self) -> set[str]:
        found = self.rows(
            "SELECT schemaname || '.' || tablename FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        )
        return {r[0] for r in found}

    def profile(self, connection: str = "wh", password: str = PASSWORD) -> str:
        return (
            f"connections:\n  {connection}:\n    type: postgresql\n    host: 127.0.0.1\n"
            f"    port: {self.server.port}\n    user: {USER}\n    password: {password}\n"
            f"    database: {self.name}\n"
        )
