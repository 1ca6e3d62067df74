"""Tests for the private Dovecot helper, driven by aioimaplib as the product drives IMAP."""

from __future__ import annotations

import asyncio
import imaplib
import os
import shutil
import socket
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import aioimaplib
import pytest

from tests.support.dovecot import (
    DEFAULT_PASSWORD,
    DEFAULT_USER,
    DOVECOT_ENV,
    DovecotServer,
    Mailbox,
    find_dovecot,
)

TIMEOUT = 5.0  # every wait in this module is bounded by this


def _message(subject: str, body: str = "Hello.") -> bytes:
    return (
        f"From: Resident <resident@example.test>\r\nTo: complaints@example.test\r\n"
        f"Subject: {subject}\r\nMessage-ID: <{subject.replace(' ', '-')}@example.test>\r\n"
        f"\r\n{body}\r\n"
    ).encode()


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="session")
def dovecot_binary() -> Path:
    binary = find_dovecot()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("dovecot not found; CI must install dovecot-imapd")
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd)")
    return binary


@pytest.fixture(scope="module")
def server(dovecot_binary: Path) -> Iterator[DovecotServer]:
    with DovecotServer(binary=dovecot_binary) as running:
        yield running


@pytest.fixture
def mailbox(server: DovecotServer) -> Mailbox:
    return server.new_mailbox()


async def _close(client: aioimaplib.IMAP4, lost: asyncio.Event) -> None:
    """Log out and close the socket, as aioimaplib's ``logout()`` alone does not."""
    if not lost.is_set():
        await client.logout()
        client.protocol.transport.close()
    # Only once connection_lost() has run is the socket closed; until then a test's loop
    # could end with it open, and the garbage collector would warn.
    await asyncio.wait_for(lost.wait(), TIMEOUT)


@asynccontextmanager
async def imap_client(
    mailbox: Mailbox, lost: asyncio.Event | None = None
) -> AsyncIterator[aioimaplib.IMAP4]:
    """A logged-in aioimaplib client; ``lost`` is set when the connection is gone."""
    dropped = lost if lost is not None else asyncio.Event()
    client = aioimaplib.IMAP4(
        mailbox.host, mailbox.port, timeout=TIMEOUT, conn_lost_cb=lambda _exc: dropped.set()
    )
    await client.wait_hello_from_server()
    try:
        response = await client.login(mailbox.user, mailbox.password)
        assert response.result == "OK", response
        yield client
    finally:
        await _close(client, dropped)


# --- the helper itself ----------------------------------------------------------------------


def test_find_dovecot_honours_env_var(
    dovecot_binary: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DOVECOT_ENV, str(dovecot_binary))
    assert find_dovecot() == dovecot_binary
    monkeypatch.setenv(DOVECOT_ENV, str(tmp_path / "missing"))
    assert find_dovecot() is None


def test_lifecycle(dovecot_binary: Path) -> None:
    server = DovecotServer(binary=dovecot_binary)
    started = time.monotonic()
    with server:
        startup = time.monotonic() - started
        root = server.root
        port = server.port
        assert server.host == "127.0.0.1"
        assert _port_open(port)
        assert len(str(root)) < 40  # Dovecot's unix sockets live under it
        with imaplib.IMAP4(server.host, port, timeout=TIMEOUT) as conn:
            assert conn.login(DEFAULT_USER, DEFAULT_PASSWORD)[0] == "OK"
        assert "starting up for imap" in server.log_tail()
        started = time.monotonic()
    shutdown = time.monotonic() - started
    print(f"start {startup:.3f}s, stop {shutdown:.2f}s")  # noqa: T201 - visible with -s
    assert startup < 5
    assert not _port_open(port)
    assert not root.exists()
    server.stop()  # idempotent


def test_given_root_is_kept_with_the_log(dovecot_binary: Path) -> None:
    root = Path(tempfile.mkdtemp(prefix="cbdc-test-"))
    try:
        with DovecotServer(root, binary=dovecot_binary) as server:
            server.append(_message("kept"))
        assert "starting up for imap" in (root / "dovecot.log").read_text()
        assert (root / "dovecot.conf").exists()
    finally:
        shutil.rmtree(root)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the mail to nobody")
