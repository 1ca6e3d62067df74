"""Render a channel-neutral :class:`OutboundMessage` as Telegram ``sendMessage`` parameters.

Text is sent in HTML parse mode. Every character a resident or a member of staff wrote is
escaped, so ``<b>`` or ``&amp;`` typed by anyone shows as typed and can neither break nor inject
markup; the only markup is our own (the ``URGENT`` marker, the bold reference).

A message longer than Telegram's limit is split into parts, at the largest boundary that fits:
a blank line, else a line break, else the end of a sentence, else a space, else anywhere. The
choices become an inline keyboard, one button per row, on the last part, so the buttons come
after everything they refer to.

Telegram's callback data holds at most 64 bytes. A choice id that fits is sent as it is; a
longer one is sent as ``h:`` and its SHA-1, which :func:`match_callback` resolves against the
choices of the message that carried the keyboard.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from conversations.envelopes import Choice, OutboundMessage

TELEGRAM_TEXT_LIMIT: Final = 4096
"""The most characters one Telegram message may hold."""
CALLBACK_DATA_LIMIT: Final = 64
"""The most bytes (UTF-8) a button's callback data may hold."""
HASHED_PREFIX: Final = "h:"
"""Callback data starting with this is a hashed choice id; see :func:`choice_callback_data`."""
URGENT_MARKER: Final = "<b>URGENT</b>\n"
"""Our own markup, put before the text of an urgent message (never escaped)."""
CHOOSE_TEXT: Final = "Please choose:"
"""Telegram needs some text to carry a keyboard; used when a message has choices only."""

_COST: Final = {"&": len("&amp;"), "<": len("&lt;"), ">": len("&gt;")}
_MIN_LIMIT: Final = max(_COST.values())
_BOUNDARIES: Final = (
    re.compile(r"\n[^\S\n]*\n"),  # a blank line: the end of a paragraph
    re.compile(r"\n"),
    re.compile(r"(?<=[.!?])\s"),  # the end of a sentence
    re.compile(r"\s"),
)


@dataclass(frozen=True)
class RenderedPart:
    """One Telegram message: the ``text`` and ``reply_markup`` of a ``sendMessage`` call.

    Send it with ``parse_mode="HTML"``.
    """

    text: str
    reply_markup: InlineKeyboardMarkup | None


def render(message: OutboundMessage) -> list[RenderedPart]:
    """Render a message as one or more Telegram messages, to be sent in order.

    ``large_print`` is ignored: a bot cannot change the size of Telegram's text.

    Args:
        message: the message to render.

    Returns:
        The parts, each at most :data:`TELEGRAM_TEXT_LIMIT` characters long, the keyboard (if
        there are choices) on the last one; no parts when there is neither text nor choices.
    """
    prefix = URGENT_MARKER if message.urgent else ""
    budget = TELEGRAM_TEXT_LIMIT - len(prefix)
    texts = split_text(message.text, budget)
    if not texts and message.choices:
        texts = [CHOOSE_TEXT]
    keyboard = _keyboard(message.choices)
    last = len(texts) - 1
    return [
        RenderedPart(
            text=(prefix if index == 0 else "") + _markup(plain, message.reference, budget),
            reply_markup=keyboard if index == last else None,
        )
        for index, plain in enumerate(texts)
    ]


def escape(text: str) -> str:
    """Escape text for Telegram's HTML parse mode: ``&``, ``<`` and ``>``; quotes may stay."""
    return html.escape(text, quote=False)


def split_text(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """Split plain text into parts that each fit ``limit`` once escaped.

    Each cut is made at the last boundary that fits: a blank line, else a line break, else the
    end of a sentence, else a space; a single "word" longer than the limit is cut where it must.
    The whitespace at each cut, and around the text, is dropped; every other character is kept,
    in order.

    The length is counted on the escaped text (``&`` counts 5, ``<`` and ``>`` 4) and in UTF-16
    code units (a character beyond the Basic Multilingual Plane, such as most emoji, counts 2),
    as Telegram counts. Telegram measures the text after parsing the markup, so this leaves a
    margin rather than cutting it fine.

    Args:
        text: the plain (unescaped) text.
        limit: the largest escaped length of a part.

    Returns:
        The parts, none empty and none starting or ending with whitespace; no parts for a
        text that is empty or only whitespace.

    Raises:
        ValueError: ``limit`` is below 5, too small for an escaped ``&``.
    """
    if limit < _MIN_LIMIT:
        raise ValueError(f"limit must be at least {_MIN_LIMIT}, not {limit}")
    parts: list[str] = []
    rest = text.strip()
    while rest:
        fits = _fitting(rest, limit)
        if fits == len(rest):
            parts.append(rest)
            break
        cut = _cut(rest, fits)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return parts


def choice_callback_data(choice_id: str) -> str:
    """Return the callback data of a choice's button: the id itself, or a short stable form.

    An id that is 1 to 64 bytes long in UTF-8 (``"complaint:C-7K3P-9QX2"``) is sent as it is.
    Any other id, and any id that itself starts with ``h:``, is sent as ``h:`` followed by the
    SHA-1 of the id in hex (42 bytes); :func:`match_callback` finds the choice again.

    Args:
        choice_id: the choice's id.
    """
    size = _utf8_length(choice_id)
    fits = size is not None and 1 <= size <= CALLBACK_DATA_LIMIT
    if fits and not choice_id.startswith(HASHED_PREFIX):
        return choice_id
    digest = hashlib.sha1(
        choice_id.encode("utf-8", errors="surrogatepass"), usedforsecurity=False
    ).hexdigest()
    return HASHED_PREFIX + digest


def match_callback(data: str, choices: Sequence[Choice]) -> Choice | None:
    """Return the choice whose button sent ``data``, or ``None`` if none of them did.

    Args:
        data: the callback data Telegram sent back (the choice id, or its hashed form).
        choices: the choices of the message that carried the keyboard.
    """
    for choice in choices:
        if choice.id == data or choice_callback_data(choice.id) == data:
            return choice
    return None


def _markup(plain: str, reference: str | None, budget: int) -> str:
    """Escape a part, and put the case reference in bold where that still fits."""
    escaped = escape(plain)
    if not reference or reference not in plain:
        return escaped
    bold = f"<b>{escape(reference)}</b>"
    marked = bold.join(escape(piece) for piece in plain.split(reference))
    return marked if _units(marked) <= budget else escaped


def _keyboard(choices: Sequence[Choice]) -> InlineKeyboardMarkup | None:
    if not choices:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=choice.label or choice.id, callback_data=choice_callback_data(choice.id)
                )
            ]
            for choice in choices
        ]
    )


def _fitting(text: str, limit: int) -> int:
    """Return the length of the longest start of ``text`` whose escaped length fits."""
    total = 0
    for index, char in enumerate(text):
        total += _COST.get(char, 2 if ord(char) > 0xFFFF else 1)
        if total > limit:
            return index
    return len(text)


def _cut(text: str, fits: int) -> int:
    """Return where to cut ``text``, whose first ``fits`` characters fit, at the best boundary."""
    for boundary in _BOUNDARIES:
        # A boundary is whitespace, dropped at the cut, so it may start at ``fits`` itself.
        # Starting the search at 1 keeps the part before the cut from being empty.
        found = list(boundary.finditer(text, 1, fits + 1))
        if found:
            return found[-1].start()
    return fits


def _units(text: str) -> int:
    """Return the length of ``text`` in UTF-16 code units, as Telegram counts."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def _utf8_length(text: str) -> int | None:
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError:  # a lone surrogate cannot be sent as callback data at all
        return None
