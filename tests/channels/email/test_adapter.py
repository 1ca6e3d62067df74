"""The email channel end to end: the real bot (``Application.run``, the code path of
``complaints-bot run``) against a private Dovecot (IMAP) and an in-process aiosmtpd (SMTP)."""

from __future__ import annotations

import asyncio
import imaplib
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.app import Application
from channels.email.adapter import (
    EmailChannel,
    FetchedMail,
    LoginRefusedError,
    MailboxMissingError,
    parse_fetch,
    uid_set,
)
from conversations.envelopes import InboundMessage
from conversations.wording import Wording
from core.clock import LONDON, ShiftedClock
from core.complaints.enums import EventKind
from core.db.store import Store
from core.references import find_references
from core.settings import Settings, load_settings
from tests.support.dovecot import Mailbox
from tests.support.smtp import RecordedMail, SmtpRecorder

ADDRESS = "complaints@riverside.example"
TEAM = "team@riverside.example"
SAM = "sam@example.org"
BOUND = 30.0  # seconds any one test may take
START = datetime(2025, 12, 23, 10, 0, tzinfo=LONDON)
"""Tuesday 23 December 2025: the acknowledgement's dates cross Christmas and New Year."""

COMPLAINT = (
    "I want to complain. My boiler has been broken since 1 December and the engineer "
    "never came to the flat at 4 Oak House. I would like it fixed and an apology."
)


def email(
    text: str,
    *,
    sender: str = SAM,
    subject: str = "My boiler",
    in_reply_to: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[str, bytes]:
    """Return a new email's Message-ID and bytes."""
    mail = EmailMessage()
    mail["From"] = f"Sam Smith <{sender}>"
    mail["To"] = ADDRESS
    mail["Subject"] = subject
    mail["Date"] = format_datetime(datetime.now(LONDON))
    message_id = make_msgid(domain="example.org")
    mail["Message-ID"] = message_id
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
        mail["References"] = in_reply_to
    for name, value in (headers or {}).items():
        mail[name] = value
    mail.set_content(text)
    return message_id, mail.as_bytes()


def settings_for(
    mailbox: Mailbox, smtp: SmtpRecorder, database_url: str, tmp_path: Path, **email: Any
) -> Settings:
    return load_settings(
        database_url=database_url,
        data_dir=tmp_path,
        imap={
            "host": mailbox.host,
            "port": mailbox.port,
            "username": mailbox.user,
            "password": mailbox.password,
            "ssl": False,
        },
        smtp={"host": smtp.host, "port": smtp.port, "starttls": False, "messages_per_second": 500},
        email={"address": ADDRESS, **email},
        staff={"email": TEAM},
        scheduler={"interval_seconds": 3600, "digest_at": "23:59"},
    )


@asynccontextmanager
async def running(settings: Settings, clock: ShiftedClock) -> AsyncIterator[Application]:
    """Run the bot as ``complaints-bot run`` does, until the block ends."""
    app = Application(settings, clock=clock)
    stop = asyncio.Event()
    task = asyncio.create_task(app.run(stop, out=io.StringIO()))
    try:
        yield app
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)
        await app.aclose()


def to(smtp: SmtpRecorder, address: str) -> list[RecordedMail]:
    return [m for m in smtp.messages if address in m.rcpt_tos]


def body(mail: RecordedMail) -> str:
    part = mail.message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


async def until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.05)


def mark_all_unseen(mailbox: Mailbox) -> None:
    with imaplib.IMAP4(mailbox.host, mailbox.port, timeout=10) as client:
        client.login(mailbox.user, mailbox.password)
        client.select("INBOX")
        client.uid("STORE", "1:*", "-FLAGS", r"(\Seen)")


async def seen_all(mailbox: Mailbox) -> None:
    await until(lambda: mailbox.count_unseen() == 0)


@pytest.fixture
def clock() -> ShiftedClock:
    """Time from 10:00 on 23 December 2025, running (rate limits pass as they would)."""
    return ShiftedClock(START)


# --------------------------------------------------------------------------- pure helpers


def test_uid_sets_collapse_runs() -> None:
    assert uid_set([5, 1, 2, 3, 9, 10, 3]) == "1:3,5,9:10"
    assert uid_set([7]) == "7"