def test_root_that_nobody_cannot_enter_is_refused(dovecot_binary: Path, tmp_path: Path) -> None:
    # pytest's own temp dirs are private to root: Dovecot's mail processes could not enter.
    server = DovecotServer(tmp_path / "dovecot", binary=dovecot_binary)
    with pytest.raises(RuntimeError, match="cannot enter"):
        server.start()
    assert server.port == 0


def test_start_failure_reports_the_log() -> None:
    fake_dir = Path(tempfile.mkdtemp(prefix="cbdc-fake-"))
    try:
        fake = fake_dir / "dovecot"
        fake.write_text("#!/bin/sh\necho 'Fatal: boom, no IMAP for you' >&2\nexit 89\n")
        fake.chmod(0o755)
        server = DovecotServer(binary=fake)
        with pytest.raises(RuntimeError, match="boom, no IMAP for you"):
            server.start()
        assert server.port == 0
        server.stop()
    finally:
        shutil.rmtree(fake_dir)


# --- mail in, mail out ----------------------------------------------------------------------


async def test_append_then_fetch_with_aioimaplib(mailbox: Mailbox) -> None:
    first = mailbox.append(_message("first"))
    second = mailbox.append(_message("second"), seen=True)
    assert (first, second) == (1, 2)

    async with imap_client(mailbox) as client:
        assert (await client.select("INBOX")).result == "OK"
        unseen = await client.uid_search("UNSEEN")
        assert unseen.result == "OK"
        assert unseen.lines[0] == b"1"
        fetched = await client.uid("fetch", "1:*", "(UID BODY.PEEK[])")
        assert fetched.result == "OK"
        bodies = [bytes(line) for line in fetched.lines if isinstance(line, bytearray)]
        assert bodies == [_message("first"), _message("second")]
        # BODY.PEEK[] leaves \Seen alone; the client marks it after handling the message.
        assert mailbox.flags() == {1: set(), 2: {r"\Seen"}}
        stored = await client.uid("store", "1", "+FLAGS.SILENT", r"(\Seen)")
        assert stored.result == "OK"

    assert mailbox.flags() == {1: {r"\Seen"}, 2: {r"\Seen"}}
    assert mailbox.count_unseen() == 0
    assert mailbox.messages() == [_message("first"), _message("second")]


async def test_empty_mailbox(mailbox: Mailbox) -> None:
    async with imap_client(mailbox) as client:
        await client.select("INBOX")
        unseen = await client.uid_search("UNSEEN")
        assert unseen.result == "OK"
        assert unseen.lines[0] == b""
    assert mailbox.flags() == {}
    assert mailbox.messages() == []
    assert mailbox.count_unseen() == 0


def test_line_endings_are_normalised_to_crlf(mailbox: Mailbox) -> None:
    mailbox.append(b"Subject: bare LF\n\nline one\nline two\n")
    assert mailbox.messages() == [b"Subject: bare LF\r\n\r\nline one\r\nline two\r\n"]


def test_append_many_is_fast_and_ordered(mailbox: Mailbox) -> None:
    raws = [_message(f"bulk {number}") for number in range(2000)]
    started = time.monotonic()
    uids = mailbox.append_many(raws)
    elapsed = time.monotonic() - started
    assert uids == list(range(1, 2001))
    assert elapsed < 10, f"2,000 appends took {elapsed:.1f}s"
    assert mailbox.count_unseen() == 2000
    messages = mailbox.messages()
    assert len(messages) == 2000
    assert messages[1234] == raws[1234]


def test_other_folders_are_created_on_append(mailbox: Mailbox) -> None:
    assert mailbox.append(_message("filed"), mailbox="Sent Items", seen=True) == 1
    assert mailbox.append_many([_message("a"), _message("b")], mailbox="Sent Items") == [2, 3]
    assert mailbox.flags("Sent Items") == {1: {r"\Seen"}, 2: set(), 3: set()}
    assert mailbox.count_unseen("Sent Items") == 2
    assert mailbox.messages() == []


def test_users_are_isolated(server: DovecotServer) -> None:
    alice, bob = server.new_mailbox("alice"), server.new_mailbox("bob")
    assert alice.user.startswith("alice-")
    assert alice.user != bob.user
    alice.append(_message("for alice"))
    assert bob.messages() == []
    assert alice.messages() == [_message("for alice")]


# --- users ----------------------------------------------------------------------------------


