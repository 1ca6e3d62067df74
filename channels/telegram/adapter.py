"""The Telegram channel: residents chat with the bot; staff get handovers in a staff chat.

aiogram is used as the Bot API client only; the engine owns all state (no aiogram FSM).
Nothing is lost: every update is first stored in the inbox (``core`` ``inbox`` table) — by
polling before the offset moves past it, by the webhook before Telegram gets its 200 — and a
worker then hands each stored update to the engine, whose receipts make a redelivery harmless.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, Final, Protocol

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import BotCommand, Update
from aiohttp import web
from pydantic import ValidationError

from channels.base import Channel, OnMessage, jittered_backoff
from channels.telegram.render import render
from channels.telegram.translate import Translated, translate
from conversations.envelopes import Attachment, OutboundKind, OutboundMessage
from conversations.wording import Wording
from core.clock import Clock
from core.db.store import Store
from core.errors import (
    PermanentChannelError,
    RecipientUnreachableError,
    StorageError,
    TemporaryChannelError,
)
from core.outbox.service import OutboxService
from core.settings import TelegramSettings

log = logging.getLogger(__name__)

CHANNEL: Final = "telegram"
ALLOWED_UPDATES: Final = ["message", "edited_message", "callback_query"]
SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"
MAX_WEBHOOK_BODY: Final = 1024 * 1024
MAX_ATTEMPTS: Final = 5
PRIVATE_CHAT_INTERVAL: Final = 1.0
GROUP_INTERVAL: Final = 3.0
MAX_STAFF_REPLY: Final = 4000
"""Longest answer to a staff command in one message (Telegram allows 4096 characters)."""
MANAGER_RECIPIENT: Final = "manager"
"""The recipient of a staff notice meant for the manager chat (overdue alerts)."""


class StaffRelay(Protocol):
    """Sends a staff member's reply to a handover notice on to the resident."""

    async def __call__(
        self, *, channel: str, message_id: str, replied_to: str, staff_id: str, text: str
    ) -> str | None:
        """Relay ``text``; return the complaint's reference, or ``None`` if nothing was sent."""
        ...


class StaffCommand(Protocol):
    """Runs a command a staff member posted in the staff chat (``/staff …``)."""

    async def __call__(self, *, text: str, staff_id: str, request_id: str) -> str | None:
        """Run it; return the reply for the staff chat, or ``None`` if ``text`` is no command."""
        ...


