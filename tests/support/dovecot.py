"""A private, throwaway Dovecot IMAP server on 127.0.0.1 for the test suite.

The server runs in the foreground (``dovecot -F -c CONF``) from a config generated into a fresh
directory, so it never touches the system's Dovecot. Each user has a passwd-file of its own with
a plain password, so users can be added while the server runs. Mail is stored as Maildir. IDLE
is on: inotify tells it of new mail at once, and a one-second poll stands in where inotify is
unavailable. Failed logins are answered within half a second, without Dovecot's usual
growing per-address penalty, so tests of wrong passwords stay fast.

The helpers put mail in with IMAP ``APPEND`` and read it back with stdlib :mod:`imaplib`. They
are synchronous: from async code, call them through :func:`asyncio.to_thread` when the event
loop must keep running meanwhile (a client under test waiting in IDLE, say).

When the tests run as root, Dovecot's own unprivileged users (``dovecot``, ``dovenull``) run its
helper processes and the mail belongs to ``nobody``, because Dovecot refuses to serve mail as
root. As an ordinary user, every process runs as that user.
"""

from __future__ import annotations

import atexit
import contextlib
import grp
import imaplib
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Final, Self

__all__ = [
    "DEFAULT_PASSWORD",
    "DEFAULT_USER",
    "DOVECOT_ENV",
    "DovecotServer",
    "Mailbox",
    "find_dovecot",
]

DOVECOT_ENV: Final = "COMPLAINTS_TEST_DOVECOT"
"""Environment variable naming the ``dovecot`` binary to use instead of the one found."""

DEFAULT_USER: Final = "complaints"
DEFAULT_PASSWORD: Final = "secret"

START_TIMEOUT: Final = 15.0
STOP_TIMEOUT: Final = 10.0
IMAP_TIMEOUT: Final = 10.0
KICK_TIMEOUT: Final = 5.0
RELOAD_TIMEOUT: Final = 5.0
_POLL_INTERVAL: Final = 0.01
_START_ATTEMPTS: Final = 3
_EX_NOUSER: Final = 68  # doveadm kick: nobody matched

_USER_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]*")
_PORT_IN_USE: Final = re.compile(r"address already in use", re.IGNORECASE)
_APPENDUID: Final = re.compile(rb"\[APPENDUID \d+ ([0-9:,]+)\]")
_CRLF: Final = re.compile(rb"\r\n|\r(?!\n)|\n")
_APPEND_BATCH: Final = 500
_FETCH_UID: Final = re.compile(rb"\bUID (\d+)")
_FETCH_FLAGS: Final = re.compile(rb"\bFLAGS \(([^)]*)\)")
_STATUS_UNSEEN: Final = re.compile(rb"\bUNSEEN (\d+)")


def find_dovecot() -> Path | None:
    """Find the ``dovecot`` binary.

    ``$COMPLAINTS_TEST_DOVECOT`` wins when set: it must name an executable, or the result is
    ``None``. Otherwise ``dovecot`` on ``PATH``, then ``/usr/sbin/dovecot`` (``/usr/sbin`` is
    often missing from an ordinary user's ``PATH``).

    Returns:
        The path of the binary, or ``None``.
    """
    override = os.environ.get(DOVECOT_ENV)
    if override:
        return Path(override) if os.access(override, os.X_OK) else None
    on_path = shutil.which("dovecot")
    if on_path is not None:
        return Path(on_path)
    for candidate in (Path("/usr/sbin/dovecot"), Path("/usr/local/sbin/dovecot")):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def _find_doveadm(dovecot: Path) -> Path | None:
    for candidate in (dovecot.parent / "doveadm", dovecot.parent.parent / "bin" / "doveadm"):
        if os.access(candidate, os.X_OK):
            return candidate
    on_path = shutil.which("doveadm")
    return Path(on_path) if on_path is not None else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _quote(mailbox: str) -> str:
    escaped = mailbox.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _check(what: str, typ: str, data: object) -> None:
    if typ != "OK":
        raise RuntimeError(f"IMAP {what} failed: {typ} {data!r}")


