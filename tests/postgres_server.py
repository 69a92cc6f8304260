"""A throwaway PostgreSQL server for the test suite (the `postgres_url` fixture in conftest).

It runs from PostgreSQL's own binaries (`initdb`, `pg_ctl`) in a private temporary directory:
trust authentication, TCP on 127.0.0.1 only (a free port), its unix socket in the same
directory, durability off (a test server needs no fsync). As root it runs as the `postgres`
system user, since PostgreSQL refuses to run as root. A watchdog process stops it and removes
the directory if the test run dies without cleaning up (kill -9, a crashed interpreter).
"""

from __future__ import annotations

import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

SUPERUSER = "postgres"  # the database superuser that initdb creates
SYSTEM_USER = "postgres"  # the account the server runs as when we are root


class PostgresUnavailable(Exception):
    """PostgreSQL is not installed here (or cannot be run): the tests that need it skip."""


def find_bindir() -> Path | None:
    """The directory holding `initdb` and `pg_ctl`: from PATH, else the newest
    /usr/lib/postgresql/N/bin (Debian puts them there, off PATH)."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        bindir = Path(found).resolve().parent
        if (bindir / "pg_ctl").exists():
            return bindir
    versions = []
    for bindir in Path("/usr/lib/postgresql").glob("*/bin"):
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists() and bindir.parent.name.isdigit():
            versions.append((int(bindir.parent.name), bindir))
    return max(versions)[1] if versions else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_user_prefix() -> list[str]:
    """How to run a command as the server's account: nothing to do unless we are root."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        raise PostgresUnavailable(
            f"running as root and there is no {SYSTEM_USER!r} system user to run the server as"
        ) from None
    for tool in ("runuser", "setpriv"):
        exe = shutil.which(tool)
        if exe and tool == "runuser":
            return [exe, "-u", SYSTEM_USER, "--"]
        if exe:
            return [exe, f"--reuid={SYSTEM_USER}", f"--regid={SYSTEM_USER}", "--init-groups", "--"]
    raise PostgresUnavailable("running as root and neither runuser nor setpriv is available")


class PostgresServer:
    """One running server; `stop()` shuts it down and removes everything it wrote."""

    def __init__(self) -> None:
        self.bindir = find_bindir()
        if self.bindir is None:
            raise PostgresUnavailable(
                "PostgreSQL is not installed (no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin; "
                "Debian: apt-get install postgresql)"
            )
        self.as_user = _as_user_prefix()
        self.root = Path(tempfile.mkdtemp(prefix="grader-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = 0
        self._watchdog: subprocess.Popen | None = None
        self._databases = 0

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([*self.as_user, *args], cwd=self.root, capture_output=True, text=True,
                              timeout=timeout)

    def _pg_ctl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), *args, timeout=timeout)

    def start(self) -> PostgresServer:
        """initdb, configure, start and wait until it accepts connections (about a second)."""
        try:
            if self.as_user:
                shutil.chown(self.root, user=SYSTEM_USER, group=pwd.getpwnam(SYSTEM_USER).pw_gid)
            init = self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", SUPERUSER,
                             "--auth=trust", "--no-sync", "--no-instructions", "--no-locale", "-E", "UTF8")
            if init.returncode:
                raise RuntimeError(f"initdb failed ({init.returncode}): {(init.stderr or init.stdout)[-2000:]}")
            self._start_watchdog()
            for _attempt in range(3):  # another process may take the free port first
                self.port = _free_port()
                self._configure()
                started = self._pg_ctl("-l", str(self.log), "-w", "-t", "30", "start")
                if started.returncode == 0:
                    return self
                log = self.log.read_text(errors="replace") if self.log.exists() else ""
                if "could not bind" not in log and "already in use" not in log:
                    break
            raise RuntimeError(f"pg_ctl start failed: {started.stdout}{started.stderr}\n{log[-2000:]}")
        except BaseException:
            self.stop()
            raise

    def _configure(self) -> None:
        conf = self.data / "postgresql.conf"
        text = re.sub(r"\n# grader-test-settings\n.*", "", conf.read_text(), flags=re.S)
        conf.write_text(text + "\n# grader-test-settings\n" + "".join(f"{k} = {v}\n" for k, v in {
            "listen_addresses": "'127.0.0.1'",
            "port": self.port,
            "unix_socket_directories": f"'{self.root}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": 50,
        }.items()))

    def _start_watchdog(self) -> None:
        """A detached shell that waits for this process to end, then stops the server and removes
        its directory: a no-op after a clean stop(), the cleanup after kill -9."""
        stop = shlex.join([*self.as_user, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                           "-w", "stop"])
        script = (f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 1; done; "
                  f"{stop} >/dev/null 2>&1; rm -rf {shlex.quote(str(self.root))}")
        self._watchdog = subprocess.Popen(["sh", "-c", script], start_new_session=True, stdin=subprocess.DEVNULL,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of ``database`` on this server."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None, template: str | None = None) -> str:
        """CREATE DATABASE ``name`` (default: a new unique name), a copy of ``template`` if given
        (PostgreSQL copies it file by file: much faster than redoing what filled it); return its
        SQLAlchemy URL."""
        import psycopg
        from psycopg import sql

        self._databases += 1
        name = name or f"test_{self._databases}"
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            query = sql.SQL("{} TEMPLATE {}").format(query, sql.Identifier(template))
        with psycopg.connect(host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(query)
        return self.url(name)

    def stop(self) -> None:
        """Stop the server (fast, then immediate) and remove its directory."""
        if (self.data / "postmaster.pid").exists():
            if self._pg_ctl("-m", "fast", "-w", "-t", "20", "stop").returncode:
                self._pg_ctl("-m", "immediate", "-w", "-t", "20", "stop")
        if self._watchdog is not None:
            self._watchdog.kill()
            self._watchdog.wait()
            self._watchdog = None
        shutil.rmtree(self.root, ignore_errors=True)
