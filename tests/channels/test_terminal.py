"""The terminal channel, driven through real text streams and a real pipe."""

from __future__ import annotations

import asyncio
import io
import os

import pytest

from channels.terminal import TerminalChannel
from conversations.envelopes import (
    STAFF_CHANNEL,
    Choice,
    InboundMessage,
    OutboundKind,
    OutboundMessage,
)
from core.clock import FrozenClock
from core.errors import PermanentChannelError

OPTIONS = (Choice(id="repairs", label="Repairs"), Choice(id="noise", label="Noise nuisance"))


class EchoBot:
    """Answers every line with what it heard, offering the two options again."""

    def __init__(self, channel: TerminalChannel) -> None:
        self.channel = channel
        self.heard: list[InboundMessage] = []

    async def __call__(self, message: InboundMessage) -> None:
        self.heard.append(message)
        await self.channel.send(
            OutboundMessage(
                channel="terminal",
                recipient=message.sender,
                text=f"You said: {message.text}",
                choices=OPTIONS,
            )
        )


def terminal(
    clock: FrozenClock, typed: str, *, interactive: bool = False
) -> tuple[TerminalChannel, io.StringIO, io.StringIO]:
    output, staff_output = io.StringIO(), io.StringIO()
    channel = TerminalChannel(
        user="alice",
        input_stream=io.StringIO(typed),
        output=output,
        clock=clock,
        interactive=interactive,
        staff_output=staff_output,
    )
    return channel, output, staff_output


async def test_lines_become_messages_and_replies_are_printed_in_order(clock: FrozenClock) -> None:
    channel, output, _ = terminal(clock, "My boiler is broken\n\n   \nthanks")
    bot = EchoBot(channel)

    await channel.start(bot)

    assert [m.text for m in bot.heard] == ["My boiler is broken", "thanks"]
    first = bot.heard[0]
    assert (first.channel, first.sender, first.received_at, first.choice) == (
        "terminal",
        "alice",
        clock.now(),
        None,
    )
    assert first.message_id.startswith("alice:")
    assert len({m.message_id for m in bot.heard}) == 2
    assert output.getvalue() == (
        "Bot: You said: My boiler is broken\n"
        "  1. Repairs\n"
        "  2. Noise nuisance\n"
        "Bot: You said: thanks\n"
        "  1. Repairs\n"
        "  2. Noise nuisance\n"
    )


@pytest.mark.parametrize(
    ("typed", "choice", "text"),
    [
        ("1", "repairs", "Repairs"),
        ("2.", "noise", "Noise nuisance"),
        (" 2) ", "noise", "Noise nuisance"),
        ("repairs", "repairs", "Repairs"),
        ("  NOISE   nuisance! ", "noise", "Noise nuisance"),
        ("3", None, "3"),
        ("0", None, "0"),
        ("noise", None, "noise"),
        ("repairs please", None, "repairs please"),
    ],
)
async def test_numbers_and_label_words_pick_the_offered_option(
    clock: FrozenClock, typed: str, choice: str | None, text: str
) -> None:
    channel, _, _ = terminal(clock, f"hello\n{typed}\n")
    bot = EchoBot(channel)

    await channel.start(bot)

    assert (bot.heard[1].choice, bot.heard[1].text) == (choice, text)


async def test_only_the_options_of_the_last_message_count(clock: FrozenClock) -> None:
    channel, _, _ = terminal(clock, "1\nrepairs\n")
    heard: list[InboundMessage] = []

    async def reply_without_options(message: InboundMessage) -> None:
        heard.append(message)
        await channel.send(OutboundMessage(channel="terminal", recipient="alice", text="Noted."))

    await channel.send(
        OutboundMessage(channel="terminal", recipient="alice", text="Pick", choices=OPTIONS)
    )
    await channel.start(reply_without_options)

    assert [(m.choice, m.text) for m in heard] == [("repairs", "Repairs"), (None, "repairs")]


async def test_quit_stops_without_reading_further(clock: FrozenClock) -> None:
    typed = io.StringIO("hello\n/quit\nnot read\n")
    channel = TerminalChannel(
        user="alice", input_stream=typed, output=io.StringIO(), clock=clock, interactive=False
    )
    bot = EchoBot(channel)

    await channel.start(bot)

    assert [m.text for m in bot.heard] == ["hello"]
    assert typed.readline() == "not read\n"