def test_a_fetch_response_is_read_whatever_the_order_of_items() -> None:
    lines: list[bytes | bytearray] = [
        b'1 FETCH (UID 41 INTERNALDATE "23-Dec-2025 10:00:00 +0000" BODY[] {5}',
        bytearray(b"first"),
        b")",
        b"2 FETCH (BODY[] {6}",
        bytearray(b"second"),
        b' UID 42 INTERNALDATE "23-Dec-2025 11:30:00 +0100")',
        b"FETCH completed.",
    ]
    fetched = parse_fetch(lines)
    assert [(m.uid, m.raw) for m in fetched] == [(41, b"first"), (42, b"second")]
    assert isinstance(fetched[0], FetchedMail)
    assert fetched[1].arrived_at is not None
    assert fetched[1].arrived_at.utcoffset() == timedelta(hours=1)


# --------------------------------------------------------------------------- end to end


async def test_a_complaint_emailed_in_is_acknowledged_in_its_thread(
    mailbox: Mailbox, smtp: SmtpRecorder, database_url: str, tmp_path: Path, clock: ShiftedClock
) -> None:
    message_id, raw = email(COMPLAINT)
    async with (
        asyncio.timeout(BOUND),
        running(settings_for(mailbox, smtp, database_url, tmp_path), clock),
    ):
        mailbox.append(raw)
        await until(lambda: len(to(smtp, SAM)) == 1 and len(to(smtp, TEAM)) == 1)
        await seen_all(mailbox)
    ack = to(smtp, SAM)[0]
    reference = find_references(str(ack.message["Subject"]))[0]
    assert str(ack.message["Subject"]).startswith(f"[{reference}] ")
    assert ack.message["In-Reply-To"] == message_id
    assert ack.message["Auto-Submitted"] == "auto-replied"
    assert ack.message["From"] == f"Your Landlord complaints <{ADDRESS}>"
    text = body(ack)
    assert reference in text
    assert "boiler" in text  # the bot's understanding, read back
    # Received and acknowledged Tuesday 23 December 2025: 10 working days, skipping 25 and
    # 26 December, the weekends and 1 January, is Friday 9 January 2026 (CHC-6.3).
    assert "Friday 9 January 2026" in text
    assert "Housing Ombudsman" in text and "0300 111 3000" in text
    notice = to(smtp, TEAM)[0]
    assert reference in str(notice.message["Subject"])


async def test_a_reply_lands_on_the_same_complaint(
    mailbox: Mailbox, smtp: SmtpRecorder, database_url: str, tmp_path: Path, clock: ShiftedClock
) -> None:
    async with (
        asyncio.timeout(BOUND),
        running(settings_for(mailbox, smtp, database_url, tmp_path), clock) as app,
    ):
        mailbox.append(email(COMPLAINT)[1])
        await until(lambda: len(to(smtp, SAM)) == 1)
        ack = to(smtp, SAM)[0]
        reference = find_references(str(ack.message["Subject"]))[0]
        reply = (
            "There is also black mould in the bathroom now.\n\n"
            f"On Tue, 23 Dec 2025 at 10:00, Complaints <{ADDRESS}> wrote:\n"
            "> We have logged your complaint.\n"
        )
        mailbox.append(
            email(reply, subject="Re: something else", in_reply_to=str(ack.message["Message-ID"]))[
                1
            ]
        )
        await until(lambda: len(to(smtp, SAM)) == 2)
        await seen_all(mailbox)
        async with app.store.unit_of_work() as uow:
            complaint = await uow.complaints.get_by_reference(reference)
            assert complaint.id is not None
            events = await uow.events.for_complaint(complaint.id)
    inbound = [e.summary for e in events if e.kind == EventKind.MESSAGE_IN]
    assert any("black mould" in s for s in inbound)
    assert not any("We have logged" in s for s in inbound)  # the quoted history was stripped
    assert to(smtp, SAM)[1].message["In-Reply-To"] is not None


