"""A fake Telegram Bot API server on 127.0.0.1 that speaks the real HTTP/JSON protocol.

The bot under test keeps its real aiogram client and points it here::

    async with FakeTelegram() as fake:
        session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
        bot = Bot(fake.token, session=session)

Tests drive the fake as Telegram's users would (``user_message``, ``user_callback``,
``user_photo`` ...), then look at what the bot did (``calls``, ``sent_messages``) and inject
faults (``fail_next``, ``delay_next``). The fake imports nothing from aiogram: it only knows the
wire protocol, so it also checks that the client speaks it.

Behaviour copied from the real API, because bots trip over it in production:

* ``getUpdates`` long-polls (capped at ``long_poll_cap`` seconds so tests stay fast); an
  ``offset`` confirms and forgets every update with a smaller ``update_id``; a newer
  ``getUpdates`` ends an older waiting one with 409; a set webhook makes it answer 409;
  update types outside ``allowed_updates`` are dropped, as Telegram does.
* ``parse_mode=HTML`` is parsed by a port of tdlib's ``parse_html`` (the parser behind the Bot
  API), so error texts and byte offsets match Telegram's. Like Telegram, a bare ``&`` that does
  not start ``&lt;``, ``&gt;``, ``&amp;``, ``&quot;`` or ``&#...;`` is kept as text; a bare ``<``
  is an error. ``Markdown``/``MarkdownV2`` text is accepted unparsed.
* The text limit (4096 characters) applies after parsing and trimming; ``callback_data`` is
  limited to 64 bytes; editing without a change is "message is not modified".
* A ``delay_next`` delays the *answer*, not the work: the message is sent even if the client
  gives up waiting, which is how duplicate sends happen for real.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import inspect
import itertools
import json
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, Self
from urllib.parse import urlsplit

from aiohttp import web

__all__ = [
    "Call",
    "EntityParseError",
    "FakeTelegram",
    "parse_html",
]

JSON = dict[str, Any]

MAX_MESSAGE_LENGTH: Final = 4096
MAX_CALLBACK_DATA_BYTES: Final = 64
MAX_DOWNLOAD_BYTES: Final = 20 * 1024 * 1024
DEFAULT_GROUP_USER_ID: Final = 1000
_SUPERGROUP_IDS_BELOW: Final = -1_000_000_000_000

# Telegram leaves these out unless a bot asks for them by name.
_OPT_IN_UPDATE_TYPES: Final = frozenset(
    {"chat_member", "message_reaction", "message_reaction_count"}
)
_CHAT_ACTIONS: Final = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_WEBHOOK_PORTS: Final = (80, 88, 443, 8443)
_BOT_COMMAND: Final = re.compile(r"[a-z0-9_]{1,32}")
_COMMAND_PREFIX: Final = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_])")
_TRIMMED: Final = " \t\r\n"

# Every form value arrives as a string; these fields are decoded before methods see them.
_JSON_FIELDS: Final = frozenset(
    {
        "allowed_updates",
        "caption_entities",
        "commands",
        "entities",
        "link_preview_options",
        "media",
        "menu_button",
        "reply_markup",
        "reply_parameters",
        "results",
        "rights",
        "scope",
    }
)
_INT_FIELDS: Final = frozenset(
    {
        "cache_time",
        "chat_id",
        "duration",
        "from_chat_id",
        "height",
        "limit",
        "max_connections",
        "message_id",
        "message_thread_id",
        "offset",
        "reply_to_message_id",
        "timeout",
        "user_id",
        "width",
    }
)
_BOOL_FIELDS: Final = frozenset(
    {
        "allow_sending_without_reply",
        "disable_notification",
        "disable_web_page_preview",
        "drop_pending_updates",
        "protect_content",
        "show_alert",
    }
)
_FLOAT_FIELDS: Final = frozenset({"latitude", "longitude", "horizontal_accuracy"})

_NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_DEFAULT_DESCRIPTIONS: Final = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


@dataclass(frozen=True, slots=True)
class Call:
    """One request the bot made.

    Attributes:
        method: The method name as sent (``sendMessage``).
        params: The parameters, with JSON-encoded fields decoded and numeric and boolean fields
            converted; uploaded files appear as ``bytes``.
        at: ``time.monotonic()`` when the request arrived.
    """

    method: str
    params: JSON
    at: float


class EntityParseError(ValueError):
    """Telegram could not parse the formatted text; the message is tdlib's, unprefixed."""