class TelegramChannel(Channel):
    """Receives updates by polling or webhook and sends messages, through aiogram's client.

    Args:
        settings: the Telegram settings (token, API server, mode, staff chat).
        store: the database (inbox, dead letters).
        clock: where "now" comes from.
        evidence_dir: where photos, documents and voice notes are saved.
        wording: the bot's words (the ``[telegram]`` and ``[telegram_commands]`` labels).
        bot: an aiogram ``Bot`` to use instead of building one (tests).
        poll_timeout: seconds a ``getUpdates`` long poll may wait.
        staff_relay: where staff replies in the staff chat go (the engine).
        staff_command: what runs commands posted in the staff chat (the staff commands).
    """

    name = CHANNEL

    def __init__(
        self,
        *,
        settings: TelegramSettings,
        store: Store,
        clock: Clock,
        evidence_dir: Path,
        bot: Bot | None = None,
        wording: Wording,
        poll_timeout: int = 25,
        staff_relay: StaffRelay | None = None,
        staff_command: StaffCommand | None = None,
    ) -> None:
        if settings.token is None:
            raise ValueError("the Telegram channel needs COMPLAINTS_TELEGRAM__TOKEN")
        self._settings = settings
        self._store = store
        self._clock = clock
        self._evidence_dir = evidence_dir
        self._bot = bot or Bot(
            settings.token.get_secret_value(),
            session=AiohttpSession(api=TelegramAPIServer.from_base(settings.api_url)),
        )
        self._poll_timeout = poll_timeout
        self._staff_relay = staff_relay
        self._staff_command = staff_command
        self._words = wording
        self._outbox = OutboxService(clock=clock)
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.webhook_port: int | None = None
        """The port the webhook server listens on, once started."""

    # ------------------------------------------------------------------ lifecycle

    async def start(self, on_message: OnMessage) -> None:
        """Set the command menu, then receive until :meth:`stop` (polling or webhook)."""
        self._stop.clear()
        await self._call(
            self._bot.set_my_commands(
                [
                    BotCommand(command=c, description=d)
                    for c, d in self._words.labels("telegram_commands").items()
                ]
            )
        )
        async with asyncio.TaskGroup() as tasks:
            if self._settings.mode == "webhook":
                await self._start_webhook()
            else:
                # A webhook left set would make getUpdates fail; deleting it keeps the updates
                # Telegram holds, so switching modes strands none (drop_pending_updates=False).
                await self._call(self._bot.delete_webhook(drop_pending_updates=False))
                tasks.create_task(self._poll())
            tasks.create_task(self._work(on_message))

    async def stop(self) -> None:
        """Stop receiving; the update being processed finishes first."""
        self._stop.set()
        self._wake.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self._bot.session.close()

    # ------------------------------------------------------------------ receiving

    async def _poll(self) -> None:
        offset: int | None = None
        failures = 0
        while not self._stop.is_set():
            try:
                updates = await self._bot.get_updates(
                    offset=offset,
                    timeout=self._poll_timeout,
                    allowed_updates=ALLOWED_UPDATES,
                    request_timeout=self._poll_timeout + 10,
                )
            except (TelegramAPIError, TelegramNetworkError, TimeoutError) as error:
                if self._stop.is_set():
                    break  # the long poll was cut short by stop(): nothing failed
                failures += 1
                delay = jittered_backoff(failures, base=1.0, cap=60.0)
                retry_after = getattr(error, "retry_after", None)
                delay = max(delay, float(retry_after or 0))
                log.warning(
                    "telegram polling failed; retrying",
                    extra={"error": type(error).__name__, "retry_in_s": round(delay, 1)},
                )
                await self._sleep(delay)
                continue
            failures = 0
            if not updates:
                continue
            # Stored (committed) before the offset moves past them: a crash re-fetches them.
            # Kept as Telegram sent them (its own field names, such as "from").
            await self._store_updates(
                [u.model_dump(mode="json", exclude_none=True, by_alias=True) for u in updates]
            )
            offset = updates[-1].update_id + 1

    async def _store_updates(self, payloads: list[dict[str, Any]]) -> None:
        now = self._clock.now()
        async with self._store.unit_of_work() as uow:
            for payload in payloads:
                await uow.inbox.store(CHANNEL, str(payload["update_id"]), payload, now)
        self._wake.set()

    async def _start_webhook(self) -> None:
        url = self._settings.webhook_url
        secret = self._settings.webhook_secret
        if not url or secret is None:
            raise PermanentChannelError(
                "webhook mode needs COMPLAINTS_TELEGRAM__WEBHOOK_URL and __WEBHOOK_SECRET"
            )
        app = web.Application(client_max_size=MAX_WEBHOOK_BODY)
        app.router.add_post(_path_of(url), self._on_webhook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._settings.webhook_host, self._settings.webhook_port)
        await site.start()
        addresses = self._runner.addresses
        self.webhook_port = int(addresses[0][1]) if addresses else self._settings.webhook_port
        await self._call(
            self._bot.set_webhook(
                url,
                secret_token=secret.get_secret_value(),
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
            )
        )
        log.info("telegram webhook listening", extra={"port": self.webhook_port})

    async def _on_webhook(self, request: web.Request) -> web.Response:
        """Store the update, then answer 200 at once; the worker processes it."""
        secret = self._settings.webhook_secret
        # Compared as bytes: compare_digest refuses non-ASCII text, which a caller controls.
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        expected = secret.get_secret_value().encode() if secret is not None else b""
        if secret is None or not hmac.compare_digest(given, expected):
            log.warning("telegram webhook call with a wrong secret refused")
            return web.Response(status=401)
        try:
            payload = await request.json()
        except ValueError:
            return web.Response(status=400)
        if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
            return web.Response(status=400)
        try:
            await self._store_updates([payload])
        except StorageError:
            log.exception("could not store a telegram update; Telegram will send it again")
            return web.Response(status=503)
        return web.Response(status=200)

    async def _work(self, on_message: OnMessage) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                handled = await self.process_inbox(on_message)
            except StorageError:
                log.exception("telegram inbox could not be read; retrying")
                handled = 0
            if not handled:
                await _wait(self._wake, timeout=1.0)

    async def process_inbox(self, on_message: OnMessage) -> int:
        """Hand every stored, unprocessed update to the engine; return how many were done."""
        async with self._store.unit_of_work() as uow:
            pending = await uow.inbox.claim_pending(CHANNEL)
        for inbox_id, payload in pending:
            try:
                await self._process(payload, on_message)
            except Exception as error:  # one bad update must never stop the others
                await self._failed(inbox_id, payload, error)
                continue
            async with self._store.unit_of_work() as uow:
                await uow.inbox.mark_processed(inbox_id, self._clock.now())
        return len(pending)

    async def _process(self, payload: dict[str, Any], on_message: OnMessage) -> None:
        message = payload.get("message")
        staff_chat = self._settings.staff_chat_id
        if isinstance(message, dict) and message.get("chat", {}).get("id") == staff_chat:
            await self._from_staff_chat(payload["update_id"], message)
            return
        update = Update.model_validate(payload, context={"bot": self._bot})
        translated = translate(
            update, received_at=self._clock.now(), wording=self._words.labels("telegram")
        )
        await self._acknowledge_press(translated)
        chat = _chat_of(payload)
        if translated.reply is not None and chat is not None:
            await self._reply_directly(str(chat), translated.reply)
        if translated.inbound is None:
            return
        inbound = translated.inbound
        if inbound.attachments:
            inbound = inbound.model_copy(
                update={"attachments": await self._download(inbound.attachments)}
            )
        await on_message(inbound)

    async def _from_staff_chat(self, update_id: int, message: dict[str, Any]) -> None:
        """A reply to a handover notice, by a configured staff member, goes to the resident."""
        sender = message.get("from", {}).get("id")
        if sender not in self._settings.staff_user_ids:
            log.warning(
                "message in the staff chat from someone not in STAFF_USER_IDS ignored",
                extra={"user_id": sender},
            )
            return
        replied = message.get("reply_to_message", {}).get("message_id")
        text = message.get("text") or ""
        if self._staff_command is not None and text.lstrip().startswith("/"):
            answer = await self._staff_command(
                text=text, staff_id=f"telegram:{sender}", request_id=f"{CHANNEL}:update:{update_id}"
            )
            if answer is not None:
                for part in _parts(answer):
                    await self._reply_directly(str(self._settings.staff_chat_id), part)
                return
        if replied is None or not text.strip() or self._staff_relay is None:
            return
        reference = await self._staff_relay(
            channel=f"{CHANNEL}-staff",
            message_id=f"update:{update_id}",
            replied_to=str(replied),
            staff_id=f"telegram:{sender}",
            text=text,
        )
        answer = (
            self._words.label("relayed", "telegram", reference=reference)
            if reference
            else self._words.label("not_relayed", "telegram")
        )
        await self._reply_directly(str(self._settings.staff_chat_id), answer)

    async def _acknowledge_press(self, translated: Translated) -> None:
        """Answer a button press and remove its keyboard so it cannot be pressed twice."""
        if translated.callback_query_id is not None:
            try:
                await self._bot.answer_callback_query(translated.callback_query_id)
            except TelegramAPIError as error:  # too old to answer after a restart: harmless
                log.info("callback query not answered", extra={"error": str(error)})
        if translated.keyboard_message is not None:
            chat_id, message_id = translated.keyboard_message
            try:
                await self._bot.edit_message_reply_markup(
                    chat_id=chat_id, message_id=message_id, reply_markup=None
                )
            except TelegramAPIError as error:  # already removed ("message is not modified")
                log.info("keyboard not removed", extra={"error": str(error)})

    async def _reply_directly(self, chat: str, text: str) -> None:
        try:
            await self._bot.send_message(chat_id=int(chat), text=text)
        except (TelegramAPIError, TelegramNetworkError, ValueError) as error:
            log.warning("could not answer unsupported input", extra={"error": str(error)})

    async def _download(self, attachments: tuple[Attachment, ...]) -> tuple[Attachment, ...]:
        """Save files as evidence; the attachment then refers to the saved copy."""
        directory = self._evidence_dir / CHANNEL
        directory.mkdir(parents=True, exist_ok=True)
        saved = []
        for attachment in attachments:
            target = directory / _safe_name(attachment.reference, attachment.filename)
            try:
                await self._bot.download(attachment.reference, destination=target)
            except (TelegramAPIError, TelegramNetworkError) as error:
                # The engine still records the file id; staff can fetch it later.
                log.warning("could not download a file", extra={"error": str(error)})
                saved.append(attachment)
                continue
            saved.append(attachment.model_copy(update={"reference": str(target)}))
        return tuple(saved)

    async def _failed(self, inbox_id: int, payload: dict[str, Any], error: Exception) -> None:
        reason = f"{type(error).__name__}: {error}"
        log.error("telegram update failed", extra={"inbox_id": inbox_id, "error": reason})
        async with self._store.unit_of_work() as uow:
            attempts = await uow.inbox.mark_failed(inbox_id, reason, give_up_at=None)
            if attempts < MAX_ATTEMPTS and not isinstance(error, ValidationError):
                return
            await uow.inbox.mark_failed(inbox_id, reason, give_up_at=self._clock.now())
            await self._outbox.dead_letter(
                uow,
                source=CHANNEL,
                external_id=str(payload.get("update_id")),
                payload=repr(payload),
                reason=reason,
            )

    # ------------------------------------------------------------------ sending

    async def send(self, message: OutboundMessage) -> str | None:
        """Send a message (in parts if long); return the Telegram id of the last part.

        Raises:
            TemporaryChannelError: 429 (with ``retry_after``), 5xx or a network failure.
            PermanentChannelError: blocked by the user, chat not found, a bad request, or no
                staff chat configured for a staff notice.
        """
        chat_id = self._chat_for(message)
        last: int | None = None
        for part in render(message):
            try:
                sent = await self._bot.send_message(
                    chat_id=chat_id,
                    text=part.text,
                    parse_mode="HTML",
                    reply_markup=part.reply_markup,
                )
            except TelegramRetryAfter as error:
                raise TemporaryChannelError(
                    f"telegram rate limit: {error.message}", retry_after=error.retry_after
                ) from error
            except (TelegramServerError, TelegramNetworkError) as error:
                raise TemporaryChannelError(f"telegram unavailable: {error}") from error
            except TelegramForbiddenError as error:
                # 403: blocked by the user, or they never pressed Start.
                raise RecipientUnreachableError(f"telegram refused: {error.message}") from error
            except TelegramBadRequest as error:
                raise PermanentChannelError(f"telegram bad request: {error.message}") from error
            except TelegramAPIError as error:
                raise PermanentChannelError(f"telegram error: {error.message}") from error
            last = sent.message_id
        return None if last is None else str(last)

    def min_interval(self, recipient: str) -> float:
        """Telegram allows about one message a second to a chat, 20 a minute to a group."""
        try:
            chat = int(recipient)
        except ValueError:  # the staff chat, a group
            return GROUP_INTERVAL
        return PRIVATE_CHAT_INTERVAL if chat > 0 else GROUP_INTERVAL

    def _chat_for(self, message: OutboundMessage) -> int:
        if message.kind == OutboundKind.STAFF_NOTICE:
            # Overdue alerts name the manager; without a manager chat the staff chat gets them.
            manager = self._settings.manager_chat_id
            if message.recipient == MANAGER_RECIPIENT and manager is not None:
                return manager
            if self._settings.staff_chat_id is None:
                raise PermanentChannelError("no COMPLAINTS_TELEGRAM__STAFF_CHAT_ID configured")
            return self._settings.staff_chat_id
        try:
            return int(message.recipient)
        except ValueError:
            raise PermanentChannelError(f"not a Telegram chat id: {message.recipient!r}") from None

    # ------------------------------------------------------------------ helpers

    async def _call(self, call: Awaitable[Any]) -> Any:
        try:
            return await call
        except TelegramAPIError as error:
            raise PermanentChannelError(f"telegram refused: {error.message}") from error

    async def _sleep(self, seconds: float) -> None:
        await _wait(self._stop, timeout=seconds)