async def test_wrong_password_is_refused(mailbox: Mailbox) -> None:
    lost = asyncio.Event()
    client = aioimaplib.IMAP4(
        mailbox.host, mailbox.port, timeout=TIMEOUT, conn_lost_cb=lambda _exc: lost.set()
    )
    await client.wait_hello_from_server()
    started = time.monotonic()
    response = await client.login(mailbox.user, "not the password")
    assert response.result == "NO"
    # Dovecot answers failures on a 0.5 s tick; the growing per-IP penalty is switched off.
    assert time.monotonic() - started < 2
    await _close(client, lost)


def test_users_added_before_and_after_start(dovecot_binary: Path, server: DovecotServer) -> None:
    early = DovecotServer(binary=dovecot_binary)
    early.add_user("early", "early-password")
    assert early.port == 0
    with pytest.raises(RuntimeError, match="not running"):
        early.append(_message("too soon"), user="early")

    server.add_user("late", "first-password")
    server.append(_message("late"), user="late")
    with imaplib.IMAP4(server.host, server.port, timeout=TIMEOUT) as conn:
        assert conn.login("late", "first-password")[0] == "OK"

    server.add_user("late", "other-password")  # same length: the mtime must still move
    with (
        imaplib.IMAP4(server.host, server.port, timeout=TIMEOUT) as conn,
        pytest.raises(imaplib.IMAP4.error),
    ):
        conn.login("late", "first-password")
    assert server.messages(user="late") == [_message("late")]


@pytest.mark.parametrize(
    ("name", "password"),
    [("a:b", "pw"), ("../etc", "pw"), ("", "pw"), ("*", "pw"), ("ok", "a:b"), ("ok", "")],
)
def test_add_user_rejects_what_a_passwd_file_cannot_hold(
    server: DovecotServer, name: str, password: str
) -> None:
    with pytest.raises(ValueError):
        server.add_user(name, password)


def test_unknown_user_in_helpers(server: DovecotServer) -> None:
    with pytest.raises(KeyError, match="nobody-here"):
        server.messages(user="nobody-here")


# --- IDLE and dropped connections -----------------------------------------------------------


async def test_idle_pushes_new_mail(mailbox: Mailbox) -> None:
    async with imap_client(mailbox) as client:
        await client.select("INBOX")
        idle = await client.idle_start(timeout=TIMEOUT)
        started = time.monotonic()
        await asyncio.to_thread(mailbox.append, _message("pushed"))
        push = await client.wait_server_push(timeout=TIMEOUT)
        latency = time.monotonic() - started
        client.idle_done()
        done = await asyncio.wait_for(idle, TIMEOUT)
        assert done.result == "OK"
    assert b"1 EXISTS" in push, push
    assert latency < 3, f"IDLE push took {latency:.2f}s"


async def test_kick_drops_an_open_connection(mailbox: Mailbox) -> None:
    lost = asyncio.Event()
    async with imap_client(mailbox, lost) as client:
        await client.select("INBOX")
        assert await asyncio.to_thread(mailbox.connections) == 1
        await asyncio.to_thread(mailbox.kick)
        await asyncio.wait_for(lost.wait(), TIMEOUT)
    assert mailbox.connections() == 0
    mailbox.kick()  # nobody left to kick: not an error
    mailbox.append(_message("after the kick"))
    assert len(mailbox.messages()) == 1


async def test_kick_during_idle_pushes_bye(mailbox: Mailbox) -> None:
    lost = asyncio.Event()
    async with imap_client(mailbox, lost) as client:
        await client.select("INBOX")
        idle = await client.idle_start(timeout=TIMEOUT)
        await asyncio.to_thread(mailbox.kick)
        push = await client.wait_server_push(timeout=TIMEOUT)
        await asyncio.wait_for(lost.wait(), TIMEOUT)
        # The IDLE command never completes once the connection is gone.
        assert not idle.done()
        idle.cancel()
        with pytest.raises(asyncio.CancelledError):
            await idle
    assert push == [b"BYE Server shutting down."]


def test_log_tail_shows_logins(mailbox: Mailbox) -> None:
    mailbox.append(_message("logged"))
    assert f"Login: user=<{mailbox.user}>" in mailbox.server.log_tail(20)
    assert len(mailbox.server.log_tail(3).splitlines()) == 3