class _ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _bad_request(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


@dataclass(frozen=True, slots=True)
class _Described:
    """A successful result that Telegram sends with a ``description`` (webhook methods)."""

    result: Any
    description: str


@dataclass(slots=True)
class _StoredFile:
    file_id: str
    file_unique_id: str
    content: bytes
    file_path: str


# --- HTML parse mode: a port of tdlib's parse_html (td/telegram/MessageEntity.cpp) ---------------

# tdlib's is_space also counts NUL, which is how its scans stop at the end of the string.
_SPACES: Final = frozenset(b" \t\r\n\x00\x0b")
_HTML_TAGS: Final = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SIMPLE_ENTITIES: Final = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_NAMED_CHARACTERS: Final = {b"lt": 0x3C, b"gt": 0x3E, b"amp": 0x26, b"quot": 0x22}
_HEX_DIGITS: Final = frozenset(b"0123456789abcdefABCDEF")
_DIGITS: Final = frozenset(b"0123456789")
_ALPHA: Final = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_NAME_TOKEN: Final = _ALPHA | _DIGITS | frozenset(b".-")
_TG_USER_LINK: Final = re.compile(r"tg://user\?id=(\d+)")


@dataclass(slots=True)
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int
    text_offset: int
    expandable: bool


def _decode_html_entity(buf: bytes, pos: int) -> tuple[int, int]:
    """Decode the character reference at ``buf[pos] == '&'``: (code point or 0, next position)."""
    end = pos + 1
    code = 0
    if buf[end] == ord("#"):
        end += 1
        if buf[end] == ord("x"):
            end += 1
            while buf[end] in _HEX_DIGITS:
                code = code * 16 + int(chr(buf[end]), 16)
                end += 1
        else:
            while buf[end] in _DIGITS:
                code = code * 10 + buf[end] - ord("0")
                end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while buf[end] in _ALPHA:
            end += 1
        code = _NAMED_CHARACTERS.get(buf[pos + 1 : end], 0)
        if code == 0:
            return 0, pos
    if buf[end] == ord(";"):
        end += 1
    return code, end


def _tag_argument(tag: str, attribute: bytes, value: str) -> str | None:
    """The attribute a tag keeps: a link's href, a code language, a spoiler class, an emoji id."""
    if tag == "a" and attribute == b"href":
        return value
    if tag == "code" and attribute == b"class" and value.startswith("language-"):
        return value.removeprefix("language-")
    if tag == "span" and attribute == b"class" and value.startswith("tg-"):
        return value.removeprefix("tg-")
    if tag == "tg-emoji" and attribute == b"emoji-id":
        return value
    return None


def _lower(raw: bytes) -> str:
    return raw.lower().decode("utf-8", "replace")  # ASCII-only lowering, like tdlib's to_lower


class _HtmlParser:
    """One run of tdlib's HTML parser over the UTF-8 bytes of a text."""

    def __init__(self, text: str) -> None:
        self.buf = text.encode("utf-8", "surrogatepass") + b"\x00"
        self.size = len(self.buf) - 1
        self.pos = 0
        self.out = bytearray()
        self.utf16 = 0
        self.has_surrogates = False
        self.stack: list[_OpenTag] = []
        self.entities: list[JSON] = []

    def run(self) -> tuple[str, list[JSON]]:
        while self.pos < self.size:
            char = self.buf[self.pos]
            if char == ord("&") and self._character_reference():
                continue
            if char != ord("<"):
                if char & 0xC0 != 0x80:  # the first byte of a character
                    self.utf16 += 2 if char >= 0xF0 else 1
                self.out.append(char)
                self.pos += 1
            elif self.buf[self.pos + 1] == ord("/"):
                self._end_tag()
            else:
                self._start_tag()
        if self.stack:
            msg = f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            raise EntityParseError(msg)
        if self.has_surrogates:
            msg = (
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            )
            raise EntityParseError(msg)
        for entity in self.entities:
            entity.pop("_language", None)
        self.entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
        return self.out.decode("utf-8", "replace"), self.entities

    def _character_reference(self) -> bool:
        code, after = _decode_html_entity(self.buf, self.pos)
        if code == 0:
            return False  # a bare '&' is kept as text
        self.utf16 += 2 if code > 0xFFFF else 1
        if 0xD800 <= code <= 0xDFFF:
            self.has_surrogates = True
        self.out += chr(code).encode("utf-8", "surrogatepass")
        self.pos = after
        return True

    def _skip_spaces(self) -> None:
        while self.buf[self.pos] != 0 and self.buf[self.pos] in _SPACES:
            self.pos += 1

    def _start_tag(self) -> None:
        buf = self.buf
        begin = self.pos
        self.pos += 1
        while buf[self.pos] not in _SPACES and buf[self.pos] != ord(">"):
            self.pos += 1
        if buf[self.pos] == 0:
            msg = f"Unclosed start tag at byte offset {begin}"
            raise EntityParseError(msg)
        name = _lower(buf[begin + 1 : self.pos])
        if name not in _HTML_TAGS:
            msg = f'Unsupported start tag "{name}" at byte offset {begin}'
            raise EntityParseError(msg)
        argument, expandable = self._attributes(name, begin)
        if name == "span" and argument != "spoiler":
            msg = f'Tag "span" must have class "tg-spoiler" at byte offset {begin}'
            raise EntityParseError(msg)
        self.stack.append(_OpenTag(name, argument, self.utf16, len(self.out), expandable))
        self.pos += 1

    def _attributes(self, name: str, begin: int) -> tuple[str, bool]:
        """Read the attributes up to '>': the tag's argument and whether it is expandable."""
        buf = self.buf
        argument = ""
        expandable = False
        while buf[self.pos] != ord(">"):
            self._skip_spaces()
            if buf[self.pos] == ord(">"):
                break
            attribute_begin = self.pos
            while buf[self.pos] not in _SPACES and buf[self.pos] not in b"=>":
                self.pos += 1
            attribute = buf[attribute_begin : self.pos]
            if not attribute:
                msg = f'Empty attribute name in the tag "{name}" at byte offset {begin}'
                raise EntityParseError(msg)
            self._skip_spaces()
            if buf[self.pos] != ord("="):
                # Newer Telegram accepts a bare "expandable" on blockquote; nothing else.
                if name == "blockquote" and attribute == b"expandable":
                    expandable = True
                    continue
                msg = (
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{name}" at byte offset {begin}'
                )
                raise EntityParseError(msg)
            self.pos += 1
            self._skip_spaces()
            if buf[self.pos] == 0:
                msg = f'Unclosed start tag "{name}" at byte offset {begin}'
                raise EntityParseError(msg)
            value = self._attribute_value()
            if buf[self.pos] == 0:
                msg = f"Unclosed start tag at byte offset {begin}"
                raise EntityParseError(msg)
            if (kept := _tag_argument(name, attribute, value)) is not None:
                argument = kept
        return argument, expandable

    def _attribute_value(self) -> str:
        buf = self.buf
        quote = buf[self.pos]
        if quote not in b"'\"":
            # A name token: letters, digits, periods or hyphens, not case sensitive.
            token_begin = self.pos
            while buf[self.pos] in _NAME_TOKEN:
                self.pos += 1
            if buf[self.pos] not in _SPACES and buf[self.pos] != ord(">"):
                msg = f"Unexpected end of name token at byte offset {token_begin}"
                raise EntityParseError(msg)
            return _lower(buf[token_begin : self.pos])
        self.pos += 1
        value = bytearray()
        while buf[self.pos] != quote and buf[self.pos] != 0:
            if buf[self.pos] == ord("&"):
                code, after = _decode_html_entity(buf, self.pos)
                if code:
                    value += chr(code).encode("utf-8", "surrogatepass")
                    self.pos = after
                    continue
            value.append(buf[self.pos])
            self.pos += 1
        if buf[self.pos] == quote:
            self.pos += 1
        return value.decode("utf-8", "replace")

    def _end_tag(self) -> None:
        buf = self.buf
        begin = self.pos
        if not self.stack:
            msg = f"Unexpected end tag at byte offset {begin}"
            raise EntityParseError(msg)
        self.pos += 1
        while buf[self.pos] not in _SPACES and buf[self.pos] != ord(">"):
            self.pos += 1
        end_name = _lower(buf[begin + 2 : self.pos])
        self._skip_spaces()
        if buf[self.pos] != ord(">"):
            msg = f"Unclosed end tag at byte offset {begin}"
            raise EntityParseError(msg)
        tag = self.stack[-1]
        if end_name and end_name != tag.name:
            msg = (
                f'Unmatched end tag at byte offset {begin}, expected "</{tag.name}>", '
                f'found "</{end_name}>"'
            )
            raise EntityParseError(msg)
        if self.utf16 > tag.utf16_offset:
            self._add_entity(tag, tag.utf16_offset, self.utf16 - tag.utf16_offset)
        self.stack.pop()
        self.pos += 1

    def _add_entity(self, tag: _OpenTag, offset: int, length: int) -> None:
        entity: JSON = {"offset": offset, "length": length}
        last = self.entities[-1] if self.entities else None
        same_span = last is not None and (last["offset"], last["length"]) == (offset, length)
        if tag.name in _SIMPLE_ENTITIES:
            entity["type"] = _SIMPLE_ENTITIES[tag.name]
        elif tag.name == "tg-emoji":
            if not tag.argument.isdigit() or int(tag.argument) == 0:
                msg = "Invalid custom emoji identifier specified"
                raise EntityParseError(msg)
            entity |= {"type": "custom_emoji", "custom_emoji_id": tag.argument}
        elif tag.name == "a":
            url = tag.argument or self.out[tag.text_offset :].decode("utf-8", "replace")
            if user := _TG_USER_LINK.fullmatch(url):
                user_id = int(user.group(1))
                entity |= {
                    "type": "text_mention",
                    "user": {"id": user_id, "is_bot": False, "first_name": ""},
                }
            elif url:
                entity |= {"type": "text_link", "url": url}
            else:
                return
        elif tag.name == "pre":
            if last is not None and same_span and last["type"] == "code" and last.get("_language"):
                last |= {"type": "pre", "language": last.pop("_language")}
                return
            entity["type"] = "pre"
        elif tag.name == "code":
            if last is not None and same_span and last["type"] == "pre" and tag.argument:
                last["language"] = tag.argument
                return
            entity |= {"type": "code", "_language": tag.argument}
        else:  # blockquote
            entity["type"] = "expandable_blockquote" if tag.expandable else "blockquote"
        self.entities.append(entity)


def parse_html(text: str) -> tuple[str, list[JSON]]:
    """Parse Telegram's HTML parse mode exactly as the Bot API does.

    Args:
        text: The text as a bot sends it with ``parse_mode="HTML"``.

    Returns:
        The plain text and its entities (offsets and lengths in UTF-16 code units), untrimmed.

    Raises:
        EntityParseError: With tdlib's message, e.g. ``Unsupported start tag "br" at byte
            offset 4`` (offsets count UTF-8 bytes).
    """
    return _HtmlParser(text).run()


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _trim(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Strip surrounding whitespace as Telegram does, moving and clipping the entities."""
    stripped = text.strip(_TRIMMED)
    if not stripped:
        return "", []
    shift = _utf16_length(text[: len(text) - len(text.lstrip(_TRIMMED))])
    limit = _utf16_length(stripped)
    kept: list[JSON] = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, limit)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


# --- request parameters ------------------------------------------------------------------------


def _decode_value(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    with suppress(ValueError):
        if key in _JSON_FIELDS:
            return json.loads(value)
        if key in _INT_FIELDS:
            return int(value)
        if key in _FLOAT_FIELDS:
            return float(value)
        if key in _BOOL_FIELDS and value.lower() in {"true", "false", "1", "0"}:
            return value.lower() in {"true", "1"}
    return value


def _as_int(value: Any, default: int) -> int:
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _bad_request("wrong parameter type")
    try:
        return int(value)
    except ValueError:
        raise _bad_request("wrong parameter type") from None


def _file_bytes(value: bytes | bytearray | web.FileField) -> bytes:
    if isinstance(value, web.FileField):
        return value.file.read()
    return bytes(value)


def _update_type(update: JSON) -> str | None:
    return next((key for key in update if key != "update_id"), None)


def _result(result: Any, description: str | None = None) -> web.Response:
    body: JSON = {"ok": True, "result": result}
    if description is not None:
        body["description"] = description
    return web.json_response(body)


def _error(error: _ApiError) -> web.Response:
    return web.json_response(error.body(), status=error.status)


_Handler = Callable[[JSON], Awaitable[Any]]


class FakeTelegram:
    """A Bot API server for one bot, on a free port of 127.0.0.1.

    Attributes:
        token: The only token it accepts; others get 401.
        bot_id: The bot's user id (by default the number before the token's colon).
        username: The bot's username.
        calls: Every request to a method, in arrival order.
        webhook: The parameters of the last ``setWebhook`` (``certificate`` left out), or
            ``None`` when no webhook is set.
        dropped_updates: Updates thrown away because their type was not in ``allowed_updates``.
        callback_answers: ``answerCallbackQuery`` parameters, by callback query id.
    """

    def __init__(
        self,
        *,
        token: str = "123456:TEST-TOKEN",
        bot_id: int | None = None,
        username: str = "complaints_test_bot",
        first_name: str = "Complaints Test Bot",
        long_poll_cap: float = 2.0,
    ) -> None:
        prefix = token.partition(":")[0]
        if bot_id is None:
            if not prefix.isdigit():
                msg = f"a bot token looks like '<int>:<text>', not {token!r}"
                raise ValueError(msg)
            bot_id = int(prefix)
        self.token = token
        self.bot_id = bot_id
        self.username = username
        self.first_name = first_name
        self.long_poll_cap = long_poll_cap
        self.calls: list[Call] = []
        self.webhook: JSON | None = None
        self.dropped_updates: list[JSON] = []
        self.callback_answers: dict[str, JSON] = {}

        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._pending: list[JSON] = []
        self._update_ids = itertools.count(1)
        self._ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._messages: dict[tuple[int, int], JSON] = {}
        self._chats: dict[int, JSON] = {}
        self._sent: list[JSON] = []
        self._files: dict[str, _StoredFile] = {}
        self._open_callbacks: set[str] = set()
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._allowed_updates: frozenset[str] | None = None
        self._poll_generation = 0
        self._faults: dict[str, deque[_ApiError]] = {}
        self._delays: dict[str, deque[float]] = {}
        self._changed = asyncio.Event()
        self._closing = asyncio.Event()
        self._methods: dict[str, _Handler] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "answercallbackquery": self._answer_callback_query,
            "sendchataction": self._send_chat_action,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "getfile": self._get_file,
        }

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``, for ``TelegramAPIServer.from_base``."""
        if self._base_url is None:
            msg = "FakeTelegram is not started"
            raise RuntimeError(msg)
        return self._base_url

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._handle_file)
        # handler_cancellation: a client that gives up ends its long poll here too.
        runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._closing.clear()
        host, port = runner.addresses[0][:2]
        self._base_url = f"http://{host}:{port}"

    async def stop(self) -> None:
        """Answer waiting long polls and delayed calls at once, then close the server."""
        self._closing.set()
        self._changed.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # --- driving it, as Telegram's users would -------------------------------------------------

    def queue_update(self, update: JSON) -> None:
        """Queue a raw update; ``update_id`` is assigned when missing.

        Messages and callback queries inside are remembered, so the bot can reply to, edit,
        delete or answer them.
        """
        if "update_id" in update:
            last = next(self._update_ids)
            self._update_ids = itertools.count(max(last, update["update_id"] + 1))
        else:
            update = {"update_id": next(self._update_ids), **update}
        for key in ("message", "edited_message"):
            message = update.get(key)
            if isinstance(message, dict) and {"chat", "message_id"} <= message.keys():
                where = (message["chat"]["id"], message["message_id"])
                self._messages[where] = copy.deepcopy(message)
        query = update.get("callback_query")
        if isinstance(query, dict) and "id" in query:
            self._open_callbacks.add(str(query["id"]))
        self._pending.append(update)
        self._changed.set()

    def user_message(
        self,
        *,
        chat_id: int,
        text: str | None = None,
        user_id: int | None = None,
        first_name: str = "Sam",
        reply_to_message_id: int | None = None,
        **extra: Any,
    ) -> JSON:
        """Queue a message from a user; ``extra`` fields are merged into the Message.

        A ``chat_id`` below zero is a group (a supergroup below -10**12). A text starting with
        a command gets its ``bot_command`` entity, as from Telegram.

        Returns:
            The queued update.
        """
        body: JSON = {}
        if text is not None:
            body["text"] = text
            if command := _COMMAND_PREFIX.match(text):
                body["entities"] = [
                    {"type": "bot_command", "offset": 0, "length": _utf16_length(command[0])}
                ]
        return self._incoming(
            chat_id=chat_id,
            user_id=user_id,
            first_name=first_name,
            reply_to_message_id=reply_to_message_id,
            body=body | extra,
        )

    def user_callback(
        self,
        *,
        chat_id: int,
        data: str,
        message_id: int,
        user_id: int | None = None,
        first_name: str = "Sam",
    ) -> JSON:
        """Queue a press on an inline button of a message the bot sent.

        Raises:
            ValueError: The bot sent no such message (use ``queue_update`` for odd cases).
        """
        message = self._messages.get((chat_id, message_id))
        if message is None:
            msg = f"no message {message_id} in chat {chat_id}; use queue_update for raw updates"
            raise ValueError(msg)
        query_id = f"{self.bot_id}{next(self._ids):010d}"
        query = {
            "id": query_id,
            "from": self._user(self._default_user(chat_id, user_id), first_name),
            "chat_instance": f"-{abs(chat_id) * 7919 + self.bot_id}",
            "message": copy.deepcopy(message),
            "data": data,
        }
        update = {"update_id": next(self._update_ids), "callback_query": query}
        self.queue_update(update)
        return copy.deepcopy(update)

    def user_photo(
        self,
        *,
        chat_id: int,
        content: bytes = b"\xff\xd8\xff\xe0 fake jpeg",
        caption: str | None = None,
        width: int = 1280,
        height: int = 960,
        user_id: int | None = None,
        first_name: str = "Sam",
        **extra: Any,
    ) -> JSON:
        """Queue a photo: a thumbnail and the full size, both downloadable."""
        sizes = []
        for scale in (0.07, 1.0):
            stored = self._new_file(content, folder="photos", extension="jpg")
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "width": max(1, round(width * scale)),
                    "height": max(1, round(height * scale)),
                    "file_size": len(content),
                }
            )
        body: JSON = {"photo": sizes} | self._caption(caption)
        return self._incoming(
            chat_id=chat_id, user_id=user_id, first_name=first_name, body=body | extra
        )

    def user_document(
        self,
        *,
        chat_id: int,
        content: bytes = b"%PDF-1.4 fake",
        file_name: str = "document.pdf",
        mime_type: str = "application/pdf",
        caption: str | None = None,
        user_id: int | None = None,
        first_name: str = "Sam",
        **extra: Any,
    ) -> JSON:
        """Queue a document, downloadable with its ``file_id``."""
        extension = file_name.rpartition(".")[2] if "." in file_name else "bin"
        stored = self._new_file(content, folder="documents", extension=extension)
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(content),
        }
        body: JSON = {"document": document} | self._caption(caption)
        return self._incoming(
            chat_id=chat_id, user_id=user_id, first_name=first_name, body=body | extra
        )

    def user_voice(
        self,
        *,
        chat_id: int,
        content: bytes = b"OggS fake voice",
        duration: int = 3,
        mime_type: str = "audio/ogg",
        user_id: int | None = None,
        first_name: str = "Sam",
        **extra: Any,
    ) -> JSON:
        """Queue a voice note, downloadable with its ``file_id``."""
        stored = self._new_file(content, folder="voice", extension="oga")
        voice = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": mime_type,
            "file_size": len(content),
        }
        return self._incoming(
            chat_id=chat_id, user_id=user_id, first_name=first_name, body={"voice": voice} | extra
        )

    def user_sticker(
        self,
        *,
        chat_id: int,
        emoji: str = "\N{THUMBS UP SIGN}",
        content: bytes = b"RIFF\x00\x00\x00\x00WEBP fake",
        user_id: int | None = None,
        first_name: str = "Sam",
        **extra: Any,
    ) -> JSON:
        """Queue a regular (static) sticker."""
        stored = self._new_file(content, folder="stickers", extension="webp")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": len(content),
        }
        return self._incoming(
            chat_id=chat_id,
            user_id=user_id,
            first_name=first_name,
            body={"sticker": sticker} | extra,
        )

    def user_location(
        self,
        *,
        chat_id: int,
        latitude: float = 51.5072,
        longitude: float = -0.1276,
        user_id: int | None = None,
        first_name: str = "Sam",
        **extra: Any,
    ) -> JSON:
        """Queue a shared location."""
        location = {"latitude": latitude, "longitude": longitude}
        return self._incoming(
            chat_id=chat_id,
            user_id=user_id,
            first_name=first_name,
            body={"location": location} | extra,
        )

    def user_edit(self, *, chat_id: int, message_id: int, text: str, **extra: Any) -> JSON:
        """Queue an ``edited_message`` update for a message the user sent earlier.

        Raises:
            ValueError: There is no such message from a user.
        """
        message = self._messages.get((chat_id, message_id))
        if message is None or message.get("from", {}).get("id") == self.bot_id:
            msg = f"no user message {message_id} in chat {chat_id} to edit"
            raise ValueError(msg)
        message |= {"text": text, "edit_date": max(int(time.time()), message["date"])} | extra
        message.pop("entities", None)
        update = {"update_id": next(self._update_ids), "edited_message": copy.deepcopy(message)}
        self.queue_update(update)
        return copy.deepcopy(update)

    def add_file(self, file_id: str, content: bytes, *, file_path: str | None = None) -> None:
        """Make ``file_id`` resolvable by ``getFile`` and its bytes downloadable."""
        if file_path is None:
            file_path = f"documents/file_{next(self._ids)}"
        unique = hashlib.sha1(file_id.encode(), usedforsecurity=False).hexdigest()[:16]
        self._files[file_id] = _StoredFile(file_id, f"AQAD{unique}", content, file_path)

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates queued and not yet confirmed by a ``getUpdates`` offset."""
        return copy.deepcopy(self._pending)

    # --- what the bot did ------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        """The calls of one method (case-insensitive, as Telegram matches names)."""
        wanted = method.lower()
        return [call for call in self.calls if call.method.lower() == wanted]

    def sent_messages(self, chat_id: int | None = None) -> list[JSON]:
        """The Messages the fake returned for ``sendMessage``, oldest first.

        Each is the Message as Telegram returns it (``text`` without markup, ``entities``) plus
        keys the real API does not return: ``raw_text`` (the text as the bot sent it),
        ``parse_mode`` and ``reply_markup`` (decoded, whatever kind of keyboard).
        """
        return [
            copy.deepcopy(sent)
            for sent in self._sent
            if chat_id is None or sent["chat"]["id"] == chat_id
        ]

    def message(self, chat_id: int, message_id: int) -> JSON:
        """The current state of a message (after edits); ``KeyError`` once deleted."""
        return copy.deepcopy(self._messages[(chat_id, message_id)])

    @property
    def commands(self) -> list[JSON]:
        """The commands set for the default scope and all languages."""
        return copy.deepcopy(self._commands.get(("default", ""), []))

    def commands_for(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        """The commands set for a scope (e.g. ``{"type": "all_private_chats"}``) and language."""
        return copy.deepcopy(self._commands.get(self._commands_key(scope, language_code), []))

    async def wait_for(
        self, predicate: Callable[[], bool], timeout: float = 5.0, *, interval: float = 0.01
    ) -> None:
        """Wait until ``predicate()`` is true.

        Raises:
            TimeoutError: It stayed false; the message shows the condition and the last calls.
        """
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() >= deadline:
                raise TimeoutError(self._describe_wait(predicate, timeout))
            await asyncio.sleep(interval)

    # --- faults ----------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with an error instead of doing them.

        ``description`` defaults to Telegram's text for the status (403 is "bot was blocked by
        the user"; 429 is "Too Many Requests: retry after N", with ``retry_after`` 1 unless
        given). Faults for a method are used in the order they were added.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            description = _DEFAULT_DESCRIPTIONS.get(status, "Error")
            if status == 429:
                description = f"Too Many Requests: retry after {retry_after}"
        fault = _ApiError(status, description, retry_after)
        self._faults.setdefault(method.lower(), deque()).extend([fault] * times)

    def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Hold the answer to the next ``times`` calls of ``method`` for ``seconds``.

        The call itself is carried out first: a client that times out meanwhile has still
        sent its message, as can happen with the real API.
        """
        self._delays.setdefault(method.lower(), deque()).extend([seconds] * times)

    # --- HTTP -------------------------------------------------------------------------------

    async def _handle_method(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            params = await self._read_params(request)
        except _ApiError as error:
            return _error(error)
        self.calls.append(Call(method=method, params=params, at=time.monotonic()))
        if request.match_info["token"] != self.token:
            return _error(_ApiError(401, "Unauthorized"))
        key = method.lower()
        handler = self._methods.get(key)
        if handler is None:
            return _error(_ApiError(404, "Not Found: method not found"))
        try:
            faults = self._faults.get(key)
            if faults:
                raise faults.popleft()
            result = await handler(params)
        except _ApiError as error:
            response = _error(error)
        else:
            if isinstance(result, _Described):
                response = _result(result.result, result.description)
            else:
                response = _result(result)
        delays = self._delays.get(key)
        if delays:
            await self._sleep(delays.popleft())
        return response

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(_ApiError(401, "Unauthorized"))
        path = request.match_info["file_path"]
        for stored in self._files.values():
            if stored.file_path == path:
                return web.Response(body=stored.content, content_type="application/octet-stream")
        return _error(_ApiError(404, "Not Found"))

    @staticmethod
    async def _read_params(request: web.Request) -> JSON:
        raw: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise _bad_request("can't parse JSON encoded request body") from None
                if not isinstance(body, dict):
                    raise _bad_request("can't parse JSON encoded request body")
                raw |= body
            else:
                form = await request.post()
                for key, value in form.items():
                    raw[key] = value if isinstance(value, str) else _file_bytes(value)
        return {key: _decode_value(key, value) for key, value in raw.items()}

    async def _sleep(self, seconds: float) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    # --- methods ----------------------------------------------------------------------------

    @property
    def _me(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    async def _get_me(self, params: JSON) -> JSON:
        return self._me | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _get_updates(self, params: JSON) -> list[JSON]:
        if self.webhook is not None:
            msg = (
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first"
            )
            raise _ApiError(409, msg)
        offset = _as_int(params.get("offset"), 0)
        limit = min(max(_as_int(params.get("limit"), 100), 1), 100)
        timeout = max(_as_int(params.get("timeout"), 0), 0)
        if "allowed_updates" in params:
            allowed = params["allowed_updates"]
            if not isinstance(allowed, list):
                raise _bad_request("can't parse allowed_updates")
            self._allowed_updates = frozenset(allowed) if allowed else None
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]
        self._poll_generation += 1
        generation = self._poll_generation
        self._changed.set()  # ends an older request still waiting
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(timeout, self.long_poll_cap)
        while True:
            if generation != self._poll_generation:
                raise _ApiError(409, _DEFAULT_DESCRIPTIONS[409])
            batch = self._deliverable()[:limit]
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or self._closing.is_set():
                return copy.deepcopy(batch)
            self._changed.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    def _deliverable(self) -> list[JSON]:
        kept = []
        for update in self._pending:
            kind = _update_type(update)
            if self._allowed_updates is not None:
                wanted = kind in self._allowed_updates
            else:
                wanted = kind not in _OPT_IN_UPDATE_TYPES
            if wanted or kind is None:
                kept.append(update)
            else:
                self.dropped_updates.append(update)
        self._pending = kept
        return kept

    async def _send_message(self, params: JSON) -> JSON:
        chat_id = self._chat_id(params)
        text, entities = self._formatted_text(params)
        markup = self._reply_markup(params)
        reply_to = self._reply_target(params, chat_id)
        message: JSON = {
            "message_id": next(self._message_counter(chat_id)),
            "from": self._me,
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            "text": text,
        }
        if entities:
            message["entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup  # only inline keyboards belong to a Message
        self._messages[(chat_id, message["message_id"])] = message
        record = copy.deepcopy(message)
        record |= {
            "raw_text": params["text"],
            "parse_mode": params.get("parse_mode"),
            "reply_markup": copy.deepcopy(markup),
        }
        self._sent.append(record)
        return message

    async def _edit_message_text(self, params: JSON) -> JSON | bool:
        text, entities = self._formatted_text(params)
        markup = self._reply_markup(params)
        if "inline_message_id" in params:
            return True
        message = self._editable(params, "message to edit not found")
        inline = markup if markup is not None and "inline_keyboard" in markup else None
        if (text, entities, inline) == (
            message.get("text"),
            message.get("entities", []),
            message.get("reply_markup"),
        ):
            raise _ApiError(400, _NOT_MODIFIED)
        message |= {"text": text, "edit_date": int(time.time())}
        self._set_optional(message, "entities", entities or None)
        self._set_optional(message, "reply_markup", inline)
        return copy.deepcopy(message)

    async def _edit_message_reply_markup(self, params: JSON) -> JSON | bool:
        markup = self._reply_markup(params)
        if "inline_message_id" in params:
            return True
        message = self._editable(params, "message to edit not found")
        inline = markup if markup is not None and "inline_keyboard" in markup else None
        if inline == message.get("reply_markup"):
            raise _ApiError(400, _NOT_MODIFIED)
        message["edit_date"] = int(time.time())
        self._set_optional(message, "reply_markup", inline)
        return copy.deepcopy(message)

    async def _delete_message(self, params: JSON) -> bool:
        chat_id = self._chat_id(params)
        key = (chat_id, _as_int(params.get("message_id"), 0))
        if key not in self._messages:
            raise _bad_request("message to delete not found")
        del self._messages[key]
        return True

    async def _answer_callback_query(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._open_callbacks:
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        self._open_callbacks.discard(query_id)
        self.callback_answers[query_id] = params
        return True

    async def _send_chat_action(self, params: JSON) -> bool:
        self._chat_id(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True

    async def _set_my_commands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not _BOT_COMMAND.fullmatch(
                str(command.get("command", ""))
            ):
                raise _bad_request("BOT_COMMAND_INVALID")
        self._commands[self._commands_key(params.get("scope"), params.get("language_code"))] = [
            {"command": c["command"], "description": c.get("description", "")} for c in commands
        ]
        return True

    async def _get_my_commands(self, params: JSON) -> list[JSON]:
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        return self._commands.get(key, [])

    async def _delete_my_commands(self, params: JSON) -> bool:
        self._commands.pop(
            self._commands_key(params.get("scope"), params.get("language_code")), None
        )
        return True

    async def _set_webhook(self, params: JSON) -> _Described:
        url = str(params.get("url") or "")
        if not url:
            return await self._delete_webhook(params)
        parts = urlsplit(url)
        if parts.scheme != "https":
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if (parts.port or 443) not in _WEBHOOK_PORTS:
            raise _bad_request(
                "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
            )
        if params.get("drop_pending_updates"):
            self._pending.clear()
        webhook = {key: value for key, value in params.items() if key != "certificate"}
        already = webhook == self.webhook
        self.webhook = webhook
        self._changed.set()  # a waiting getUpdates must now fail with 409
        return _Described(True, "Webhook is already set" if already else "Webhook was set")

    async def _delete_webhook(self, params: JSON) -> _Described:
        if params.get("drop_pending_updates"):
            self._pending.clear()
        was_set = self.webhook is not None
        self.webhook = None
        return _Described(True, "Webhook was deleted" if was_set else "Webhook is already deleted")

    async def _get_webhook_info(self, params: JSON) -> JSON:
        info: JSON = {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook is not None:
            info["url"] = self.webhook["url"]
            info["max_connections"] = self.webhook.get("max_connections", 40)
            for key in ("ip_address", "allowed_updates"):
                if key in self.webhook:
                    info[key] = self.webhook[key]
        return info

    async def _get_file(self, params: JSON) -> JSON:
        stored = self._files.get(str(params.get("file_id", "")))
        if stored is None:
            raise _bad_request("invalid file_id")
        if len(stored.content) > MAX_DOWNLOAD_BYTES:
            raise _bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }

    # --- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _chat_id(params: JSON) -> int:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad_request("chat_id is empty")
        if not isinstance(chat_id, int) or isinstance(chat_id, bool):
            raise _bad_request("chat not found")
        return chat_id

    @staticmethod
    def _formatted_text(params: JSON) -> tuple[str, list[JSON]]:
        raw = params.get("text")
        if not isinstance(raw, str) or not raw:
            raise _bad_request("message text is empty")
        parse_mode = params.get("parse_mode")
        if parse_mode:
            mode = str(parse_mode).lower()
            if mode == "html":
                try:
                    text, entities = parse_html(raw)
                except EntityParseError as error:
                    raise _bad_request(f"can't parse entities: {error}") from None
            elif mode in {"markdown", "markdownv2"}:
                text, entities = raw, []
            else:
                raise _bad_request("unsupported parse_mode")
        else:
            given = params.get("entities") or []
            if not isinstance(given, list):
                raise _bad_request("can't parse entities JSON object")
            text, entities = raw, given
        text, entities = _trim(text, entities)
        if not text:
            raise _bad_request("message text is empty")
        if len(text) > MAX_MESSAGE_LENGTH:
            raise _bad_request("message is too long")
        return text, entities

    @staticmethod
    def _reply_markup(params: JSON) -> JSON | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if set(button) <= {"text"}:
                    raise _bad_request("text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES:
                    raise _bad_request("BUTTON_DATA_INVALID")
        return markup

    def _reply_target(self, params: JSON, chat_id: int) -> JSON | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_missing = bool(reply.get("allow_sending_without_reply"))
        else:
            message_id = params.get("reply_to_message_id")
            allow_missing = bool(params.get("allow_sending_without_reply"))
        if not message_id:
            return None
        target = self._messages.get((chat_id, _as_int(message_id, 0)))
        if target is None:
            if allow_missing:
                return None
            raise _bad_request("message to be replied not found")
        return {key: value for key, value in target.items() if key != "reply_to_message"}

    def _editable(self, params: JSON, missing: str) -> JSON:
        chat_id = self._chat_id(params)
        message = self._messages.get((chat_id, _as_int(params.get("message_id"), 0)))
        if message is None:
            raise _bad_request(missing)
        if message.get("from", {}).get("id") != self.bot_id:
            raise _bad_request("message can't be edited")
        return message

    @staticmethod
    def _set_optional(message: JSON, key: str, value: Any) -> None:
        if value is None:
            message.pop(key, None)
        else:
            message[key] = value

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        if not scope or scope == {"type": "default"}:
            scope_key = "default"
        else:
            scope_key = json.dumps(scope, sort_keys=True)
        return scope_key, str(language_code or "")

    def _message_counter(self, chat_id: int) -> itertools.count[int]:
        return self._message_ids.setdefault(chat_id, itertools.count(1))

    @staticmethod
    def _default_user(chat_id: int, user_id: int | None) -> int:
        if user_id is not None:
            return user_id
        return chat_id if chat_id > 0 else DEFAULT_GROUP_USER_ID

    @staticmethod
    def _user(user_id: int, first_name: str) -> JSON:
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"}

    def _chat(self, chat_id: int, first_name: str | None = None) -> JSON:
        if chat_id in self._chats:
            return copy.deepcopy(self._chats[chat_id])
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": first_name or "Resident"}
        kind = "supergroup" if chat_id < _SUPERGROUP_IDS_BELOW else "group"
        return {"id": chat_id, "type": kind, "title": f"Test {kind} {chat_id}"}

    @staticmethod
    def _caption(caption: str | None) -> JSON:
        return {} if caption is None else {"caption": caption}

    def _new_file(self, content: bytes, *, folder: str, extension: str) -> _StoredFile:
        number = next(self._ids)
        file_id = f"BQACAgQAAxkBAAI{number:08d}"
        self.add_file(file_id, content, file_path=f"{folder}/file_{number}.{extension}")
        return self._files[file_id]

    def _incoming(
        self,
        *,
        chat_id: int,
        user_id: int | None,
        first_name: str,
        body: JSON,
        reply_to_message_id: int | None = None,
    ) -> JSON:
        if chat_id not in self._chats:
            self._chats[chat_id] = self._chat(chat_id, first_name)
        message: JSON = {
            "message_id": next(self._message_counter(chat_id)),
            "from": self._user(self._default_user(chat_id, user_id), first_name),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
        }
        if reply_to_message_id is not None:
            target = self._messages.get((chat_id, reply_to_message_id))
            if target is None:
                msg = f"no message {reply_to_message_id} in chat {chat_id} to reply to"
                raise ValueError(msg)
            message["reply_to_message"] = {
                key: value for key, value in target.items() if key != "reply_to_message"
            }
        message |= body
        update = {"update_id": next(self._update_ids), "message": message}
        self.queue_update(update)
        return copy.deepcopy(update)

    def _describe_wait(self, predicate: Callable[[], bool], timeout: float) -> str:
        try:
            condition = inspect.getsource(predicate).strip()
        except (OSError, TypeError):
            condition = getattr(predicate, "__qualname__", repr(predicate))
        recent = [
            f"{call.method}({', '.join(f'{k}={v!r}' for k, v in call.params.items())})"
            for call in self.calls[-8:]
        ]
        lines = [
            f"still false after {timeout}s: {condition}",
            f"last calls ({len(self.calls)} in all): " + ("; ".join(recent) or "none"),
            f"pending updates: {len(self._pending)}; dropped updates (not in allowed_updates): "
            f"{len(self.dropped_updates)}",
        ]
        return "\n".join(lines)
