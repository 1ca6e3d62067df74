"""The channel base class: an adapter between one medium and the channel-neutral envelopes.

A channel has an async lifecycle, like opsdroid's connectors and httpx's transports::

    async with TelegramChannel(...) as channel:
        await channel.start(on_message)   # returns when the channel stops listening
        ...
        await channel.send(message)       # called by the outbox dispatcher

It turns what arrives into :class:`~conversations.envelopes.InboundMessage` for ``on_message``
and renders :class:`~conversations.envelopes.OutboundMessage` for its medium; nothing else. The
dispatcher routes outbound messages by channel *name*, so no message ever carries a channel
object.
"""

from __future__ import annotations

import abc
import random
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import ClassVar, Self

from conversations.envelopes import InboundMessage, OutboundMessage

OnMessage = Callable[[InboundMessage], Awaitable[None]]
"""What a channel calls with each inbound message; it returns once the message is handled."""


class Channel(abc.ABC):
    """One medium the bot talks through (Telegram, email, the terminal).

    Subclasses set :attr:`name` and implement :meth:`start`, :meth:`send` and :meth:`stop`.
    ``async with channel:`` stops the channel when the block ends, however it ends.
    """

    name: ClassVar[str]
    """The channel's name: the ``channel`` of the envelopes it produces and receives."""

    @abc.abstractmethod
    async def start(self, on_message: OnMessage) -> None:
        """Listen for inbound messages and hand each to ``on_message``, until stopped.

        ``on_message`` is awaited before the channel acknowledges the message to its medium
        (marks the email seen, advances the Telegram offset), so a crash re-delivers rather than
        loses. Listeners that run forever retry lost connections with :func:`jittered_backoff`.

        Args:
            on_message: called with each message, channel-neutral.
        """

    @abc.abstractmethod
    async def send(self, message: OutboundMessage) -> str | None:
        """Deliver one message to its recipient, rendered for this medium.

        Args:
            message: what to send; its ``channel`` is this channel's name.

        Returns:
            The medium's own id of the delivered message (Telegram message id, email
            Message-ID), stored so that a resident's reply to it finds its complaint; ``None``
            where the medium has no replies to thread.

        Raises:
            TemporaryChannelError: the medium failed in a way worth retrying (rate limit,
                timeout, server unavailable); ``retry_after`` says when, if the medium said.
            PermanentChannelError: retrying will not help (unknown recipient, blocked bot).
        """

    def min_interval(self, recipient: str) -> float:
        """Return the fewest seconds between two messages to ``recipient`` on this medium.

        The dispatcher waits at least this long; 0 (the default) means no limit per recipient.
        """
        return 0.0

    @abc.abstractmethod
    async def stop(self) -> None:
        """Stop listening and release connections; safe to call more than once."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()


def jittered_backoff(attempt: int, *, base: float = 1.0, cap: float = 300.0) -> float:
    """Return how long to wait before retry number ``attempt``: exponential, full jitter.

    The delay is drawn uniformly between 0 and ``min(cap, base * 2 ** (attempt - 1))``, so many
    clients that failed together do not retry together (the "full jitter" of AWS's
    *Exponential Backoff and Jitter*).

    Args:
        attempt: how many attempts have failed so far; 1 after the first failure.
        base: the ceiling of the first delay, in seconds.
        cap: the largest delay, in seconds.

    Raises:
        ValueError: ``attempt`` is below 1, or ``base`` or ``cap`` is negative.
    """
    if attempt < 1:
        raise ValueError(f"attempt must be 1 or more, not {attempt}")
    if base < 0 or cap < 0:
        raise ValueError("base and cap must not be negative")
    # The exponent is bounded so a very large attempt count cannot overflow a float.
    ceiling = min(cap, base * 2.0 ** min(attempt - 1, 64))
    return random.uniform(0.0, ceiling)