async def test_interactive_mode_prompts_before_each_line(clock: FrozenClock) -> None:
    channel, output, _ = terminal(clock, "hi\n", interactive=True)

    await channel.start(EchoBot(channel))

    # Piped input is not echoed, so each reply follows its prompt on the same line.
    assert output.getvalue() == ("You: Bot: You said: hi\n  1. Repairs\n  2. Noise nuisance\nYou: ")


async def test_multi_line_text_is_indented_under_the_first_line(clock: FrozenClock) -> None:
    channel, output, _ = terminal(clock, "")

    await channel.send(
        OutboundMessage(
            channel="terminal",
            recipient="alice",
            text="Your reference is C-1.\n\nWe will reply by 8 January.\nThank you.",
        )
    )

    assert output.getvalue() == (
        "Bot: Your reference is C-1.\n\n     We will reply by 8 January.\n     Thank you.\n"
    )


async def test_staff_notices_go_to_the_staff_stream(clock: FrozenClock) -> None:
    channel, output, staff_output = terminal(clock, "")

    await channel.send(
        OutboundMessage(
            channel=STAFF_CHANNEL,
            recipient="staff",
            kind=OutboundKind.STAFF_NOTICE,
            text="Resident reports a gas smell\nComplaint C-4",
            urgent=True,
        )
    )
    # As the dispatcher routes it: on the terminal's own name, still a staff notice.
    await channel.send(
        OutboundMessage(
            channel="terminal",
            recipient="staff",
            kind=OutboundKind.STAFF_NOTICE,
            text="\nNew complaint C-5",
        )
    )

    assert staff_output.getvalue() == (
        "[staff notice] URGENT: Resident reports a gas smell\n[staff notice] New complaint C-5\n"
    )
    assert output.getvalue() == ""


async def test_a_message_for_someone_else_is_refused(clock: FrozenClock) -> None:
    channel, output, _ = terminal(clock, "")

    with pytest.raises(PermanentChannelError, match="no terminal session for 'bob'"):
        await channel.send(OutboundMessage(channel="terminal", recipient="bob", text="Hi"))
    assert output.getvalue() == ""


async def test_a_closed_output_is_a_permanent_error(clock: FrozenClock) -> None:
    channel, output, _ = terminal(clock, "")
    output.close()

    with pytest.raises(PermanentChannelError, match="cannot write"):
        await channel.send(OutboundMessage(channel="terminal", recipient="alice", text="Hi"))


async def test_leaving_async_with_stops_the_channel(clock: FrozenClock) -> None:
    channel, _, _ = terminal(clock, "never read\n")
    bot = EchoBot(channel)

    async with channel as entered:
        assert entered is channel
    await channel.start(bot)

    assert bot.heard == []


async def test_a_reply_arriving_while_the_resident_types_keeps_the_prompt(
    clock: FrozenClock,
) -> None:
    read_fd, write_fd = os.pipe()
    output = io.StringIO()
    heard: list[InboundMessage] = []

    async def record(message: InboundMessage) -> None:
        heard.append(message)

    with (
        os.fdopen(read_fd, encoding="utf-8") as typed,
        os.fdopen(write_fd, "w", encoding="utf-8") as keyboard,
    ):
        channel = TerminalChannel(
            user="alice", input_stream=typed, output=output, clock=clock, interactive=True
        )
        listening = asyncio.create_task(channel.start(record))
        for _ in range(500):
            if output.getvalue():
                break
            await asyncio.sleep(0.01)
        assert output.getvalue() == "You: "

        # A reminder sent by the bot while the resident has not typed anything yet.
        await channel.send(
            OutboundMessage(channel="terminal", recipient="alice", text="Are you still there?")
        )
        assert output.getvalue() == "You: \nBot: Are you still there?\nYou: "

        keyboard.write("yes\n")
        keyboard.flush()
        keyboard.close()
        await asyncio.wait_for(listening, timeout=10)

    assert [m.text for m in heard] == ["yes"]