async def _wait(event: asyncio.Event, *, timeout: float) -> None:
    try:
        await asyncio.wait_for(event.wait(), timeout=timeout)
    except TimeoutError:
        return


def _path_of(url: str) -> str:
    match = re.match(r"^[a-z]+://[^/]+(/.*)?$", url)
    path = match.group(1) if match else None
    return path or "/"


def _parts(text: str, limit: int = MAX_STAFF_REPLY) -> list[str]:
    """Split a long reply at line ends into messages Telegram accepts (4096 characters)."""
    parts: list[str] = []
    current = ""
    for whole in text.splitlines(keepends=True):
        line = whole
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        if len(current) + len(line) > limit:
            parts.append(current)
            current = ""
        current += line
    if current.strip():
        parts.append(current)
    return [p.rstrip("\n") for p in parts] or [text]


def _chat_of(payload: dict[str, Any]) -> int | None:
    for key in ("message", "edited_message"):
        chat = payload.get(key, {}).get("chat", {})
        if isinstance(chat.get("id"), int):
            return int(chat["id"])
    return None


def _safe_name(file_id: str, filename: str | None) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]", "_", file_id)[:80]
    suffix = Path(filename).suffix if filename else ""
    suffix = re.sub(r"[^A-Za-z0-9.]", "", suffix)[:10]
    return stem + suffix
