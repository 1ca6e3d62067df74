"""Translate an aiogram :class:`~aiogram.types.Update` into what the engine needs.

Only a resident's private chat with the bot reaches the engine: a message, an edit of one, or
the press of a button. Each becomes an :class:`InboundMessage` whose ``message_id`` is
``update:<update_id>``, the id Telegram redelivers an update under, so a redelivery is
recognised. What the engine cannot use gets a polite direct answer instead (stickers,
locations, files too large to download); what is not for it at all (groups, channels, the bot's
own messages, membership changes, service messages) is left alone. Nothing here raises on an
odd update: the worst case is an update with nothing for the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from aiogram.types import CallbackQuery, Message, Update, User

from conversations.envelopes import Attachment, InboundMessage
from conversations.wording import default_labels

CHANNEL: Final = "telegram"
MAX_FILE_BYTES: Final = 20 * 1024 * 1024
"""The largest file a bot may download through the Bot API (``getFile``)."""
EDITED_PREFIX: Final = "(edited) "
"""Put before the text of an edited message, which reaches the engine as a new message."""

WORDING: Final[Mapping[str, str]] = default_labels("telegram")
"""What the bot answers directly on Telegram, without the engine: input only Telegram has."""

_UNSUPPORTED: Final = (
    "animation",
    "checklist",
    "contact",
    "dice",
    "game",
    "location",
    "paid_media",
    "poll",
    "sticker",
    "story",
    "venue",
)
"""Things a resident can send that carry no words and no evidence we keep."""


@dataclass(frozen=True)
class Translated:
    """What one update means for the bot; the adapter acts on each field that is set.

    Attributes:
        inbound: the message for the engine, or ``None`` when there is nothing for it.
        reply: a short answer to send straight back to the chat (plain text, no markup), for
            input the engine cannot use; ``None`` when there is none.
        callback_query_id: the button press to answer, so the client stops its spinner.
        keyboard_message: ``(chat_id, message_id)`` of the message whose keyboard was pressed;
            remove the keyboard so it cannot be pressed twice.
        file_ids: the Telegram file ids of ``inbound``'s attachments, to download as evidence.
    """

    inbound: InboundMessage | None = None
    reply: str | None = None
    callback_query_id: str | None = None
    keyboard_message: tuple[int, int] | None = None
    file_ids: tuple[str, ...] = ()


NOTHING: Final = Translated()
"""An update with nothing to do: not for the engine and needing no answer."""


def translate(
    update: Update,
    *,
    received_at: datetime,
    max_file_bytes: int = MAX_FILE_BYTES,
    wording: Mapping[str, str] = WORDING,
) -> Translated:
    """Translate one update.

    Args:
        update: the update, as aiogram parsed it.
        received_at: when the update arrived; timezone-aware.
        max_file_bytes: files larger than this are not attached (a bot cannot download more
            than 20 MB); the resident is asked to email them instead.
        wording: the ``[telegram]`` labels (the landlord's, when they override them).

    Raises:
        ValueError: ``received_at`` is naive.
    """
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        raise ValueError("received_at must be timezone-aware")
    message_id = f"update:{update.update_id}"
    if update.message is not None:
        return _message(update.message, message_id, received_at, max_file_bytes, wording)
    if update.edited_message is not None:
        return _message(
            update.edited_message, message_id, received_at, max_file_bytes, wording, edited=True
        )
    if update.callback_query is not None:
        return _press(update.callback_query, message_id, received_at)
    return NOTHING


def _message(
    message: Message,
    message_id: str,
    received_at: datetime,
    max_file_bytes: int,
    wording: Mapping[str, str],
    *,
    edited: bool = False,
) -> Translated:
    if not _is_private(message.chat.type, message.chat.id):
        return NOTHING  # residents write in a private chat; the staff chat is the adapter's
    user = message.from_user
    if user is not None and user.is_bot:
        return NOTHING
    text = message.text if message.text is not None else message.caption or ""
    attachments, too_large = _files(message, max_file_bytes)
    has_text = bool(text.strip())
    reply = None
    if too_large:
        reply = wording["too_large_with_text" if has_text else "too_large"]
    elif not has_text and not attachments and not edited and _unsupported(message):
        # Not on edits: a live location is re-sent as an edit every few seconds.
        reply = wording["unsupported"]
    if not has_text and not attachments:
        # Service messages (a pinned message, a shared user…) land here with no reply.
        return Translated(reply=reply)
    if edited and has_text:
        text = EDITED_PREFIX + text
    reply_to = message.reply_to_message
    inbound = InboundMessage(
        channel=CHANNEL,
        sender=str(message.chat.id),
        message_id=message_id,
        received_at=received_at,
        text=text,
        reply_to=None if reply_to is None else str(reply_to.message_id),
        attachments=attachments,
        sender_name=_name(user),
    )
    return Translated(
        inbound=inbound, reply=reply, file_ids=tuple(a.reference for a in attachments)
    )


def _press(query: CallbackQuery, message_id: str, received_at: datetime) -> Translated:
    """A button press: the callback data is the choice id (or its hashed form, ``h:…``)."""
    if query.from_user.is_bot:
        return NOTHING
    pressed = query.message
    if pressed is not None and not _is_private(pressed.chat.type, pressed.chat.id):
        return Translated(callback_query_id=query.id)
    if not query.data:  # a game button, or an odd update: only the spinner to stop
        return Translated(callback_query_id=query.id)
    label = _label(pressed, query.data) if isinstance(pressed, Message) else None
    inbound = InboundMessage(
        channel=CHANNEL,
        # A private chat's id is its user's id, so this is the sender either way.
        sender=str(query.from_user.id if pressed is None else pressed.chat.id),
        message_id=message_id,
        received_at=received_at,
        text=label or query.data,
        # The message with the keyboard is ours: the engine finds its complaint from it.
        reply_to=None if pressed is None else str(pressed.message_id),
        choice=query.data,
        sender_name=_name(query.from_user),
    )
    return Translated(
        inbound=inbound,
        callback_query_id=query.id,
        keyboard_message=None if pressed is None else (pressed.chat.id, pressed.message_id),
    )


def _files(message: Message, max_file_bytes: int) -> tuple[tuple[Attachment, ...], bool]:
    """Return the message's files that can be downloaded, and whether any could not."""
    found: list[tuple[str, str, str | None, str | None, int | None]] = []
    if message.photo:
        # Telegram sends several sizes of one photo; the largest is the evidence.
        largest = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        found.append(("photo", largest.file_id, None, None, largest.file_size))
    if message.live_photo is not None:
        live = message.live_photo
        found.append(("live_photo", live.file_id, None, live.mime_type, live.file_size))
    # An animation (GIF) also arrives as a document; it is not evidence.
    if message.document is not None and message.animation is None:
        doc = message.document
        found.append(("document", doc.file_id, doc.file_name, doc.mime_type, doc.file_size))
    if message.video is not None:
        video = message.video
        found.append(("video", video.file_id, video.file_name, video.mime_type, video.file_size))
    if message.video_note is not None:
        note = message.video_note
        found.append(("video_note", note.file_id, None, None, note.file_size))
    if message.voice is not None:
        voice = message.voice
        found.append(("voice", voice.file_id, None, voice.mime_type, voice.file_size))
    if message.audio is not None:
        audio = message.audio
        found.append(("audio", audio.file_id, audio.file_name, audio.mime_type, audio.file_size))
    attachments = []
    too_large = False
    for kind, file_id, filename, content_type, size in found:
        if size is not None and size > max_file_bytes:
            too_large = True
            continue
        attachments.append(
            Attachment(
                kind=kind,
                reference=file_id,
                filename=filename,
                content_type=content_type,
                size=size if size is not None and size >= 0 else None,
            )
        )
    return tuple(attachments), too_large


def _unsupported(message: Message) -> bool:
    return any(getattr(message, field, None) is not None for field in _UNSUPPORTED)


def _label(message: Message, data: str) -> str | None:
    """Return the text of the button in ``message``'s keyboard that sent ``data``."""
    markup = message.reply_markup
    if markup is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return button.text
    return None


def _is_private(chat_type: str, chat_id: int) -> bool:
    return chat_type == "private" and chat_id > 0


def _name(user: User | None) -> str | None:
    if user is None:
        return None
    return " ".join(part for part in (user.first_name, user.last_name) if part) or None