def _lines(data: Iterable[object]) -> list[bytes]:
    return [item for item in data if isinstance(item, bytes)]


def _uid_set(text: bytes) -> list[int]:
    """Expand an IMAP uid-set such as ``4,7:9`` to ``[4, 7, 8, 9]``."""
    uids: list[int] = []
    for part in text.split(b","):
        first, _, last = part.partition(b":")
        uids += range(int(first), int(last or first) + 1)
    return uids


def _multiappend(conn: imaplib.IMAP4, mailbox: bytes, flags: bytes, raws: list[bytes]) -> list[int]:
    """Send one ``APPEND`` carrying all of ``raws`` and return their UIDs.

    imaplib sends one message per command and waits for a continuation before each literal;
    this writes the whole command at once (``LITERAL+``, ``MULTIAPPEND``) through imaplib's
    documented ``send``/``readline`` and reads up to its own tagged answer.
    """
    tag = b"CBAPPEND"
    command = [tag, b" APPEND ", mailbox]
    for raw in raws:
        data = _CRLF.sub(b"\r\n", raw)
        command += [b" ", flags, b"{%d+}\r\n" % len(data), data]
    command.append(b"\r\n")
    conn.send(b"".join(command))
    while True:
        line = conn.readline()
        if not line:
            raise ConnectionError("IMAP server closed the connection during APPEND")
        if line.startswith(tag + b" "):
            break
    answer = line[len(tag) + 1 :].rstrip()
    found = _APPENDUID.search(answer)
    if not answer.startswith(b"OK") or found is None:
        raise RuntimeError(f"IMAP APPEND failed: {answer!r}")
    uids = _uid_set(found.group(1))
    if len(uids) != len(raws):
        raise RuntimeError(f"APPEND of {len(raws)} messages answered {answer!r}")
    return uids


def _unreachable_ancestor(path: Path) -> Path | None:
    """Return the first directory on ``path`` that other users cannot enter, if any."""
    for directory in (path, *path.parents):
        if not directory.stat().st_mode & stat.S_IXOTH:
            return directory
    return None


@dataclass(frozen=True)
class _Identity:
    """Who Dovecot's processes and the mail run as."""

    mail_uid: int
    mail_gid: int
    unprivileged: tuple[str, str] | None  # (user, group) when not running as root


def _identity() -> _Identity:
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        return _Identity(nobody.pw_uid, nobody.pw_gid, None)
    uid, gid = os.geteuid(), os.getegid()
    return _Identity(uid, gid, (pwd.getpwuid(uid).pw_name, grp.getgrgid(gid).gr_name))


@dataclass(frozen=True)
class Mailbox:
    """One user's mail on a :class:`DovecotServer`, with the helpers bound to that user.

    Attributes:
        server: The server the user lives on.
        user: The IMAP login name.
        password: The IMAP password.
    """

    server: DovecotServer = field(repr=False)
    user: str
    password: str

    @property
    def host(self) -> str:
        """The server's address."""
        return self.server.host

    @property
    def port(self) -> int:
        """The server's IMAP port."""
        return self.server.port

    def append(self, raw: bytes, *, mailbox: str = "INBOX", seen: bool = False) -> int:
        """Deliver a message; see :meth:`DovecotServer.append`."""
        return self.server.append(raw, user=self.user, mailbox=mailbox, seen=seen)

    def append_many(
        self, raws: Iterable[bytes], *, mailbox: str = "INBOX", seen: bool = False
    ) -> list[int]:
        """Deliver messages over one connection; see :meth:`DovecotServer.append_many`."""
        return self.server.append_many(raws, user=self.user, mailbox=mailbox, seen=seen)

    def flags(self, mailbox: str = "INBOX") -> dict[int, set[str]]:
        """Return each message's flags by UID; see :meth:`DovecotServer.flags`."""
        return self.server.flags(user=self.user, mailbox=mailbox)

    def messages(self, mailbox: str = "INBOX") -> list[bytes]:
        """Return the raw messages in UID order; see :meth:`DovecotServer.messages`."""
        return self.server.messages(user=self.user, mailbox=mailbox)

    def count_unseen(self, mailbox: str = "INBOX") -> int:
        """Count messages without ``\\Seen``; see :meth:`DovecotServer.count_unseen`."""
        return self.server.count_unseen(user=self.user, mailbox=mailbox)

    def kick(self) -> None:
        """Drop the user's IMAP connections; see :meth:`DovecotServer.kick`."""
        self.server.kick(user=self.user)

    def connections(self) -> int:
        """Count the user's logged-in connections; see :meth:`DovecotServer.connections`."""
        return self.server.connections(user=self.user)