async def test_a_stranger_quoting_the_reference_gets_no_details(
    mailbox: Mailbox, smtp: SmtpRecorder, database_url: str, tmp_path: Path, clock: ShiftedClock
) -> None:
    stranger = "kim@elsewhere.example"
    async with (
        asyncio.timeout(BOUND),
        running(settings_for(mailbox, smtp, database_url, tmp_path), clock),
    ):
        mailbox.append(email(COMPLAINT)[1])
        await until(lambda: len(to(smtp, SAM)) == 1)
        ack = to(smtp, SAM)[0]
        reference = find_references(str(ack.message["Subject"]))[0]
        # Even replying in the resident's own thread (a forwarded email) changes nothing.
        mailbox.append(
            email(
                f"What is happening with {reference}?",
                sender=stranger,
                subject=f"Re: [{reference}] We have logged your complaint",
                in_reply_to=str(ack.message["Message-ID"]),
            )[1]
        )
        await until(lambda: len(to(smtp, stranger)) == 1 and len(to(smtp, TEAM)) == 2)
    answer = body(to(smtp, stranger)[0])
    assert "can't find" in answer
    for detail in ("boiler", "Oak House", "9 January"):
        assert detail not in answer
    assert "not one of their complaints" in body(to(smtp, TEAM)[1])


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Precedence": "bulk"},
        {"List-Id": "<tenants.lists.example.org>"},
    ],
    ids=["auto-submitted", "bulk", "list"],
)
async def test_automatic_mail_gets_no_answer(
    headers: dict[str, str],
    *,
    mailbox: Mailbox,
    smtp: SmtpRecorder,
    database_url: str,
    tmp_path: Path,
    clock: ShiftedClock,
) -> None:
    async with (
        asyncio.timeout(BOUND),
        running(settings_for(mailbox, smtp, database_url, tmp_path), clock),
    ):
        mailbox.append(email("I am out of the office until Monday.", headers=headers)[1])
        mailbox.append(email(COMPLAINT, sender="lee@example.org")[1])
        await until(lambda: len(to(smtp, "lee@example.org")) == 1)
        await seen_all(mailbox)
    assert to(smtp, SAM) == []


async def test_mail_from_our_own_address_gets_no_answer(
    mailbox: Mailbox, smtp: SmtpRecorder, database_url: str, tmp_path: Path, clock: ShiftedClock
) -> None:
    async with (
        asyncio.timeout(BOUND),
        running(settings_for(mailbox, smtp, database_url, tmp_path), clock),
    ):
        mailbox.append(email(COMPLAINT, sender=ADDRESS)[1])
        mailbox.append(email(COMPLAINT, sender="lee@example.org")[1])
        await until(lambda: len(to(smtp, "lee@example.org")) == 1)
        await seen_all(mailbox)
    assert to(smtp, ADDRESS) == []


async def test_smtp_down_delays_but_never_loses_the_acknowledgement(
    mailbox: Mailbox, smtp: SmtpRecorder, database_url: str, tmp_path: Path, clock: ShiftedClock
) -> None:
    smtp.down()
    async with (
        asyncio.timeout(BOUND),
        running(settings_for(mailbox, smtp, database_url, tmp_path), clock) as app,
    ):
        mailbox.append(email(COMPLAINT)[1])
        await seen_all(mailbox)

        async def attempted() -> bool:
            async with app.store.unit_of_work() as uow:
                rows = await uow.outbox.claim_due(clock.now() + timedelta(days=1), limit=10)
            return any(r.attempts >= 1 and r.channel == "email" for r in rows)

        async with asyncio.timeout(15):
            while not await attempted():
                await asyncio.sleep(0.1)
        smtp.up()
        clock.advance(timedelta(hours=2))  # past any backoff
        await until(lambda: len(to(smtp, SAM)) == 1 and len(to(smtp, TEAM)) == 1)
        await asyncio.sleep(1.5)  # a dispatcher pass more: nothing is sent twice
    assert len(to(smtp, SAM)) == 1


async def test_an_imap_disconnect_is_survived(
    mailbox: Mailbox, smtp: SmtpRecorder, database_url: str, tmp_path: Path, clock: ShiftedClock
) -> None:
    async with (
        asyncio.timeout(BOUND),
        running(settings_for(mailbox, smtp, database_url, tmp_path), clock) as app,
    ):
        await until(lambda: "email" in app.running_channels)
        channel = app.running_channels["email"]
        assert isinstance(channel, EmailChannel)
        await until(lambda: channel.connected)
        mailbox.kick()
        await until(lambda: not channel.connected)
        mailbox.append(email(COMPLAINT)[1])
        await until(lambda: len(to(smtp, SAM)) == 1, timeout=20)
        await seen_all(mailbox)


