"""Tests for the recording SMTP server, driven by aiosmtplib as the product sends mail."""

from __future__ import annotations

import asyncio
import gc
import socket
import time
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import pytest
from aiosmtplib import SMTPResponse

from tests.support.smtp import RecordedMail, SmtpRecorder

TIMEOUT = 5.0


def _message(to: str = "resident@example.test", subject: str = "Your complaint") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "complaints@example.test"
    message["To"] = to
    message["Subject"] = subject
    message.set_content("We have your complaint.\n.\nA line that is only a dot, above.\n")
    return message


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def smtp() -> Iterator[SmtpRecorder]:
    with SmtpRecorder() as recorder:
        yield recorder


async def _send(
    smtp: SmtpRecorder, message: EmailMessage, **kwargs: Any
) -> tuple[dict[str, SMTPResponse], str]:
    return await aiosmtplib.send(
        message, hostname=smtp.host, port=smtp.port, timeout=TIMEOUT, **kwargs
    )


def test_lifecycle() -> None:
    recorder = SmtpRecorder()
    assert recorder.port == 0
    started = time.monotonic()
    with recorder:
        startup = time.monotonic() - started
        port = recorder.port
        assert recorder.host == "127.0.0.1"
        up_inside = recorder.is_up
        assert _port_open(port)
        with pytest.raises(RuntimeError, match="twice"):
            recorder.start()
    assert startup < 2
    assert (up_inside, recorder.is_up) == (True, False)
    assert not _port_open(port)
    recorder.stop()  # idempotent
    gc.collect()  # a leaked loop or transport would warn here, and warnings are errors


async def test_sent_mail_is_recorded(smtp: SmtpRecorder) -> None:
    errors, reply = await _send(smtp, _message(), recipients=["a@example.test", "b@example.test"])
    assert errors == {}
    assert reply.startswith("2.0.0")

    [mail] = await smtp.wait_for(1, timeout=TIMEOUT)
    assert isinstance(mail, RecordedMail)
    assert mail.mail_from == "complaints@example.test"
    assert mail.rcpt_tos == ["a@example.test", "b@example.test"]
    assert mail.login is None
    assert mail.message["Subject"] == "Your complaint"
    assert mail.message.get_content() == (
        "We have your complaint.\n.\nA line that is only a dot, above.\n"
    )
    assert b"\r\n.\r\n" in mail.data  # dot-stuffing undone
    assert smtp.messages == [mail]


async def test_wait_for_times_out_with_what_arrived(smtp: SmtpRecorder) -> None:
    await _send(smtp, _message(subject="only one"))
    started = time.monotonic()
    with pytest.raises(TimeoutError, match=r"expected 2 message\(s\).*got 1.*only one"):
        await smtp.wait_for(2, timeout=0.2)
    assert time.monotonic() - started < 1


async def test_wait_for_sees_mail_sent_meanwhile(smtp: SmtpRecorder) -> None:
    waiter = asyncio.ensure_future(smtp.wait_for(2, timeout=TIMEOUT))
    await _send(smtp, _message(subject="one"))
    await _send(smtp, _message(subject="two"))
    arrived = await waiter
    assert [mail.message["Subject"] for mail in arrived] == ["one", "two"]


async def test_refused_recipient(smtp: SmtpRecorder) -> None:
    smtp.refuse("Gone@Example.test")
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
        await _send(smtp, _message(to="gone@example.test"))
    [recipient] = refused.value.recipients
    assert (recipient.code, recipient.message) == (550, "5.1.1 user unknown")

    # With another, good recipient the message goes, and the refusal is reported.
    errors, _ = await _send(smtp, _message(), recipients=["gone@example.test", "ok@example.test"])
    assert errors == {"gone@example.test": (550, "5.1.1 user unknown")}
    [mail] = await smtp.wait_for(1, timeout=TIMEOUT)
    assert mail.rcpt_tos == ["ok@example.test"]


async def test_refusal_with_a_temporary_code(smtp: SmtpRecorder) -> None:
    smtp.refuse("busy@example.test", code=450, text="4.2.1 mailbox busy")
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
        await _send(smtp, _message(to="busy@example.test"))
    assert refused.value.recipients[0].code == 450


async def test_temporary_failures_then_success(smtp: SmtpRecorder) -> None:
    smtp.temporarily_fail(2)
    for _ in range(2):
        with pytest.raises(aiosmtplib.SMTPDataError) as failed:
            await _send(smtp, _message())
        assert failed.value.code == 451
    assert smtp.messages == []
    await _send(smtp, _message(subject="third time lucky"))
    [mail] = await smtp.wait_for(1, timeout=TIMEOUT)
    assert mail.message["Subject"] == "third time lucky"


async def test_down_and_up_on_the_same_port(smtp: SmtpRecorder) -> None:
    port = smtp.port
    connected = aiosmtplib.SMTP(hostname=smtp.host, port=port, timeout=TIMEOUT)
    await connected.connect()

    smtp.down()
    smtp.down()  # idempotent
    assert not smtp.is_up
    assert smtp.port == port
    # An open connection is dropped; new ones are refused.
    with pytest.raises(aiosmtplib.SMTPServerDisconnected):
        await connected.noop()
    with pytest.raises(aiosmtplib.SMTPConnectError):
        await _send(smtp, _message())

    smtp.up()
    smtp.up()  # idempotent
    assert smtp.port == port
    await _send(smtp, _message(subject="back"))
    [mail] = await smtp.wait_for(1, timeout=TIMEOUT)
    assert mail.message["Subject"] == "back"


def test_up_before_start_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="before start"):
        SmtpRecorder().up()


async def test_auth_required_and_checked() -> None:
    with SmtpRecorder(username="bot@example.test", password="s3cret") as smtp:
        assert smtp.requires_auth
        with pytest.raises(aiosmtplib.SMTPSenderRefused) as refused:
            await _send(smtp, _message())
        assert refused.value.code == 530

        started = time.monotonic()
        with pytest.raises(aiosmtplib.SMTPAuthenticationError) as failed:
            await _send(smtp, _message(), username="bot@example.test", password="wrong")
        assert failed.value.code == 535
        assert time.monotonic() - started < 2  # answered at once, not left to time out

        for mechanism in ("PLAIN", "LOGIN"):
            client = aiosmtplib.SMTP(hostname=smtp.host, port=smtp.port, timeout=TIMEOUT)
            async with client:
                await client.ehlo()  # auth_plain() and auth_login() do not send it themselves
                if mechanism == "PLAIN":
                    await client.auth_plain("bot@example.test", "s3cret")
                else:
                    await client.auth_login("bot@example.test", "s3cret")
                await client.send_message(_message(subject=mechanism))
        arrived = await smtp.wait_for(2, timeout=TIMEOUT)
    assert [(mail.message["Subject"], mail.login) for mail in arrived] == [
        ("PLAIN", "bot@example.test"),
        ("LOGIN", "bot@example.test"),
    ]


def test_credentials_come_in_pairs() -> None:
    with pytest.raises(ValueError, match="both"):
        SmtpRecorder(username="only-a-name")
