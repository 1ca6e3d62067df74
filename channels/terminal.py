"""The terminal channel: try the bot in a shell with ``complaints-bot chat``, no accounts needed.

One terminal serves one resident. Each line typed is one message; the bot's messages are
printed as they are sent::

    Bot: What is your complaint about?
      1. Repairs
      2. Noise
    You: 1

Typing an option's number or its words picks it, as pressing a button would on Telegram.
Staff notices, when the terminal is the staff channel, go to a separate stream (standard error
by default) so they do not mix with the conversation.
"""

from __future__ import annotations

import asyncio
import string
import sys
import threading
from typing import Final, TextIO
from uuid import uuid4

from channels.base import Channel, OnMessage
from conversations.envelopes import (
    STAFF_CHANNEL,
    Choice,
    InboundMessage,
    OutboundKind,
    OutboundMessage,
)
from core.clock import Clock
from core.errors import PermanentChannelError

BOT_PREFIX: Final = "Bot: "
PROMPT: Final = "You: "
QUIT_COMMAND: Final = "/quit"
STAFF_PREFIX: Final = "[staff notice] "
_STRIPPED: Final = string.whitespace + string.punctuation


class TerminalChannel(Channel):
    """Reads a resident's lines from a text stream and prints the bot's messages to another.

    Args:
        user: the resident's identity on this channel (the ``sender`` of their messages).
        input_stream: where the resident's lines come from (standard input, or a file or pipe).
        output: where the bot's messages to the resident are printed.
        clock: where the time of each message comes from.
        interactive: print a ``You:`` prompt before each line (a person is typing).
        staff_output: where staff notices are printed; standard error by default.
    """

    name = "terminal"

    def __init__(
        self,
        *,
        user: str,
        input_stream: TextIO,
        output: TextIO,
        clock: Clock,
        interactive: bool,
        staff_output: TextIO | None = None,
    ) -> None:
        self._user = user
        self._input = input_stream
        self._output = output
        self._clock = clock
        self._interactive = interactive
        self._staff_output = staff_output if staff_output is not None else sys.stderr
        self._choices: tuple[Choice, ...] = ()
        self._prompting = False
        self._stopped = False

    async def start(self, on_message: OnMessage) -> None:
        """Read lines until end of input, ``/quit`` or :meth:`stop`; hand each to ``on_message``.

        Blank lines are skipped. ``on_message`` is awaited before the next line is read, so the
        replies to one line are printed before the prompt for the next.

        Args:
            on_message: called with each line as an inbound message.
        """
        while not self._stopped:
            if self._interactive:
                self._write(self._output, PROMPT)
                self._prompting = True
            line = await self._readline()
            self._prompting = False
            if not line:  # end of input
                break
            text = line.strip()
            if not text:
                continue
            if text.casefold() == QUIT_COMMAND:
                break
            await on_message(self._inbound(text))
        self._stopped = True

    async def send(self, message: OutboundMessage) -> str | None:
        """Print a message: the resident's at once, a staff notice to the staff stream.

        Raises:
            PermanentChannelError: the message is for someone other than this terminal's user,
                or the output can no longer be written to.
        """
        if message.channel == STAFF_CHANNEL or message.kind == OutboundKind.STAFF_NOTICE:
            self._print_staff_notice(message)
            return None
        if message.recipient != self._user:
            raise PermanentChannelError(f"no terminal session for {message.recipient!r}")
        lines = message.text.splitlines() or [""]
        rendered = [BOT_PREFIX + lines[0]]
        indent = " " * len(BOT_PREFIX)
        rendered.extend(indent + line if line.strip() else "" for line in lines[1:])
        rendered.extend(
            f"  {number}. {choice.label}" for number, choice in enumerate(message.choices, 1)
        )
        self._choices = message.choices
        text = "\n".join(rendered) + "\n"
        if self._prompting:
            # A reply that arrives while the prompt waits goes on its own lines, then the
            # prompt is shown again so the resident knows they can type.
            text = "\n" + text + PROMPT
        self._write(self._output, text)
        return None  # a terminal has no replies to thread

    async def _readline(self) -> str:
        """Read one line without blocking the event loop.

        The read runs in a daemon thread, not the loop's executor: a read still waiting when
        the bot stops (Ctrl-C, SIGTERM) must not keep the process alive until Enter is pressed.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str] = loop.create_future()

        def read() -> None:
            try:
                line = self._input.readline()
            except (OSError, ValueError) as error:  # closed or broken input
                loop.call_soon_threadsafe(_settle, future, "", error)
            else:
                loop.call_soon_threadsafe(_settle, future, line, None)

        threading.Thread(target=read, name="terminal-input", daemon=True).start()
        return await future

    async def stop(self) -> None:
        """Stop after the line being read; a read already waiting finishes when a line comes."""
        self._stopped = True

    def _inbound(self, text: str) -> InboundMessage:
        choice = self._match_choice(text)
        return InboundMessage(
            channel=self.name,
            sender=self._user,
            message_id=f"{self._user}:{uuid4()}",
            received_at=self._clock.now(),
            text=text if choice is None else choice.label,
            choice=None if choice is None else choice.id,
        )

    def _match_choice(self, text: str) -> Choice | None:
        """Return the offered option the resident picked by number or by its words, if any."""
        wanted = _normalise(text)
        if wanted.isdecimal():
            number = int(wanted)
            return self._choices[number - 1] if 1 <= number <= len(self._choices) else None
        return next((c for c in self._choices if _normalise(c.label) == wanted), None)

    def _print_staff_notice(self, message: OutboundMessage) -> None:
        first_line = next((line.strip() for line in message.text.splitlines() if line.strip()), "")
        marker = "URGENT: " if message.urgent else ""
        self._write(self._staff_output, f"{STAFF_PREFIX}{marker}{first_line}\n")

    @staticmethod
    def _write(stream: TextIO, text: str) -> None:
        try:
            stream.write(text)
            stream.flush()
        except (OSError, ValueError) as error:  # a closed pipe or a closed file
            raise PermanentChannelError(f"cannot write to the terminal: {error}") from error


def _normalise(text: str) -> str:
    """Lower-case ``text`` and drop surrounding spaces and punctuation; collapse inner spaces."""
    return " ".join(text.strip(_STRIPPED).casefold().split())


def _settle(future: asyncio.Future[str], line: str, error: BaseException | None) -> None:
    if future.done():  # the reader was cancelled meanwhile
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(line)