async def test_a_restart_reprocesses_nothing_twice(
    mailbox: Mailbox, smtp: SmtpRecorder, database_url: str, tmp_path: Path, clock: ShiftedClock
) -> None:
    settings = settings_for(mailbox, smtp, database_url, tmp_path)
    async with asyncio.timeout(BOUND):
        async with running(settings, clock):
            mailbox.append(email(COMPLAINT)[1])
            await until(lambda: len(to(smtp, SAM)) == 1)
            await seen_all(mailbox)
        # As if the bot had crashed after committing and before marking the email seen.
        mark_all_unseen(mailbox)
        assert mailbox.count_unseen() == 1
        async with running(settings, clock):
            await seen_all(mailbox)
            await asyncio.sleep(1.5)  # a dispatcher pass: nothing new to send
    assert len(to(smtp, SAM)) == 1


async def test_unreadable_mail_goes_to_dead_letters_and_staff_are_told(
    mailbox: Mailbox, smtp: SmtpRecorder, database_url: str, tmp_path: Path, clock: ShiftedClock
) -> None:
    async with (
        asyncio.timeout(BOUND),
        running(settings_for(mailbox, smtp, database_url, tmp_path), clock) as app,
    ):
        mailbox.append(b"Subject: no sender\r\n\r\nThe boiler is broken.\r\n")
        mailbox.append(email(COMPLAINT)[1])  # the loop goes on after it
        await until(lambda: len(to(smtp, SAM)) == 1 and len(to(smtp, TEAM)) == 2)
        await seen_all(mailbox)
        async with app.store.unit_of_work() as uow:
            letters = await uow.dead_letters.unresolved()
    assert [letter.source for letter in letters] == ["email"]
    assert b"The boiler is broken." in letters[0].payload
    notices = [body(m) for m in to(smtp, TEAM)]
    assert any("could not be read" in n and "\nReason: " in n for n in notices)


async def test_a_refused_recipient_goes_to_dead_letters_and_staff_are_told(
    mailbox: Mailbox, smtp: SmtpRecorder, database_url: str, tmp_path: Path, clock: ShiftedClock
) -> None:
    smtp.refuse(SAM)
    async with (
        asyncio.timeout(BOUND),
        running(settings_for(mailbox, smtp, database_url, tmp_path), clock) as app,
    ):
        mailbox.append(email(COMPLAINT)[1])
        await until(lambda: len(to(smtp, TEAM)) == 2)
        async with app.store.unit_of_work() as uow:
            letters = await uow.dead_letters.unresolved()
    assert len(letters) == 1
    assert "550" in letters[0].reason
    assert any("dead-letter" in body(m) for m in to(smtp, TEAM))


async def test_attachments_are_kept_and_oversized_ones_explained(
    mailbox: Mailbox, smtp: SmtpRecorder, database_url: str, tmp_path: Path, clock: ShiftedClock
) -> None:
    mail = EmailMessage()
    mail["From"] = SAM
    mail["To"] = ADDRESS
    mail["Subject"] = "Photos of the damp"
    mail["Message-ID"] = make_msgid(domain="example.org")
    mail.set_content(COMPLAINT)
    mail.add_attachment(b"\xff\xd8small-photo", maintype="image", subtype="jpeg", filename="a.jpg")
    mail.add_attachment(b"x" * 5000, maintype="application", subtype="pdf", filename="big.pdf")
    settings = settings_for(mailbox, smtp, database_url, tmp_path, max_attachment_bytes=1000)
    async with asyncio.timeout(BOUND), running(settings, clock):
        mailbox.append(mail.as_bytes())
        await until(lambda: len(to(smtp, SAM)) == 3)  # acknowledgement, evidence, too large
    texts = [body(m) for m in to(smtp, SAM)]
    assert any("big.pdf" in t and "too large" in t for t in texts)
    saved = list((tmp_path / "evidence" / "email").rglob("*a.jpg"))
    assert len(saved) == 1
    assert saved[0].read_bytes() == b"\xff\xd8small-photo"
    assert not list((tmp_path / "evidence" / "email").rglob("*big.pdf"))


async def test_a_backlog_is_worked_through_in_batches_exactly_once(
    mailbox: Mailbox, smtp: SmtpRecorder, database_url: str, tmp_path: Path, clock: ShiftedClock
) -> None:
    count = 60
    senders = [f"resident{n}@example.org" for n in range(count)]
    mailbox.append_many([email(COMPLAINT, sender=s)[1] for s in senders])
    settings = settings_for(mailbox, smtp, database_url, tmp_path, batch_size=25)
    async with asyncio.timeout(60), running(settings, clock):
        await until(lambda: all(to(smtp, s) for s in senders), timeout=55)
        await seen_all(mailbox)
    assert sorted(a for m in smtp.messages for a in m.rcpt_tos if a != TEAM) == sorted(senders)