class DovecotServer:
    """A private Dovecot IMAP server, started and stopped on demand.

    Usable as a context manager. The helpers (:meth:`append`, :meth:`flags` ...) are
    synchronous and thread-safe; each opens its own IMAP connection.

    Attributes:
        host: The loopback address the server listens on.
        port: The IMAP port, chosen by :meth:`start` (0 until then).
        root: The directory holding the config, passwd-files, mail and log.
    """

    host: str = "127.0.0.1"
    port: int

    def __init__(self, root: Path | None = None, *, binary: Path | None = None) -> None:
        """Prepare a server; nothing runs until :meth:`start`.

        Args:
            root: Where to keep the config, the users' passwd-files, mail and log; a fresh temporary
                directory (deleted by :meth:`stop`) when ``None``. A given directory is kept.
                As root it must be reachable by ``nobody``, so pytest's ``tmp_path`` will not
                do. Dovecot's sockets always go to a short temporary directory of their own.
            binary: The ``dovecot`` binary; :func:`find_dovecot` when ``None``.
        """
        self.port = 0
        self._given_root = root
        self._binary = binary
        self._users: dict[str, str] = {}
        self._lock = threading.Lock()
        self._identity = _identity()
        self._owner_pid = os.getpid()
        self._tmp: Path | None = None
        self._root: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None
        self._doveadm: Path | None = None

    # --- paths ----------------------------------------------------------------------------

    @property
    def root(self) -> Path:
        """The directory holding the config, passwd-files, mail and log (set by :meth:`start`)."""
        if self._root is None:
            raise RuntimeError("DovecotServer has not been started")
        return self._root

    @property
    def config_path(self) -> Path:
        """The generated ``dovecot.conf``, for ``doveadm -c``."""
        return self.root / "dovecot.conf"

    @property
    def log_path(self) -> Path:
        """Dovecot's log, which also receives its stdout and stderr."""
        return self.root / "dovecot.log"

    @property
    def _users_dir(self) -> Path:
        return self.root / "users"

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Write the config, start Dovecot on a free port and wait until a LOGIN works.

        The default user ``complaints`` / ``secret`` is created first.

        Raises:
            RuntimeError: If the server is already running, or did not accept a LOGIN within
                15 seconds; the message ends with the tail of Dovecot's log.
            FileNotFoundError: If no ``dovecot`` binary was given or found.
        """
        if self._tmp is not None:
            raise RuntimeError("DovecotServer.start() called twice")
        binary = self._binary or find_dovecot()
        if binary is None:
            raise FileNotFoundError(
                f"dovecot not found (install dovecot-imapd or set {DOVECOT_ENV})"
            )
        self._doveadm = _find_doveadm(binary)
        self._tmp = Path(tempfile.mkdtemp(prefix="cbdc-", dir="/tmp"))
        atexit.register(self.stop)
        try:
            self._prepare()
            for _ in range(_START_ATTEMPTS):
                log_before = self._log_size()
                self.port = _free_port()
                self.config_path.write_text(self._config())
                self._launch(binary)
                if self._wait_until_ready(log_before):
                    return
            raise RuntimeError(f"Dovecot could not bind a free port:\n{self.log_tail(30)}")
        except BaseException:
            self.stop()
            raise

    def _prepare(self) -> None:
        assert self._tmp is not None
        self._tmp.chmod(0o755)  # Dovecot's unprivileged processes must reach the sockets
        root = self._given_root if self._given_root is not None else self._tmp
        root.mkdir(parents=True, exist_ok=True)
        self._root = root
        if self._identity.unprivileged is None:
            root.chmod(0o755)
            blocked = _unreachable_ancestor(root)
            if blocked is not None:
                raise RuntimeError(
                    f"Dovecot's mail processes run as nobody and cannot enter {blocked}; "
                    "pass a root under /tmp, or none"
                )
        for name in ("mail", "state", "users"):
            (root / name).mkdir(exist_ok=True)
        self._users_dir.chmod(0o755)  # read by the auth process, which runs as dovecot
        os.chown(root / "mail", self._identity.mail_uid, self._identity.mail_gid)
        with self._lock:
            self._users.setdefault(DEFAULT_USER, DEFAULT_PASSWORD)
            for name, password in self._users.items():
                self._write_user(name, password)

    def _config(self) -> str:
        assert self._tmp is not None
        root = self.root
        ident = self._identity
        lines = [
            f"instance_name = {self._tmp.name}",
            "protocols = imap",
            "listen = 127.0.0.1",
            f"base_dir = {self._tmp / 'run'}",
            f"state_dir = {root / 'state'}",
            f"log_path = {self.log_path}",
            "ssl = no",
            "disable_plaintext_auth = no",
            "auth_mechanisms = plain login",
            "auth_verbose = yes",
            # A failed login is answered on Dovecot's next half-second tick instead of after
            # 2 s, and without the per-IP penalty that grows with every failure (anvil's
            # anvil-auth-penalty socket, given mode 0 below, turns that off).
            "auth_failure_delay = 0",
            "mail_location = maildir:~/Maildir",
            "mail_fsync = never",
            # IDLE learns of new mail through inotify at once; this is only the fallback poll.
            "mailbox_idle_check_interval = 1 secs",
            "mail_max_userip_connections = 100",
            f"first_valid_uid = {ident.mail_uid}",
            f"first_valid_gid = {ident.mail_gid}",
            "passdb {",
            "  driver = passwd-file",
            f"  args = scheme=PLAIN username_format=%u {self._users_dir}/%u",
            "}",
            "userdb {",
            "  driver = passwd-file",
            f"  args = username_format=%u {self._users_dir}/%u",
            "}",
            "service imap-login {",
            "  inet_listener imap {",
            "    address = 127.0.0.1",
            f"    port = {self.port}",
            "  }",
            "  inet_listener imaps {",
            "    port = 0",
            "  }",
        ]
        anvil = ["service anvil {", "  unix_listener anvil-auth-penalty {", "    mode = 0", "  }"]
        if ident.unprivileged is not None:
            user, group = ident.unprivileged
            lines += [
                "  chroot =",
                "}",
                *anvil,
                "  chroot =",
                "}",
                "service auth-worker {",
                "  user = $default_internal_user",
                "}",
                f"default_internal_user = {user}",
                f"default_internal_group = {group}",
                f"default_login_user = {user}",
            ]
        else:
            lines += ["}", *anvil, "}"]
        return "\n".join(lines) + "\n"

    def _launch(self, binary: Path) -> None:
        if self._log_file is None:
            self._log_file = self.log_path.open("ab")
        self._process = subprocess.Popen(
            [str(binary), "-F", "-c", str(self.config_path)],
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=self._log_file,
            cwd=self.root,
        )

    def _wait_until_ready(self, log_before: int) -> bool:
        """Wait for a working LOGIN; ``False`` if Dovecot exited because the port was taken."""
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT
        last_error: Exception | None = None
        while True:
            if self._process.poll() is not None:
                self._process = None
                if _PORT_IN_USE.search(self._log_since(log_before)):
                    return False
                raise RuntimeError(f"Dovecot exited during start-up:\n{self.log_tail(30)}")
            try:
                with self._connect(DEFAULT_USER, timeout=1.0):
                    return True
            except (OSError, imaplib.IMAP4.error) as error:
                last_error = error
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"Dovecot did not accept a LOGIN within {START_TIMEOUT:g} s "
                    f"({last_error!r}):\n{self.log_tail(30)}"
                )
            time.sleep(_POLL_INTERVAL)

    def stop(self) -> None:
        """Stop Dovecot (SIGTERM, then SIGKILL after 10 s) and delete its files; idempotent.

        A ``root`` passed to the constructor is kept, with the log in it.
        """
        if os.getpid() != self._owner_pid:
            return  # a forked child must not stop its parent's server
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self._tmp is not None:
            atexit.unregister(self.stop)
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        if self._given_root is None:
            self._root = None
        self.port = 0

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

    # --- users ----------------------------------------------------------------------------

    def add_user(self, name: str, password: str) -> None:
        """Create a user, or change the password of an existing one.

        Works before and after :meth:`start`. Each user has a passwd-file of its own, which
        Dovecot opens at the user's first login, so a new user can log in at once. Dovecot
        re-reads a changed file at most once a second, so a changed password is waited for
        (by logging in with it, at most a few seconds).

        Args:
            name: The login name (letters, digits and ``._@+-``).
            password: The plain password (no ``:`` or line breaks).

        Raises:
            ValueError: If the name or password cannot be stored in a passwd-file.
        """
        if not _USER_NAME.fullmatch(name):
            raise ValueError(f"unsupported IMAP user name: {name!r}")
        if not password or any(char in password for char in ":\r\n"):
            raise ValueError("a password must be non-empty, without ':' or line breaks")
        with self._lock:
            previous = self._users.get(name)
            if previous == password:
                return
            self._users[name] = password
            if self._root is None:
                return
            self._write_user(name, password)
        if previous is not None and self._process is not None:
            self._wait_for_login(name)

    def new_mailbox(self, prefix: str = "user") -> Mailbox:
        """Create a user with a unique name (``<prefix>-<8 hex digits>``) and a random password.

        Args:
            prefix: The start of the user name.

        Returns:
            The user's mailbox, with the helpers bound to it.
        """
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        password = secrets.token_urlsafe(12)
        self.add_user(name, password)
        return Mailbox(self, name, password)

    def _write_user(self, name: str, password: str) -> None:
        # A new file renamed into place: the auth process never reads a half-written one.
        path = self._users_dir / name
        home = self.root / "mail" / name
        uid, gid = self._identity.mail_uid, self._identity.mail_gid
        line = f"{name}:{{PLAIN}}{password}:{uid}:{gid}::{home}::\n"
        before = path.stat() if path.exists() else None
        staging = path.with_name(f".{name}.new")
        staging.write_text(line)
        staging.chmod(0o644)
        staging.replace(path)
        if before is not None and before.st_size == len(line.encode()):
            # Dovecot compares size and whole-second mtime: make sure the mtime moves.
            bumped = max(time.time_ns(), before.st_mtime_ns + 1_000_000_000)
            os.utime(path, ns=(bumped, bumped))

    def _wait_for_login(self, user: str) -> None:
        deadline = time.monotonic() + RELOAD_TIMEOUT
        while True:
            try:
                with self._connect(user):
                    return
            except imaplib.IMAP4.error:
                if time.monotonic() > deadline:
                    raise
            time.sleep(_POLL_INTERVAL * 5)

    # --- IMAP helpers ---------------------------------------------------------------------

    @contextlib.contextmanager
    def _connect(self, user: str, *, timeout: float = IMAP_TIMEOUT) -> Iterator[imaplib.IMAP4]:
        with self._lock:
            password = self._users.get(user)
        if password is None:
            raise KeyError(f"no such user: {user!r} (add it with add_user)")
        if not self.port:
            raise RuntimeError("DovecotServer is not running")
        with imaplib.IMAP4(self.host, self.port, timeout=timeout) as conn:
            conn.login(user, password)
            yield conn

    def append(
        self, raw: bytes, *, user: str = DEFAULT_USER, mailbox: str = "INBOX", seen: bool = False
    ) -> int:
        """Deliver one message with IMAP ``APPEND``, creating the mailbox if needed.

        Line endings are normalised to CRLF on the way in (as :mod:`imaplib` does), so what
        :meth:`messages` returns may differ from ``raw`` in that respect.

        Args:
            raw: The message, headers and body.
            user: Whose mailbox.
            mailbox: The folder.
            seen: Whether to store it with ``\\Seen``.

        Returns:
            The UID the server gave the message.
        """
        return self.append_many([raw], user=user, mailbox=mailbox, seen=seen)[0]

    def append_many(
        self,
        raws: Iterable[bytes],
        *,
        user: str = DEFAULT_USER,
        mailbox: str = "INBOX",
        seen: bool = False,
    ) -> list[int]:
        """Deliver several messages over one IMAP connection, in order.

        Messages go in batches of up to 500 per ``APPEND`` command (``MULTIAPPEND`` with
        non-synchronising ``LITERAL+`` literals): 2,000 small messages take well under a second.

        Args:
            raws: The messages.
            user: Whose mailbox.
            mailbox: The folder, created if needed.
            seen: Whether to store them with ``\\Seen``.

        Returns:
            The UIDs the server gave the messages, in the same order.
        """
        name = _quote(mailbox)
        flags = b"(\\Seen) " if seen else b""
        uids: list[int] = []
        with self._connect(user) as conn:
            if mailbox.upper() != "INBOX":
                typ, data = conn.create(name)
                if typ != "OK" and not any(b"[ALREADYEXISTS]" in d for d in _lines(data)):
                    _check("CREATE", typ, data)
            batch: list[bytes] = []
            for raw in raws:
                batch.append(raw)
                if len(batch) == _APPEND_BATCH:
                    uids += _multiappend(conn, name.encode(), flags, batch)
                    batch = []
            if batch:
                uids += _multiappend(conn, name.encode(), flags, batch)
        return uids

    def flags(self, user: str = DEFAULT_USER, mailbox: str = "INBOX") -> dict[int, set[str]]:
        """Return every message's flags, by UID.

        The mailbox is opened read-only, and the session flag ``\\Recent`` is left out.

        Args:
            user: Whose mailbox.
            mailbox: The folder.

        Returns:
            UID → flags, e.g. ``{1: {"\\\\Seen"}, 2: set()}``.
        """
        with self._connect(user) as conn:
            _check("EXAMINE", *conn.select(_quote(mailbox), readonly=True))
            typ, data = conn.uid("FETCH", "1:*", "(UID FLAGS)")
            _check("FETCH", typ, data)
        result: dict[int, set[str]] = {}
        for item in data:
            line = item[0] if isinstance(item, tuple) else item
            if not isinstance(line, bytes):
                continue
            uid, flags = _FETCH_UID.search(line), _FETCH_FLAGS.search(line)
            if uid is not None and flags is not None:
                names = flags.group(1).decode().split()
                result[int(uid.group(1))] = {name for name in names if name != r"\Recent"}
        return result

    def messages(self, user: str = DEFAULT_USER, mailbox: str = "INBOX") -> list[bytes]:
        """Return the raw messages in UID order, without setting ``\\Seen``.

        Args:
            user: Whose mailbox.
            mailbox: The folder.

        Returns:
            Each message as the server serves it (CRLF line endings).
        """
        with self._connect(user) as conn:
            _check("EXAMINE", *conn.select(_quote(mailbox), readonly=True))
            typ, data = conn.uid("FETCH", "1:*", "(UID BODY.PEEK[])")
            _check("FETCH", typ, data)
        found: list[tuple[int, bytes]] = []
        for item in data:
            if isinstance(item, tuple):
                uid = _FETCH_UID.search(item[0])
                if uid is not None:
                    found.append((int(uid.group(1)), item[1]))
        return [raw for _, raw in sorted(found)]

    def count_unseen(self, user: str = DEFAULT_USER, mailbox: str = "INBOX") -> int:
        """Count the messages without ``\\Seen`` (IMAP ``STATUS ... (UNSEEN)``).

        Args:
            user: Whose mailbox.
            mailbox: The folder.

        Returns:
            The number of unseen messages.
        """
        with self._connect(user) as conn:
            typ, data = conn.status(_quote(mailbox), "(UNSEEN)")
            _check("STATUS", typ, data)
        found = _STATUS_UNSEEN.search(b" ".join(d for d in data if isinstance(d, bytes)))
        if found is None:
            raise RuntimeError(f"STATUS answer without UNSEEN: {data!r}")
        return int(found.group(1))

    # --- faults and diagnostics -----------------------------------------------------------

    def kick(self, user: str = DEFAULT_USER) -> None:
        """Drop every logged-in IMAP connection of ``user`` from the server side.

        Uses ``doveadm kick``: each of the user's ``imap`` processes says ``* BYE Server
        shutting down.`` and closes the connection. Returns once Dovecot lists none of the
        user's connections any more; a user without connections is not an error. Connections
        that have not logged in yet are not the user's, and stay.

        Args:
            user: Whose connections to drop.

        Raises:
            RuntimeError: If ``doveadm`` failed, or the connections were still there after
                5 seconds.
        """
        self._doveadm_run("kick", user, ok=(0, _EX_NOUSER))
        deadline = time.monotonic() + KICK_TIMEOUT
        while self.connections(user):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{user}'s connections survived a kick:\n{self.log_tail(20)}")
            time.sleep(_POLL_INTERVAL)

    def connections(self, user: str = DEFAULT_USER) -> int:
        """Count ``user``'s logged-in IMAP connections (``doveadm who``).

        Args:
            user: Whose connections to count.

        Returns:
            The number of connections past LOGIN.
        """
        out = self._doveadm_run("-f", "tab", "who", "-1", user)
        rows = [line.split("\t") for line in out.splitlines()[1:] if line.strip()]
        return sum(1 for row in rows if row[0] == user)

    def _doveadm_run(self, *args: str, ok: tuple[int, ...] = (0,)) -> str:
        if self._doveadm is None:
            raise FileNotFoundError("doveadm not found (it comes with dovecot-core)")
        if self._process is None:
            raise RuntimeError("DovecotServer is not running")
        done = subprocess.run(
            [str(self._doveadm), "-c", str(self.config_path), *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=KICK_TIMEOUT,
            check=False,
        )
        if done.returncode not in ok:
            raise RuntimeError(
                f"doveadm {' '.join(args)} exited with {done.returncode}: "
                f"{done.stdout}{done.stderr}\n{self.log_tail(20)}"
            )
        return done.stdout

    def log_tail(self, lines: int = 50) -> str:
        """Return the last lines of Dovecot's log (empty before :meth:`start`).

        Args:
            lines: How many lines.

        Returns:
            The lines, joined with newlines.
        """
        if self._root is None:
            return ""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def _log_since(self, offset: int) -> str:
        try:
            with self.log_path.open("rb") as log:
                log.seek(offset)
                return log.read().decode(errors="replace")
        except OSError:
            return ""
