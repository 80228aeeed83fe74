"""A throwaway PostgreSQL cluster from the machine's own binaries.

Used by the test suite, ``fraiseql demo``, the benchmarks and the resilience harness.
Process management is pytest-postgresql's ``PostgreSQLExecutor`` (initdb, pg_ctl
start/stop, waiting for the port); this module adds what it lacks: a temporary directory
removed afterwards, a free loopback port, running the server as the ``postgres`` OS user
when we are root (PostgreSQL refuses to run as root), and a few helpers.

pytest-postgresql and port-for are not needed to *serve* an app, so they are the
``local`` extra (also pulled in by ``chaos`` and ``dev``): ``pip install 'fraiseql[local]'``.
Without them this module still imports; starting a cluster raises ``LocalPostgresError``
saying what to install.

Example::

    with LocalPostgres() as pg:
        print(pg.url)  # postgresql://postgres@127.0.0.1:54213/fraiseql
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

# Settings for a disposable cluster: durability buys nothing in a temp dir.
FAST_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}


class LocalPostgresError(RuntimeError):
    """The throwaway cluster could not be created or started (the message says why)."""


MISSING_EXTRA = (
    "a throwaway PostgreSQL needs the packages pytest-postgresql and port-for, "
    "which are not installed: pip install 'fraiseql[local]' (or '[chaos]')"
)


def _helpers() -> tuple[Any, Any]:
    """``(port_for, PostgreSQLExecutor)``, imported on first use: see the module docstring."""
    try:
        import port_for
        from pytest_postgresql.executors import PostgreSQLExecutor
    except ImportError as exc:
        raise LocalPostgresError(f"{MISSING_EXTRA} ({exc})") from exc
    return port_for, PostgreSQLExecutor


def free_port() -> int:
    """A free TCP port on this machine (port-for's choice, away from well-known ports)."""
    port_for, _ = _helpers()
    return int(port_for.select_random())


def _find_pg_ctl() -> str:
    found = shutil.which("pg_ctl")
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True):
        return str(candidate)
    raise LocalPostgresError(
        "pg_ctl was not found on PATH or under /usr/lib/postgresql/*/bin; "
        "install the PostgreSQL server binaries (Debian: postgresql-15)"
    )


