"""The outbox dispatcher on SQLite and PostgreSQL, with recording channels.

Time only moves when a test moves the frozen clock; retries, ``retry_after`` and rate limits are
all measured on it, never on the wall clock.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from datetime import timedelta

import pytest

from bot.dispatcher import (
    LEASE,
    RETRY_BASE_SECONDS,
    RETRY_CAP_SECONDS,
    UNCONFIGURED_RETRY,
    Dispatcher,
)
from channels.base import Channel, OnMessage, jittered_backoff
from channels.terminal import TerminalChannel
from conversations.envelopes import STAFF_CHANNEL, OutboundKind, OutboundMessage
from core.clock import FrozenClock
from core.db.store import Store
from core.errors import (
    ChannelError,
    PermanentChannelError,
    RecipientUnreachableError,
    TemporaryChannelError,
)
from core.outbox.models import OutboxMessage, OutboxStatus
from tests.conftest import Services


class RecordingChannel(Channel):
    """Keeps what it is asked to send; raises the given errors first, one per send."""

    name = "recording"

    def __init__(self, *failures: ChannelError | Exception) -> None:
        self.failures = list(failures)
        self.sent: list[OutboundMessage] = []
        self.attempts = 0

    async def start(self, on_message: OnMessage) -> None:
        return None

    async def send(self, message: OutboundMessage) -> str | None:
        self.attempts += 1
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)
        return f"sent-{len(self.sent)}"

    async def stop(self) -> None:
        return None

    @property
    def texts(self) -> list[str]:
        return [m.text for m in self.sent]


async def queue(
    store: Store,
    services: Services,
    text: str,
    *,
    channel: str = "telegram",
    recipient: str = "1001",
    kind: OutboundKind = OutboundKind.REPLY,
    urgent: bool = False,
) -> str:
    """Queue a message as the engine would; return its idempotency key."""
    message = OutboundMessage(
        channel=channel, recipient=recipient, text=text, kind=kind, urgent=urgent
    )
    key = f"{channel}:{recipient}:{text}"
    async with store.unit_of_work() as uow:
        assert await services.outbox.enqueue(
            uow,
            channel=channel,
            address=recipient,
            kind=kind.value,
            payload=message.model_dump(mode="json"),
            idempotency_key=key,
        )
    return key


async def row(store: Store, key: str) -> OutboxMessage:
    async with store.unit_of_work() as uow:
        found = await uow.outbox.get_by_key(key)
    assert found is not None
    return found


async def pending_count(store: Store) -> int:
    async with store.unit_of_work() as uow:
        return await uow.outbox.depth()


def test_jittered_backoff_stays_within_its_exponential_ceiling() -> None:
    for attempt, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (6, 50.0), (5000, 50.0)]:
        delays = [jittered_backoff(attempt, base=2.0, cap=50.0) for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jittered, not fixed
    with pytest.raises(ValueError, match="attempt"):
        jittered_backoff(0)


def test_rate_limits_must_be_positive(store: Store, clock: FrozenClock) -> None:
    with pytest.raises(ValueError, match="telegram"):
        Dispatcher(store=store, clock=clock, channels={}, rate_limits={"telegram": 0})


async def test_sends_due_messages_once_and_marks_them_sent(
    store: Store, clock: FrozenClock, services: Services
) -> None:
    telegram = RecordingChannel()
    first = await queue(store, services, "Your reference is C-1")
    second = await queue(store, services, "We will reply by 8 January", recipient="1002")
    dispatcher = Dispatcher(store=store, clock=clock, channels={"telegram": telegram})

    assert await dispatcher.dispatch_once() == 2
    assert await dispatcher.dispatch_once() == 0

    assert telegram.texts == ["Your reference is C-1", "We will reply by 8 January"]
    assert [m.recipient for m in telegram.sent] == ["1001", "1002"]
    for key in (first, second):
        sent = await row(store, key)
        assert (sent.status, sent.attempts, sent.sent_at) == (OutboxStatus.SENT, 1, clock.now())
    assert await pending_count(store) == 0


async def test_a_temporary_failure_is_retried_later_with_backoff(
    store: Store, clock: FrozenClock, services: Services
) -> None:
    telegram = RecordingChannel(TemporaryChannelError("timed out"))
    key = await queue(store, services, "Hello")
    dispatcher = Dispatcher(store=store, clock=clock, channels={"telegram": telegram})

    assert await dispatcher.dispatch_once() == 0
    failed = await row(store, key)
    assert (failed.status, failed.attempts, failed.last_error) == (
        OutboxStatus.PENDING,
        1,
        "timed out",
    )
    assert (
        clock.now() <= failed.next_attempt_at <= clock.now() + timedelta(seconds=RETRY_BASE_SECONDS)
    )

    clock.advance(timedelta(seconds=RETRY_BASE_SECONDS + 1))
    assert await dispatcher.dispatch_once() == 1
    sent = await row(store, key)
    assert (sent.status, sent.attempts, sent.last_error) == (OutboxStatus.SENT, 2, None)
    assert telegram.texts == ["Hello"]


async def test_retry_after_is_respected_and_slows_the_whole_channel(
    store: Store, clock: FrozenClock, services: Services
) -> None:
    telegram = RecordingChannel(TemporaryChannelError("too many requests", retry_after=600))
    first = await queue(store, services, "One")
    second = await queue(store, services, "Two")
    dispatcher = Dispatcher(store=store, clock=clock, channels={"telegram": telegram})

    assert await dispatcher.dispatch_once() == 0
    assert telegram.attempts == 1  # "Two" was not even tried: the channel asked to wait
    assert (await row(store, first)).next_attempt_at == clock.now() + timedelta(seconds=600)
    assert (await row(store, second)).attempts == 0

    clock.advance(timedelta(seconds=599))
    assert await dispatcher.dispatch_once() == 0
    assert telegram.attempts == 1

    clock.advance(timedelta(seconds=1))
    assert await dispatcher.dispatch_once() == 2
    assert sorted(telegram.texts) == ["One", "Two"]


async def test_a_permanent_failure_is_dead_lettered_and_staff_are_told(
    store: Store, clock: FrozenClock, services: Services
) -> None:
    telegram = RecordingChannel(PermanentChannelError("bot was blocked by the user"))
    staff_chat = RecordingChannel()
    key = await queue(store, services, "We have logged your complaint C-7")
    dispatcher = Dispatcher(
        store=store,
        clock=clock,
        channels={"telegram": telegram, "staff-chat": staff_chat},
        staff_channels=["staff-chat"],
    )

    assert await dispatcher.dispatch_once() == 0
    dead = await row(store, key)
    assert dead.status == OutboxStatus.DEAD
    assert dead.last_error == "telegram: bot was blocked by the user"
    async with store.unit_of_work() as uow:
        letters = await uow.dead_letters.unresolved()
        notice = await uow.outbox.get_by_key(f"dead-letter:outbox:{dead.id}")
    assert [(d.source, d.external_id, d.reason) for d in letters] == [
        ("outbox", str(dead.id), "telegram: bot was blocked by the user")
    ]
    assert json.loads(letters[0].payload) == dead.payload
    assert notice is not None
    assert (notice.channel, notice.kind, notice.status) == (
        STAFF_CHANNEL,
        "staff_notice",
        OutboxStatus.PENDING,
    )

    # The notice goes out on the next pass, to the staff channel.
    assert await dispatcher.dispatch_once() == 1
    [told] = staff_chat.sent
    assert told.kind == OutboundKind.STAFF_NOTICE
    assert told.text.startswith("A message could not be sent")
    assert f"Outbox message {dead.id}" in told.text
    assert "bot was blocked by the user" in told.text
    assert telegram.attempts == 1


async def test_a_message_that_keeps_failing_is_given_up_after_max_attempts(
    store: Store, clock: FrozenClock, services: Services
) -> None:
    email = RecordingChannel(*(TemporaryChannelError(f"451 try {n}") for n in range(1, 10)))
    key = await queue(store, services, "Update on C-9", channel="email", recipient="r@x.test")
    dispatcher = Dispatcher(store=store, clock=clock, channels={"email": email}, max_attempts=3)

    for attempt in (1, 2):
        assert await dispatcher.dispatch_once() == 0
        assert (await row(store, key)).attempts == attempt
        assert (await row(store, key)).status == OutboxStatus.PENDING
        clock.advance(timedelta(seconds=RETRY_CAP_SECONDS))
    assert await dispatcher.dispatch_once() == 0

    dead = await row(store, key)
    assert (dead.status, dead.attempts) == (OutboxStatus.DEAD, 3)
    assert dead.last_error == "failed 3 times; last error: 451 try 3"
    async with store.unit_of_work() as uow:
        assert [d.external_id for d in await uow.dead_letters.unresolved()] == [str(dead.id)]
        assert await uow.outbox.get_by_key(f"dead-letter:outbox:{dead.id}") is not None

    clock.advance(timedelta(days=1))
    assert email.attempts == 3
    assert await dispatcher.dispatch_once() == 0  # the staff notice has no channel here
    assert email.attempts == 3


async def test_a_dead_staff_notice_does_not_notify_staff_again(
    store: Store, clock: FrozenClock, services: Services
) -> None:
    staff_chat = RecordingChannel(PermanentChannelError("chat not found"))
    key = await queue(
        store, services, "New complaint C-3", channel=STAFF_CHANNEL, recipient="staff"
    )
    dispatcher = Dispatcher(
        store=store, clock=clock, channels={"staff-chat": staff_chat}, staff_channels=["staff-chat"]
    )

    assert await dispatcher.dispatch_once() == 0
    assert (await row(store, key)).status == OutboxStatus.DEAD
    async with store.unit_of_work() as uow:
        assert len(await uow.dead_letters.unresolved()) == 1
        assert await uow.outbox.depth() == 0


async def test_staff_notices_fan_out_to_every_staff_channel(
    store: Store, clock: FrozenClock, services: Services
) -> None:
    telegram, email = RecordingChannel(), RecordingChannel()
    key = await queue(
        store,
        services,
        "Urgent: resident reports a gas smell",
        channel=STAFF_CHANNEL,
        recipient="staff",
        kind=OutboundKind.STAFF_NOTICE,
        urgent=True,
    )
    dispatcher = Dispatcher(
        store=store,
        clock=clock,
        channels={"telegram": telegram, "email": email},
        staff_channels=("telegram", "email"),
    )

    assert await dispatcher.dispatch_once() == 1
    assert [(m.channel, m.recipient, m.urgent) for m in telegram.sent + email.sent] == [
        ("telegram", "staff", True),
        ("email", "staff", True),
    ]
    assert (await row(store, key)).status == OutboxStatus.SENT


async def test_a_staff_notice_is_not_sent_twice_where_it_already_arrived(
    store: Store, clock: FrozenClock, services: Services
) -> None:
    telegram = RecordingChannel()
    email = RecordingChannel(TemporaryChannelError("connection refused"))
    key = await queue(
        store,
        services,
        "Resident asks for a person",
        channel=STAFF_CHANNEL,
        recipient="staff",
        kind=OutboundKind.STAFF_NOTICE,
    )
    dispatcher = Dispatcher(
        store=store,
        clock=clock,
        channels={"telegram": telegram, "email": email},
        staff_channels=("telegram", "email"),
    )

    # The notice reached Telegram: it is sent there, and waits for email in a row of its own,
    # which any dispatcher running email may retry (no process has to remember anything).
    assert await dispatcher.dispatch_once() == 1
    assert (await row(store, key)).status == OutboxStatus.SENT
    missed = await row(store, f"{key}:to:email")
    assert (missed.channel, missed.address, missed.kind) == ("email", "staff", "staff_notice")
    assert (missed.status, missed.attempts, missed.last_error) == (
        OutboxStatus.PENDING,
        1,
        "connection refused",
    )

    other = Dispatcher(
        store=store,
        clock=clock,
        channels={"telegram": telegram, "email": email},
        staff_channels=("telegram", "email"),
    )
    clock.advance(timedelta(seconds=RETRY_BASE_SECONDS + 1))
    assert await other.dispatch_once() == 1
    assert len(telegram.sent) == 1
    assert [(m.channel, m.recipient, m.kind) for m in email.sent] == [
        ("email", "staff", OutboundKind.STAFF_NOTICE)
    ]
    assert email.attempts == 2
    assert (await row(store, f"{key}:to:email")).status == OutboxStatus.SENT


async def test_staff_notices_reach_the_terminal_staff_stream(
    store: Store, clock: FrozenClock, services: Services
) -> None:
    output, staff_output = io.StringIO(), io.StringIO()
    terminal = TerminalChannel(
        user="alice",
        input_stream=io.StringIO(""),
        output=output,
        clock=clock,
        interactive=False,
        staff_output=staff_output,
    )
    await queue(
        store,
        services,
        "New complaint C-5\nAbout: damp",
        channel=STAFF_CHANNEL,
        recipient="staff",
        kind=OutboundKind.STAFF_NOTICE,
    )
    await queue(store, services, "Thank you", channel="terminal", recipient="alice")
    dispatcher = Dispatcher(
        store=store, clock=clock, channels={"terminal": terminal}, staff_channels=["terminal"]
    )

    assert await dispatcher.dispatch_once() == 2
    assert staff_output.getvalue() == "[staff notice] New complaint C-5\n"
    assert output.getvalue() == "Bot: Thank you\n"


async def test_a_message_for_an_unconfigured_channel_waits_untouched(
    store: Store, clock: FrozenClock, services: Services
) -> None:
    """A process claims only what it can deliver; the rest waits for one that can, unspent."""
    telegram = RecordingChannel()
    first = await queue(store, services, "One", channel="sms", recipient="+447700900001")
    notice = await queue(store, services, "Staff, look", channel=STAFF_CHANNEL, recipient="staff")
    chat_only = Dispatcher(store=store, clock=clock, channels={"telegram": telegram})
    assert await chat_only.dispatch_once() == 0
    clock.advance(UNCONFIGURED_RETRY)
    assert await chat_only.dispatch_once() == 0
    for key in (first, notice):
        waiting = await row(store, key)
        assert waiting.status == OutboxStatus.PENDING
        assert waiting.attempts == 0  # no attempt spent while nobody could send it
        assert waiting.last_error is None

    sms, staff = RecordingChannel(), RecordingChannel()
    full = Dispatcher(
        store=store,
        clock=clock,
        channels={"sms": sms, "staff-chat": staff},
        staff_channels=("staff-chat",),
    )
    assert await full.dispatch_once() == 2
    assert [m.text for m in sms.sent] == ["One"]
    assert [m.text for m in staff.sent] == ["Staff, look"]


async def test_a_staff_channel_named_but_not_running_waits_and_warns_once(
    store: Store, clock: FrozenClock, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    notice = await queue(store, services, "Staff, look", channel=STAFF_CHANNEL, recipient="staff")
    dispatcher = Dispatcher(
        store=store, clock=clock, channels={}, staff_channels=("telegram-staff",)
    )
    with caplog.at_level(logging.WARNING, logger="bot.dispatcher"):
        assert await dispatcher.dispatch_once() == 0
        clock.advance(UNCONFIGURED_RETRY)
        assert await dispatcher.dispatch_once() == 0
    waiting = await row(store, notice)
    assert waiting.status == OutboxStatus.PENDING
    assert waiting.next_attempt_at == clock.now() + UNCONFIGURED_RETRY
    warnings = [r for r in caplog.records if "not configured" in r.getMessage()]
    assert [r.__dict__["destination"] for r in warnings] == ["telegram-staff"]  # once


async def test_rate_limits_space_the_sends_of_one_channel(
    store: Store, clock: FrozenClock, services: Services
) -> None:
    telegram, email = RecordingChannel(), RecordingChannel()
    for text in ("one", "two", "three"):
        await queue(store, services, text)
    await queue(store, services, "mail", channel="email", recipient="r@x.test")
    dispatcher = Dispatcher(
        store=store,
        clock=clock,
        channels={"telegram": telegram, "email": email},
        rate_limits={"telegram": 2.0},  # at most one every half second
    )

    result = await dispatcher.dispatch_pass()
    assert (result.claimed, result.sent, result.deferred) == (4, 2, 2)
    assert result.resume_at == clock.now() + timedelta(seconds=0.5)
    assert (telegram.texts, email.texts) == (["one"], ["mail"])

    clock.advance(timedelta(seconds=0.4))
    assert await dispatcher.dispatch_once() == 0
    clock.advance(timedelta(seconds=0.1))
    assert await dispatcher.dispatch_once() == 1
    clock.advance(timedelta(seconds=0.5))
    assert await dispatcher.dispatch_once() == 1
    assert telegram.texts == ["one", "two", "three"]  # in order
    assert await pending_count(store) == 0


async def test_an_unreadable_payload_is_dead_lettered_without_repeating_it(
    store: Store, clock: FrozenClock, services: Services
) -> None:
    async with store.unit_of_work() as uow:
        await services.outbox.enqueue(
            uow,
            channel="telegram",
            address="1001",
            kind="reply",
            payload={"channel": "telegram", "text": "my private words"},
            idempotency_key="broken",
        )
    telegram = RecordingChannel()
    dispatcher = Dispatcher(store=store, clock=clock, channels={"telegram": telegram})

    assert await dispatcher.dispatch_once() == 0
    dead = await row(store, "broken")
    assert dead.status == OutboxStatus.DEAD
    assert dead.last_error == "payload is not an outbound message (recipient: Field required)"
    assert "private" not in (dead.last_error or "")
    assert telegram.attempts == 0


async def test_an_unexpected_adapter_error_is_retried_and_the_batch_is_kept(
    store: Store, clock: FrozenClock, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    telegram = RecordingChannel(RuntimeError("library bug"))
    broken = await queue(store, services, "One")
    fine = await queue(store, services, "Two")
    dispatcher = Dispatcher(store=store, clock=clock, channels={"telegram": telegram})

    with caplog.at_level(logging.ERROR, logger="bot.dispatcher"):
        assert await dispatcher.dispatch_once() == 1
    assert (await row(store, broken)).last_error == "unexpected RuntimeError: library bug"
    assert (await row(store, broken)).status == OutboxStatus.PENDING
    assert (await row(store, fine)).status == OutboxStatus.SENT
    assert any(r.exc_info for r in caplog.records)


async def test_logs_name_ids_and_channels_but_never_the_text(
    store: Store, clock: FrozenClock, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    telegram = RecordingChannel(TemporaryChannelError("timed out"))
    await queue(store, services, "my neighbour hits me")
    dispatcher = Dispatcher(store=store, clock=clock, channels={"telegram": telegram})

    with caplog.at_level(logging.DEBUG, logger="bot.dispatcher"):
        await dispatcher.dispatch_once()
        clock.advance(timedelta(seconds=RETRY_BASE_SECONDS + 1))
        await dispatcher.dispatch_once()

    assert [r.getMessage() for r in caplog.records] == [
        "outbox message not sent; will retry",
        "outbox message sent",
    ]
    for record in caplog.records:
        fields = record.__dict__
        assert (fields["channel"], fields["kind"]) == ("telegram", "reply")
        assert isinstance(fields["outbox_id"], int)
        assert "neighbour" not in json.dumps(record.__dict__, default=str)


async def test_concurrent_dispatchers_never_send_a_message_twice(
    store: Store, clock: FrozenClock, services: Services
) -> None:
    release = asyncio.Event()
    sending = asyncio.Event()

    class SlowChannel(RecordingChannel):
        async def send(self, message: OutboundMessage) -> None:
            sending.set()
            await release.wait()
            await super().send(message)

    telegram = SlowChannel()
    for text in ("one", "two", "three"):
        await queue(store, services, text)
    first = Dispatcher(store=store, clock=clock, channels={"telegram": telegram})
    second = Dispatcher(store=store, clock=clock, channels={"telegram": telegram})

    running = asyncio.create_task(first.dispatch_once())
    await asyncio.wait_for(sending.wait(), timeout=10)
    competing = asyncio.create_task(second.dispatch_once())
    # The first dispatcher leased the rows before sending (and holds no lock while it sends):
    # the second finds nothing due, at once, on either database.
    assert await asyncio.wait_for(competing, timeout=10) == 0
    release.set()
    counts = await asyncio.wait_for(asyncio.gather(running, competing), timeout=30)

    assert sorted(counts) == [0, 3]
    assert telegram.texts == ["one", "two", "three"]


async def test_a_send_cut_short_by_a_crash_is_sent_again_when_its_lease_ends(
    store: Store, clock: FrozenClock, services: Services
) -> None:
    """At least once: a dispatcher that dies mid-send leaves the row leased, not lost."""

    class DyingChannel(RecordingChannel):
        async def send(self, message: OutboundMessage) -> None:
            raise asyncio.CancelledError  # the process dies while the medium is answering

    await queue(store, services, "one")
    dying = Dispatcher(store=store, clock=clock, channels={"telegram": DyingChannel()})
    with pytest.raises(asyncio.CancelledError):
        await dying.dispatch_once()

    telegram = RecordingChannel()
    restarted = Dispatcher(store=store, clock=clock, channels={"telegram": telegram})
    assert await restarted.dispatch_once() == 0  # still leased to the dead dispatcher
    clock.advance(LEASE)
    assert await restarted.dispatch_once() == 1
    assert telegram.texts == ["one"]


async def test_a_pass_never_sends_past_its_lease(
    store: Store, clock: FrozenClock, services: Services
) -> None:
    """A slow medium: the rest of the batch goes back, so no second dispatcher doubles it."""

    class SlowChannel(RecordingChannel):
        async def send(self, message: OutboundMessage) -> None:
            clock.advance(LEASE / 2 + timedelta(seconds=1))  # each send takes that long
            await super().send(message)

    for text in ("one", "two", "three"):
        await queue(store, services, text)
    telegram = SlowChannel()
    dispatcher = Dispatcher(store=store, clock=clock, channels={"telegram": telegram})
    assert await dispatcher.dispatch_once() == 1
    competitor = Dispatcher(store=store, clock=clock, channels={"telegram": telegram})
    assert await competitor.dispatch_once() == 1  # the rest were handed back, not held
    assert await dispatcher.dispatch_once() == 1
    assert telegram.texts == ["one", "two", "three"]


async def test_run_wakes_early_and_stops_cleanly(
    store: Store, clock: FrozenClock, services: Services
) -> None:
    telegram = RecordingChannel()
    dispatcher = Dispatcher(store=store, clock=clock, channels={"telegram": telegram})
    stop, wake = asyncio.Event(), asyncio.Event()
    running = asyncio.create_task(dispatcher.run(stop, interval=3600, wake=wake))

    await asyncio.sleep(0.2)  # the first pass finds nothing; the loop then sleeps for an hour
    await queue(store, services, "Hello")
    wake.set()
    for _ in range(500):
        if telegram.sent:
            break
        await asyncio.sleep(0.01)
    assert telegram.texts == ["Hello"]

    stop.set()
    await asyncio.wait_for(running, timeout=10)
    assert await pending_count(store) == 0


async def test_the_channels_id_of_a_sent_message_is_kept_for_replies(
    store: Store, clock: FrozenClock, services: Services
) -> None:
    telegram = RecordingChannel()
    key = await queue(store, services, "Hello")
    dispatcher = Dispatcher(store=store, clock=clock, channels={"telegram": telegram})
    assert await dispatcher.dispatch_once() == 1
    assert (await row(store, key)).external_id == "sent-1"


async def test_an_unreachable_resident_without_email_is_a_dead_letter_and_staff_hear(
    store: Store, clock: FrozenClock, services: Services
) -> None:
    async with store.unit_of_work() as uow:
        await services.residents.identify(uow, channel="telegram", address="1001")
    key = await queue(store, services, "Your complaint is logged")
    blocked = RecordingChannel(RecipientUnreachableError("bot was blocked by the user"))
    staff = RecordingChannel()
    dispatcher = Dispatcher(
        store=store,
        clock=clock,
        channels={"telegram": blocked, "staff-chat": staff},
        staff_channels=("staff-chat",),
    )
    await dispatcher.dispatch_once()
    assert (await row(store, key)).status == OutboxStatus.DEAD
    async with store.unit_of_work() as uow:
        letters = await uow.dead_letters.unresolved()
        resident = await uow.residents.find_by_identity("telegram", "1001")
    assert "no other way to reach the resident" in letters[0].reason
    assert resident is not None and resident.reachable_address_on("telegram") is None
    await dispatcher.dispatch_once()  # the staff alert queued by the first pass
    assert [m.text.splitlines()[0] for m in staff.sent] == [
        "A message could not be sent and is now in the dead-letter list."
    ]


class OneASecondPerChat(RecordingChannel):
    def min_interval(self, recipient: str) -> float:
        return 1.0


async def test_messages_to_one_recipient_are_spaced_others_are_not(
    store: Store, clock: FrozenClock, services: Services
) -> None:
    chat = OneASecondPerChat()
    await queue(store, services, "first to A", recipient="A")
    await queue(store, services, "second to A", recipient="A")
    await queue(store, services, "first to B", recipient="B")
    dispatcher = Dispatcher(store=store, clock=clock, channels={"telegram": chat})
    assert await dispatcher.dispatch_once() == 2
    assert chat.texts == ["first to A", "first to B"]  # B does not wait behind A
    assert await dispatcher.dispatch_once() == 0  # A's second waits its second
    clock.advance(timedelta(seconds=1))
    assert await dispatcher.dispatch_once() == 1
    assert chat.texts[-1] == "second to A"