async def test_a_runaway_exchange_is_stopped_and_staff_told(
    mailbox: Mailbox, smtp: SmtpRecorder, database_url: str, tmp_path: Path, clock: ShiftedClock
) -> None:
    """A robot that answers without marking its mail automatic: the hourly limit holds it."""
    robot = "robot@example.net"
    settings = settings_for(mailbox, smtp, database_url, tmp_path, max_replies_per_hour=2)
    async with (
        asyncio.timeout(BOUND),
        running(settings, clock) as app,
    ):
        for n in range(3):
            mailbox.append(email(f"Ticket {n} received", sender=robot)[1])
            expected = min(n + 1, 2)
            await until(lambda: len(to(smtp, robot)) == expected)  # noqa: B023
            await seen_all(mailbox)

        await until(lambda: any("mail loop" in body(m) for m in to(smtp, TEAM)))
        async with app.store.unit_of_work() as uow:
            letters = await uow.dead_letters.unresolved()
    assert len(letters) == 1
    assert "mail loop" in letters[0].reason
    assert len(to(smtp, robot)) == 2
    assert any("mail loop" in body(m) for m in to(smtp, TEAM))


# --------------------------------------------------------------------------- the channel alone


def channel_for(settings: Settings, store: Store, clock: ShiftedClock) -> EmailChannel:
    return EmailChannel(
        imap=settings.imap,
        smtp=settings.smtp,
        email=settings.email,
        staff=settings.staff,
        store=store,
        clock=clock,
        wording=Wording(landlord=settings.landlord, ombudsman=settings.ombudsman),
        evidence_dir=settings.data_dir / "evidence",
        landlord=settings.landlord.name,
    )


@asynccontextmanager
async def listening(
    channel: EmailChannel, on_message: Callable[[InboundMessage], Awaitable[None]]
) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(channel.start(on_message))
    try:
        yield task
    finally:
        await channel.stop()
        await asyncio.wait_for(task, timeout=10)


async def test_without_idle_the_mailbox_is_polled(
    mailbox: Mailbox, smtp: SmtpRecorder, store: Store, tmp_path: Path, clock: ShiftedClock
) -> None:
    settings = settings_for(
        mailbox, smtp, "sqlite+aiosqlite://", tmp_path, poll_interval_seconds=0.2
    )
    settings = settings.model_copy(
        update={"imap": settings.imap.model_copy(update={"idle": False})}
    )
    received: list[InboundMessage] = []

    async def collect(message: InboundMessage) -> None:
        received.append(message)

    channel = channel_for(settings, store, clock)
    async with asyncio.timeout(BOUND), listening(channel, collect):
        await until(lambda: channel.connected)
        message_id, raw = email(COMPLAINT)
        mailbox.append(raw)
        await until(lambda: len(received) == 1)
        await seen_all(mailbox)
    assert channel.idle_supported  # the server has IDLE; the setting turned it off
    assert received[0].message_id == f"{message_id} {SAM}"  # keyed with its sender
    assert received[0].sender == SAM
    assert received[0].sender_name == "Sam Smith"
    assert "boiler" in received[0].text


async def test_an_email_the_engine_keeps_failing_on_is_set_aside(
    mailbox: Mailbox, smtp: SmtpRecorder, store: Store, tmp_path: Path, clock: ShiftedClock
) -> None:
    """One bad email never blocks the mailbox: after three failures it is a dead letter."""
    settings = settings_for(mailbox, smtp, "sqlite+aiosqlite://", tmp_path)
    attempts: list[str] = []
    handled: list[str] = []

    async def fragile(message: InboundMessage) -> None:
        if "poison" in message.text:
            attempts.append(message.message_id)
            raise RuntimeError("a bug")
        handled.append(message.message_id)

    channel = channel_for(settings, store, clock)
    monkey = pytest.MonkeyPatch()
    monkey.setattr("channels.email.adapter.RETRY_UNHANDLED_SECONDS", 0.1)
    try:
        async with asyncio.timeout(BOUND), listening(channel, fragile):
            mailbox.append(email("poison pill")[1])
            mailbox.append(email(COMPLAINT, sender="lee@example.org")[1])
            await until(lambda: len(attempts) == 3 and len(handled) == 1)
            await seen_all(mailbox)
    finally:
        monkey.undo()
    async with store.unit_of_work() as uow:
        letters = await uow.dead_letters.unresolved()
        notice = await uow.outbox.get_by_key(f"email:{attempts[0]}:dead")
    assert [letter.reason for letter in letters] == ["RuntimeError: a bug"]
    assert notice is not None and notice.channel == "staff"