class LocalPostgres:
    """A PostgreSQL cluster in a temporary directory on a free loopback port."""

    def __init__(
        self,
        *,
        dbname: str = "fraiseql",
        host: str = "127.0.0.1",
        port: int | None = None,
        settings: dict[str, str] | None = None,
        pg_ctl: str | None = None,
        os_user: str = "postgres",
    ) -> None:
        self.dbname = dbname
        self.host = host
        _helpers()  # fail here, with the install hint, rather than half-way through start()
        self.port = port or free_port()
        self.settings = {**FAST_SETTINGS, **(settings or {})}
        self._pg_ctl = pg_ctl or _find_pg_ctl()
        self._os_user = os_user
        self._tmp: Path | None = None
        self._executor: Any = None  # pytest_postgresql's PostgreSQLExecutor once started

    @property
    def url(self) -> str:
        return self.url_for(self.dbname)

    def url_for(self, dbname: str) -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/{dbname}"

    @property
    def datadir(self) -> Path:
        if self._tmp is None:
            raise LocalPostgresError("the cluster has not been started")
        return self._tmp / "data"

    @property
    def logfile(self) -> Path:
        if self._tmp is None:
            raise LocalPostgresError("the cluster has not been started")
        return self._tmp / "postgresql.log"

    def start(self) -> LocalPostgres:
        self._tmp = Path(tempfile.mkdtemp(prefix="fraiseql-pg-"))
        executable = self._executable_for_current_user(self._tmp)
        options = " ".join(f"-c {name}={value}" for name, value in self.settings.items())
        _, executor_class = _helpers()
        self._executor = executor_class(
            executable=executable,
            host=self.host,
            port=self.port,
            datadir=str(self._tmp / "data"),
            unixsocketdir=str(self._tmp),
            logfile=str(self._tmp / "postgresql.log"),
            startparams="-w",
            dbname=self.dbname,
            postgres_options=f"-c listen_addresses={self.host} {options}",
            timeout=60,
        )
        try:
            self._executor.start()
        except Exception as exc:
            log = self._tail_log()
            self.stop()
            raise LocalPostgresError(f"PostgreSQL did not start: {exc}\n{log}") from exc
        self._wait_until_accepting()
        self.create_database(self.dbname)
        return self

    def _wait_until_accepting(self, timeout_s: float = 60.0) -> None:
        """The port opens before recovery ends; wait until a session can really start."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with psycopg.connect(self.url_for("postgres"), connect_timeout=2, gssencmode="disable"):
                    return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise LocalPostgresError(f"PostgreSQL never accepted sessions: {exc}") from exc
                time.sleep(0.1)

    def _executable_for_current_user(self, tmp: Path) -> str:
        """pg_ctl itself, or a wrapper running it as ``os_user`` when we are root."""
        if os.geteuid() != 0:
            return self._pg_ctl
        try:
            account = pwd.getpwnam(self._os_user)
        except KeyError:
            raise LocalPostgresError(
                f"running as root, and the OS user {self._os_user!r} does not exist: "
                "PostgreSQL refuses to run as root (create it with `useradd --system postgres`)"
            ) from None
        os.chown(tmp, account.pw_uid, account.pw_gid)
        wrapper = tmp / "pg_ctl"
        runuser = shutil.which("runuser") or "runuser"
        wrapper.write_text(f'#!/bin/sh\nexec {runuser} -u {self._os_user} -- {self._pg_ctl} "$@"\n')
        wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        return str(wrapper)

    def _tail_log(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except (OSError, LocalPostgresError):
            return "(no server log)"

    def stop(self) -> None:
        if self._executor is not None:
            try:
                self._executor.stop()
            except Exception:  # noqa: BLE001 - the directory is removed below regardless
                pass
            self._executor = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def restart(self, mode: str = "fast") -> None:
        """``pg_ctl restart``: every connection is dropped, the data stays."""
        self._pg_ctl_command("restart", "-m", mode, "-w", "-l", str(self.logfile))

    def pg_ctl_stop(self, mode: str = "fast") -> None:
        """Stop the server but keep the data directory, so ``pg_ctl_start`` can resume."""
        self._pg_ctl_command("stop", "-m", mode, "-w")

    def pg_ctl_start(self) -> None:
        options = " ".join(f"-c {k}={v}" for k, v in self.settings.items())
        self._pg_ctl_command(
            "start", "-w", "-l", str(self.logfile),
            "-o", f"-F -p {self.port} -c listen_addresses={self.host} "
            f"-c unix_socket_directories={self.datadir.parent} {options}",
        )

    def _pg_ctl_command(self, *args: str) -> None:
        if self._tmp is None:
            raise LocalPostgresError("the cluster has not been started")
        executable = self._executable_for_current_user(self._tmp)
        # The server started by pg_ctl inherits its stdout/stderr: never a pipe we wait
        # on (that read would last as long as the server), always a file.
        with open(self._tmp / "pg_ctl.out", "ab") as output:
            completed = subprocess.run(
                [executable, *args, "-D", str(self.datadir)],
                stdout=output, stderr=output, stdin=subprocess.DEVNULL, timeout=120,
            )
        if completed.returncode != 0:
            raise LocalPostgresError(f"pg_ctl {args[0]} failed ({completed.returncode}):\n{self._tail_log()}")
        if args[0] in ("start", "restart"):
            self._wait_until_accepting()

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """Create database ``name`` (if missing) and return its URL."""
        with psycopg.connect(self.url_for("postgres"), autocommit=True, gssencmode="disable") as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
                if template:
                    statement = sql.SQL("{} TEMPLATE {}").format(statement, sql.Identifier(template))
                conn.execute(statement)
        return self.url_for(name)

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()
