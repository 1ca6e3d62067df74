"""A private, throwaway PostgreSQL cluster on 127.0.0.1 for the test suite.

The cluster lives in a short directory under the system temp dir (unix socket
paths must stay short), listens only on loopback with ``trust`` auth, and is
tuned for speed rather than durability. When the tests run as root, ``initdb``
and ``pg_ctl`` are run as ``nobody`` because PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import quote

import asyncpg

PG_BIN_ENV = "COMPLAINTS_TEST_PG_BIN"
_TOOLS = ("initdb", "pg_ctl")
_START_ATTEMPTS = 3
_PORT_IN_USE = re.compile(
    r"could not bind|could not create listen socket|address already in use", re.I
)


def _has_tools(bin_dir: Path) -> bool:
    return all(os.access(bin_dir / tool, os.X_OK) for tool in _TOOLS)


def _version_key(bin_dir: Path) -> tuple[int, ...]:
    # /usr/lib/postgresql/<version>/bin -> (15,) or (9, 6)
    return tuple(int(part) for part in re.findall(r"\d+", bin_dir.parent.name))


def find_pg_bin() -> Path | None:
    """Find a directory holding the PostgreSQL server tools.

    ``$COMPLAINTS_TEST_PG_BIN`` wins when set: it must name a directory with
    ``initdb`` and ``pg_ctl``, or the result is ``None``. Otherwise the newest
    ``/usr/lib/postgresql/*/bin`` is used, then whatever ``initdb`` is on ``PATH``.

    Returns:
        The bin directory containing ``initdb`` and ``pg_ctl``, or ``None``.
    """
    override = os.environ.get(PG_BIN_ENV)
    if override:
        return Path(override) if _has_tools(Path(override)) else None
    candidates = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")]
    for bin_dir in sorted(candidates, key=_version_key, reverse=True):
        if _has_tools(bin_dir):
            return bin_dir
    on_path = shutil.which("initdb")
    if on_path is not None and _has_tools(Path(on_path).parent):
        return Path(on_path).parent
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PostgresServer:
    """A private PostgreSQL cluster, started and stopped on demand.

    Attributes:
        host: The loopback address the server listens on.
        port: The TCP port, chosen by :meth:`start` (0 until then).
    """

    host: str = "127.0.0.1"
    port: int

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.port = 0
        self.data_dir: Path | None = None
        self._running = False
        self._owner_pid = os.getpid()
        self._prefix: list[str] = []
        self._ids: tuple[int, int] | None = None
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            nobody = pwd.getpwnam("nobody")
            self._ids = (nobody.pw_uid, nobody.pw_gid)
            self._prefix = ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}"]
            self._prefix.append("--clear-groups")

    def _run(self, tool: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self._prefix, str(self.bin_dir / tool), *args],
            cwd=self.data_dir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def _log(self) -> str:
        assert self.data_dir is not None
        try:
            return (self.data_dir / "log").read_text(errors="replace")
        except OSError:
            return ""

    def _fail(self, what: str, output: str) -> RuntimeError:
        tail = "\n".join(output.strip().splitlines()[-30:])
        self.stop()
        return RuntimeError(f"{what} failed:\n{tail}")

    def start(self) -> None:
        """Create the cluster and start the server on a free port.

        Raises:
            RuntimeError: If the server is already running, or initdb or the
                server failed; the message ends with the tail of their output.
        """
        if self._running or self.data_dir is not None:
            raise RuntimeError("PostgresServer.start() called twice")
        self.data_dir = Path(tempfile.mkdtemp(prefix="cbpg-", dir="/tmp"))
        self._running = True  # from here on, stop() has something to clean up
        atexit.register(self.stop)
        if self._ids is not None:
            os.chown(self.data_dir, *self._ids)
        d = str(self.data_dir)
        init = self._run("initdb", "-D", d, "-U", "postgres", "-A", "trust", "--no-sync",
                         "-E", "UTF8", "--locale=C.UTF-8")  # fmt: skip
        if init.returncode != 0:
            raise self._fail("initdb", init.stdout + init.stderr)
        for _ in range(_START_ATTEMPTS):
            self.port = _free_port()
            log_before = len(self._log())
            options = (
                f"-p {self.port} -c listen_addresses=127.0.0.1 -k {d} -c max_connections=200"
                " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            ctl = self._run("pg_ctl", "-D", d, "-w", "-t", "60", "-l", f"{d}/log", "start",
                            "-o", options, timeout=90)  # fmt: skip
            if ctl.returncode == 0:
                return
            new_log = self._log()[log_before:]
            if not _PORT_IN_USE.search(new_log):
                break
        raise self._fail("pg_ctl start", ctl.stdout + ctl.stderr + self._log())

    def stop(self) -> None:
        """Stop the server (immediate shutdown) and delete its directory; idempotent."""
        if not self._running or os.getpid() != self._owner_pid:
            return
        self._running = False
        atexit.unregister(self.stop)
        assert self.data_dir is not None
        pid_file = self.data_dir / "postmaster.pid"
        if pid_file.exists():
            ctl = self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")
            if ctl.returncode != 0 and pid_file.exists():  # last resort: SIGQUIT = immediate
                with contextlib.suppress(ValueError, OSError, IndexError):
                    os.kill(int(pid_file.read_text().split()[0]), signal.SIGQUIT)
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def url(self, database: str = "postgres", *, driver: str = "postgresql+asyncpg") -> str:
        """Return a connection URL for ``database`` as user ``postgres``.

        Args:
            database: The database name.
            driver: The URL scheme, e.g. ``postgresql+asyncpg`` or ``postgresql``.

        Returns:
            A URL such as ``postgresql+asyncpg://postgres@127.0.0.1:5432/postgres``.
        """
        return f"{driver}://postgres@{self.host}:{self.port}/{quote(database, safe='')}"

    async def _execute(self, sql: str) -> None:
        conn = await asyncpg.connect(
            host=self.host, port=self.port, user="postgres", database="postgres"
        )
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def create_database(self, name: str, *, template: str | None = None) -> str:
        """Create a database, optionally as a copy of ``template``.

        The template must have no open connections while it is copied.

        Args:
            name: The new database's name.
            template: The database to copy, if any.

        Returns:
            The new database's URL, as from :meth:`url`.
        """
        sql = f"CREATE DATABASE {_quote_ident(name)}"
        if template is not None:
            sql += f" TEMPLATE {_quote_ident(template)}"
        await self._execute(sql)
        return self.url(name)

    async def drop_database(self, name: str) -> None:
        """Drop a database if it exists, disconnecting anyone still using it.

        Args:
            name: The database's name.
        """
        await self._execute(f"DROP DATABASE IF EXISTS {_quote_ident(name)} WITH (FORCE)")

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