async def test_a_wrong_password_at_start_stops_with_a_clear_error(
    mailbox: Mailbox, smtp: SmtpRecorder, store: Store, tmp_path: Path, clock: ShiftedClock
) -> None:
    settings = settings_for(mailbox, smtp, "sqlite+aiosqlite://", tmp_path)
    settings = settings.model_copy(
        update={"imap": settings.imap.model_copy(update={"password": SecretStr("wrong")})}
    )
    channel = channel_for(settings, store, clock)

    async def ignore(message: InboundMessage) -> None:
        raise AssertionError("nothing to receive")

    with pytest.raises(LoginRefusedError, match="COMPLAINTS_IMAP__PASSWORD"):
        await asyncio.wait_for(channel.start(ignore), timeout=BOUND)
    await channel.stop()


async def test_mail_arriving_while_the_mailbox_is_worked_through_is_not_left_waiting(
    mailbox: Mailbox, smtp: SmtpRecorder, store: Store, tmp_path: Path, clock: ShiftedClock
) -> None:
    """News of mail that lands during a batch is lost in aioimaplib; a new search finds it."""
    settings = settings_for(mailbox, smtp, "sqlite+aiosqlite://", tmp_path)
    received: list[str] = []

    async def handle(message: InboundMessage) -> None:
        if not received:
            await asyncio.to_thread(mailbox.append, email("second", sender="lee@example.org")[1])
        received.append(message.sender)

    channel = channel_for(settings, store, clock)
    async with asyncio.timeout(BOUND), listening(channel, handle):
        mailbox.append(email("first")[1])
        await until(lambda: len(received) == 2, timeout=5)
    assert received == [SAM, "lee@example.org"]


async def test_two_senders_sharing_a_message_id_are_both_answered(
    mailbox: Mailbox, smtp: SmtpRecorder, database_url: str, tmp_path: Path, clock: ShiftedClock
) -> None:
    """A Message-ID is the sender's choice: a copied one must not silence someone's mail."""
    shared = "<same-id@example.org>"
    first = email(COMPLAINT)[1].replace(b"Message-ID: <", b"X-Old-ID: <", 1)
    second = email(COMPLAINT, sender="lee@example.org")[1].replace(
        b"Message-ID: <", b"X-Old-ID: <", 1
    )
    async with (
        asyncio.timeout(BOUND),
        running(settings_for(mailbox, smtp, database_url, tmp_path), clock),
    ):
        mailbox.append(f"Message-ID: {shared}\r\n".encode() + first)
        mailbox.append(f"Message-ID: {shared}\r\n".encode() + second)
        await until(lambda: len(to(smtp, SAM)) == 1 and len(to(smtp, "lee@example.org")) == 1)
    assert to(smtp, SAM)[0].message["In-Reply-To"] == shared


def test_an_unsolicited_flags_update_does_not_hide_a_message() -> None:
    lines: list[bytes | bytearray] = [
        b"7 FETCH (FLAGS (\\Seen))",
        b'8 FETCH (UID 44 INTERNALDATE "23-Dec-2025 10:00:00 +0000" BODY[] {5}',
        bytearray(b"hello"),
        b")",
        b"Fetch completed.",
    ]
    assert [(m.uid, m.raw) for m in parse_fetch(lines)] == [(44, b"hello")]


async def test_a_wrong_mailbox_name_at_start_stops_with_a_clear_error(
    mailbox: Mailbox, smtp: SmtpRecorder, store: Store, tmp_path: Path, clock: ShiftedClock
) -> None:
    settings = settings_for(mailbox, smtp, "sqlite+aiosqlite://", tmp_path)
    settings = settings.model_copy(
        update={"imap": settings.imap.model_copy(update={"mailbox": "Complaints"})}
    )
    channel = channel_for(settings, store, clock)

    async def ignore(message: InboundMessage) -> None:
        raise AssertionError("nothing to receive")

    with pytest.raises(MailboxMissingError, match="COMPLAINTS_IMAP__MAILBOX"):
        await asyncio.wait_for(channel.start(ignore), timeout=BOUND)
    await channel.stop()
