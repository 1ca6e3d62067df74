"""Security tests across the channels, end to end: what SECURITY.md promises, tried as an attacker.

Each test drives the real bot (``Application.run`` or ``bot.cli.main``) against the real peers
of the channel tests: the fake Telegram Bot API server, a private Dovecot and an in-process
aiosmtpd. Threats already covered closer to their code are listed in SECURITY.md with their
tests; this file fills the gaps between them.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from bot.cli import main
from bot.logs import RedactSecrets
from core.clock import ShiftedClock
from core.references import ReferenceKind, find_references, new_reference
from core.settings import Settings
from tests.channels.email.conftest import dovecot, mailbox, smtp  # noqa: F401 - fixtures
from tests.channels.email.test_adapter import ADDRESS, COMPLAINT, SAM, START, body, email, to
from tests.channels.email.test_adapter import running as running_email
from tests.channels.email.test_adapter import settings_for as email_settings
from tests.channels.telegram.test_adapter import (
    BOUND,
    RESIDENT,
    STAFF_CHAT,
    app_channel,
    running,
    said,
    settings_for,
    texts,
)
from tests.channels.telegram.test_staff_commands import seed
from tests.support.dovecot import Mailbox
from tests.support.fake_telegram import FakeTelegram
from tests.support.smtp import SmtpRecorder

STRANGER = 6001
"""Another Telegram user: a resident, but not the one whose complaint is quoted."""
ONE_MEGABYTE = 1024 * 1024
TOKEN_TAIL = "AAH-leaky-bot-token-tail"
WEBHOOK_SECRET = "leaky-webhook-secret"
IMAP_PASSWORD = "leaky-imap-password"
SMTP_PASSWORD = "leaky-smtp-password"
DB_PASSWORD = "leaky-db-password"
SECRETS = (TOKEN_TAIL, WEBHOOK_SECRET, IMAP_PASSWORD, SMTP_PASSWORD, DB_PASSWORD)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connections to it are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def assert_no_secrets(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


# --------------------------------------------------------------------------- Telegram


async def test_another_telegram_user_quoting_a_reference_learns_nothing(
    fake: FakeTelegram, database_url: str, tmp_path: Path
) -> None:
    """A real reference and a guessed one get the same answer: existence does not leak."""
    async with asyncio.timeout(BOUND), running(settings_for(fake, database_url, tmp_path)) as app:
        reference = (await seed(app)).reference
        guess = new_reference(ReferenceKind.COMPLAINT)  # well formed, check symbol right
        fake.user_message(chat_id=STRANGER, user_id=STRANGER, text=reference)
        await said(fake, STRANGER, 1)
        fake.user_message(chat_id=STRANGER, user_id=STRANGER, text=guess)
        real_answer, guessed_answer = await said(fake, STRANGER, 2)
        await fake.wait_for(
            lambda: any("not one of their complaints" in t for t in texts(fake, STAFF_CHAT)),
            timeout=10,
        )
    for leaked in ("roof", "Nobody came", "stage", "acknowledged"):
        assert leaked.lower() not in real_answer.lower()
    # Byte for byte the same message, apart from the reference quoted back.
    real, guessed = fake.sent_messages(STRANGER)
    assert real["raw_text"].replace(reference, "REF") == guessed["raw_text"].replace(guess, "REF")
    assert real.get("reply_markup") == guessed.get("reply_markup")
    assert real_answer.replace(reference, "REF") == guessed_answer.replace(guess, "REF")
    # Staff hear about the quoted real complaint only (the guess is nobody's).
    flagged = [t for t in texts(fake, STAFF_CHAT) if "not one of their complaints" in t]
    assert len(flagged) == 1 and reference in flagged[0] and guess not in flagged[0]


async def test_a_megabyte_of_telegram_text_gets_a_normal_answer(
    fake: FakeTelegram, database_url: str, tmp_path: Path
) -> None:
    huge = ("my kitchen tap is leaking " * (ONE_MEGABYTE // 26 + 1))[:ONE_MEGABYTE]
    async with asyncio.timeout(BOUND), running(settings_for(fake, database_url, tmp_path)):
        fake.user_message(chat_id=RESIDENT, text=huge)
        await said(fake, RESIDENT, 1)
        fake.user_message(chat_id=RESIDENT, text="/status")  # still answering
        await fake.wait_for(
            lambda: any("no complaints" in t for t in texts(fake, RESIDENT)), timeout=10
        )
    sent = texts(fake, RESIDENT)
    assert len(sent) <= 3  # an answer, not the text echoed back in a thousand parts
    assert all(len(t) <= 4096 for t in sent)


async def test_the_webhook_refuses_a_missing_or_empty_secret_and_an_oversized_body(
    fake: FakeTelegram, database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(
        fake,
        database_url,
        tmp_path,
        mode="webhook",
        webhook_url="https://bot.example.test/telegram/webhook",
        webhook_secret=WEBHOOK_SECRET,
        webhook_port=0,
    )
    update = {
        "update_id": 9002,
        "message": {
            "message_id": 1,
            "date": 1_790_000_000,
            "chat": {"id": RESIDENT, "type": "private"},
            "from": {"id": RESIDENT, "is_bot": False, "first_name": "Sam"},
            "text": "hello",
        },
    }
    header = "X-Telegram-Bot-Api-Secret-Token"
    async with asyncio.timeout(BOUND), running(settings) as app:
        await fake.wait_for(lambda: fake.webhook is not None, timeout=10)
        url = f"http://127.0.0.1:{app_channel(app).webhook_port}/telegram/webhook"
        async with aiohttp.ClientSession() as http:
            missing = await http.post(url, json=update)
            empty = await http.post(url, json=update, headers={header: ""})
            prefix = await http.post(url, json=update, headers={header: WEBHOOK_SECRET[:-1]})
            assert [missing.status, empty.status, prefix.status] == [401, 401, 401]
            oversized = json.dumps(update).replace("hello", "x" * (2 * ONE_MEGABYTE))
            too_big = await http.post(
                url,
                data=io.BytesIO(oversized.encode()),
                headers={header: WEBHOOK_SECRET, "Content-Type": "application/json"},
            )
            assert too_big.status == 413
        await asyncio.sleep(1.0)  # time for anything wrongly accepted to be answered
    assert fake.sent_messages(RESIDENT) == []


# --------------------------------------------------------------------------- email


@pytest.fixture
def clock() -> ShiftedClock:
    """Time from 10:00 on 23 December 2025, running (as in the email channel tests)."""
    return ShiftedClock(START)


def hostile_email(text: str, *, display_name: str, subject: str) -> bytes:
    """An email whose From name and Subject are RFC 2047 encoded words carrying CR/LF."""
    _, raw = email(text)
    head, _, rest = raw.partition(b"\n\n")
    lines = [
        line for line in head.split(b"\n") if not line.lower().startswith((b"from:", b"subject:"))
    ]
    lines.insert(0, b"From: " + display_name.encode() + b" <" + SAM.encode() + b">")
    lines.insert(1, b"Subject: " + subject.encode())
    return b"\n".join(lines) + b"\n\n" + rest


async def test_crlf_in_an_email_name_or_subject_cannot_inject_headers(
    mailbox: Mailbox,  # noqa: F811 - the imported fixture
    smtp: SmtpRecorder,  # noqa: F811
    database_url: str,
    tmp_path: Path,
    clock: ShiftedClock,
) -> None:
    raw = hostile_email(
        COMPLAINT,
        display_name="=?utf-8?q?Sam=0D=0ABcc=3A_evil=40attacker=2Eexample?=",
        subject="=?utf-8?q?My_boiler=0D=0ABcc=3A_evil=40attacker=2Eexample=0D=0A=0D=0Abody?=",
    )
    async with (
        asyncio.timeout(BOUND),
        running_email(email_settings(mailbox, smtp, database_url, tmp_path), clock),
    ):
        mailbox.append(raw)
        await smtp.wait_for(2, timeout=20)  # the acknowledgement and the staff notice
        await asyncio.sleep(0.5)
    for sent in smtp.messages:
        assert "evil@attacker.example" not in sent.rcpt_tos
        assert sent.message["Bcc"] is None
        head = sent.data.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace")
        assert not any(line.lower().startswith("bcc:") for line in head.split("\r\n"))
    (ack,) = to(smtp, SAM)
    assert ack.rcpt_tos == [SAM]
    assert "\n" not in str(ack.message["Subject"]) and "\r" not in str(ack.message["Subject"])


async def test_markup_in_an_email_is_escaped_in_the_html_part(
    mailbox: Mailbox,  # noqa: F811
    smtp: SmtpRecorder,  # noqa: F811
    database_url: str,
    tmp_path: Path,
    clock: ShiftedClock,
) -> None:
    injected = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    text = COMPLAINT.replace("never came", f"never came {injected}")
    _, raw = email(text)
    async with (
        asyncio.timeout(BOUND),
        running_email(email_settings(mailbox, smtp, database_url, tmp_path), clock),
    ):
        mailbox.append(raw)
        await smtp.wait_for(2, timeout=20)
    for sent in smtp.messages:
        part = sent.message.get_body(preferencelist=("html",))
        assert part is not None
        html = str(part.get_content())
        assert "<script" not in html.lower()
        assert "<img" not in html.lower()
    (ack,) = to(smtp, SAM)
    assert "<script>" in body(ack)  # the read-back quotes the resident's words as typed...
    html_part = ack.message.get_body(preferencelist=("html",))
    assert html_part is not None
    assert "&lt;script&gt;" in str(html_part.get_content())  # ...and escaped as HTML


async def test_a_megabyte_email_body_gets_a_normal_answer(
    mailbox: Mailbox,  # noqa: F811
    smtp: SmtpRecorder,  # noqa: F811
    database_url: str,
    tmp_path: Path,
    clock: ShiftedClock,
) -> None:
    filler = "\nThe boiler is still broken and nobody came." * (ONE_MEGABYTE // 44 + 1)
    _, raw = email(COMPLAINT + filler[:ONE_MEGABYTE])
    assert len(raw) > ONE_MEGABYTE
    async with (
        asyncio.timeout(BOUND),
        running_email(email_settings(mailbox, smtp, database_url, tmp_path), clock),
    ):
        mailbox.append(raw)
        await smtp.wait_for(2, timeout=25)
        await asyncio.sleep(0.5)
    (ack,) = to(smtp, SAM)
    assert len(ack.data) < 200_000  # bounded: the answer does not carry the megabyte back
    assert find_references(str(ack.message["Subject"]))


# --------------------------------------------------------------------------- secrets


@pytest.fixture
def _isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No COMPLAINTS_* variables from outside; undo main()'s logging set-up afterwards."""
    for name in list(os.environ):
        if name.upper().startswith("COMPLAINTS_"):
            monkeypatch.delenv(name)
    levels = {name: logging.getLogger(name).level for name in ("", "aiosqlite", "asyncio")}
    yield
    root = logging.getLogger()
    for handler in list(root.handlers):
        if any(isinstance(f, RedactSecrets) for f in handler.filters):
            root.removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def set_secrets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *, log_json: bool) -> None:
    """Every secret setting, at DEBUG, with a reachable SQLite database."""
    monkeypatch.setenv("COMPLAINTS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COMPLAINTS_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("COMPLAINTS_LOG_JSON", "true" if log_json else "false")
    monkeypatch.setenv("COMPLAINTS_TELEGRAM__WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("COMPLAINTS_SMTP__PASSWORD", SMTP_PASSWORD)
    monkeypatch.setenv("COMPLAINTS_IMAP__PASSWORD", IMAP_PASSWORD)
    if "health" in Settings.model_fields:  # runs side by side never share the health port
        monkeypatch.setenv("COMPLAINTS_HEALTH__PORT", "0")


@pytest.mark.usefixtures("_isolated")
@pytest.mark.parametrize("log_json", [False, True], ids=["text", "json"])
def test_a_run_whose_telegram_cannot_connect_shows_no_secret(
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
    log_json: bool,
) -> None:
    set_secrets(monkeypatch, tmp_path, log_json=log_json)
    monkeypatch.setenv("COMPLAINTS_TELEGRAM__TOKEN", f"123456:{TOKEN_TAIL}")
    monkeypatch.setenv("COMPLAINTS_TELEGRAM__API_URL", f"http://127.0.0.1:{free_port()}")
    assert main(["run"]) == 1
    out, err = capfd.readouterr()
    assert "telegram" in err  # the failure is explained...
    assert_no_secrets(out + err)  # ...without the token or any other secret


@pytest.mark.usefixtures("_isolated")
def test_a_run_whose_imap_login_is_refused_shows_no_password(
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
    mailbox: Mailbox,  # noqa: F811
    smtp: SmtpRecorder,  # noqa: F811
) -> None:
    set_secrets(monkeypatch, tmp_path, log_json=False)
    for name, value in {
        "COMPLAINTS_IMAP__HOST": mailbox.host,
        "COMPLAINTS_IMAP__PORT": str(mailbox.port),
        "COMPLAINTS_IMAP__USERNAME": mailbox.user,
        "COMPLAINTS_IMAP__SSL": "false",
        "COMPLAINTS_SMTP__HOST": smtp.host,
        "COMPLAINTS_SMTP__PORT": str(smtp.port),
        "COMPLAINTS_SMTP__STARTTLS": "false",
        "COMPLAINTS_EMAIL__ADDRESS": ADDRESS,
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["run"]) == 1  # IMAP_PASSWORD is not the mailbox's password
    out, err = capfd.readouterr()
    assert "COMPLAINTS_IMAP__PASSWORD" in err  # names the setting, never its value
    assert_no_secrets(out + err)
    assert mailbox.password not in out + err


@pytest.mark.usefixtures("_isolated")
@pytest.mark.parametrize("command", [["db", "upgrade"], ["run"]])
def test_an_unreachable_database_shows_no_password(
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
    command: list[str],
) -> None:
    set_secrets(monkeypatch, tmp_path, log_json=False)
    monkeypatch.setenv(
        "COMPLAINTS_DATABASE_URL",
        f"postgresql+asyncpg://complaints:{DB_PASSWORD}@127.0.0.1:{free_port()}/complaints",
    )
    assert main(command) == 1
    out, err = capfd.readouterr()
    assert "database" in err
    assert_no_secrets(out + err)


@pytest.mark.usefixtures("_isolated")
@pytest.mark.parametrize(
    ("name", "value", "secret"),
    [
        ("COMPLAINTS_TELEGRAM__TOKEN", f"not-a-token-{TOKEN_TAIL}", TOKEN_TAIL),
        ("COMPLAINTS_DATABASE_URL", f"mysql://complaints:{DB_PASSWORD}@db/x", DB_PASSWORD),
        ("COMPLAINTS_DATABASE_URL", f"::{DB_PASSWORD}::", DB_PASSWORD),
        ("COMPLAINTS_IMAP__PASSWORD", f"{{{IMAP_PASSWORD}", IMAP_PASSWORD),
    ],
)
def test_a_bad_setting_is_named_without_echoing_a_secret(
    name: str,
    value: str,
    secret: str,
    *,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    set_secrets(monkeypatch, tmp_path, log_json=False)
    monkeypatch.setenv(name, value)
    monkeypatch.setenv("COMPLAINTS_TELEGRAM__MODE", "carrier-pigeon")  # another bad setting
    assert main(["db", "upgrade"]) == 2
    out, err = capfd.readouterr()
    assert "COMPLAINTS_TELEGRAM__MODE" in err
    assert secret not in out + err
    assert_no_secrets(out + err)


async def raw_post(port: int, path: str, headers: bytes, body: bytes) -> int:
    """POST with header bytes as given (clients refuse non-ASCII values); return the status."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            b"POST " + path.encode() + b" HTTP/1.1\r\nHost: bot.example.test\r\n"
            b"Content-Type: application/json\r\nConnection: close\r\n"
            + headers
            + b"Content-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )
        await writer.drain()
        status_line = await reader.readline()
        return int(status_line.split()[1])
    finally:
        writer.close()
        await writer.wait_closed()


async def test_a_webhook_secret_with_non_ascii_bytes_is_refused_as_wrong(
    fake: FakeTelegram, database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(
        fake,
        database_url,
        tmp_path,
        mode="webhook",
        webhook_url="https://bot.example.test/telegram/webhook",
        webhook_secret=WEBHOOK_SECRET,
        webhook_port=0,
    )
    async with asyncio.timeout(BOUND), running(settings) as app:
        await fake.wait_for(lambda: fake.webhook is not None, timeout=10)
        status = await raw_post(
            app_channel(app).webhook_port,
            "/telegram/webhook",
            "X-Telegram-Bot-Api-Secret-Token: s\u00e9cret\r\n".encode(),
            b'{"update_id": 1}',
        )
    assert status == 401
