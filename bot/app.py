"""The application: the one place concrete objects are built and the long-running process."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TextIO

from sqlalchemy.engine import make_url

from bot.dispatcher import Dispatcher
from bot.health import HealthServer
from bot.metrics import Metrics
from bot.scheduler import Scheduler
from bot.staff_cli import StaffChat, build_casework
from channels.base import Channel
from channels.email.adapter import EmailChannel
from channels.telegram.adapter import TelegramChannel
from channels.terminal import TerminalChannel
from conversations.engine import Engine
from conversations.envelopes import STAFF_CHANNEL, InboundMessage
from conversations.notify import Notifier
from conversations.wording import Wording
from core.clock import Clock, SystemClock
from core.complaints.service import ComplaintService
from core.complaints.service_requests import ServiceRequestService
from core.db.store import Store
from core.deadlines import DeadlineRules
from core.errors import ChannelError
from core.outbox.service import OutboxService
from core.residents.service import ResidentService
from core.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ChatOptions:
    """Who chats in the terminal, and the streams they use."""

    user: str
    input_stream: TextIO
    output: TextIO
    staff_output: TextIO
    interactive: bool


@dataclass(frozen=True, slots=True)
class ChannelStatus:
    """Whether a channel is configured, and what to set if not."""

    name: str
    configured: bool
    detail: str


def channel_statuses(settings: Settings) -> list[ChannelStatus]:
    """Describe each channel's configuration for the start-up banner and health checks."""
    missing_email = [
        name
        for name, value in (
            ("COMPLAINTS_IMAP__HOST", settings.imap.host),
            ("COMPLAINTS_SMTP__HOST", settings.smtp.host),
            ("COMPLAINTS_EMAIL__ADDRESS", settings.email.address),
        )
        if not value
    ]
    return [
        ChannelStatus(
            "telegram",
            settings.telegram_configured,
            f"{settings.telegram.mode} via {settings.telegram.api_url}"
            if settings.telegram_configured
            else "not configured: set COMPLAINTS_TELEGRAM__TOKEN",
        ),
        ChannelStatus(
            "email",
            settings.email_configured,
            f"{settings.email.address} (IMAP {settings.imap.host}, SMTP {settings.smtp.host})"
            if settings.email_configured
            else "not configured: set " + ", ".join(missing_email),
        ),
    ]


def secrets_of(settings: Settings) -> Iterator[str]:
    """Yield every secret value in the settings, for log redaction."""
    for secret in (
        settings.telegram.token,
        settings.telegram.webhook_secret,
        settings.imap.password,
        settings.smtp.password,
    ):
        if secret is not None:
            yield secret.get_secret_value()
    if settings.telegram.token is not None:
        # The part after the colon is the secret; it also appears alone in some URLs.
        yield settings.telegram.token.get_secret_value().partition(":")[2]
    password = make_url(settings.effective_database_url).password
    if password:
        yield str(password)


class Application:
    """Everything the bot is made of, built from the settings.

    Args:
        settings: validated settings.
        clock: the clock to use; the system clock by default.
    """

    def __init__(self, settings: Settings, *, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.calendar = settings.calendar.build()
        self.rules = DeadlineRules(self.calendar, settings.timescales)
        self.store = Store.from_url(settings.effective_database_url)
        self.complaints = ComplaintService(
            clock=self.clock,
            rules=self.rules,
            update_interval_working_days=settings.scheduler.update_interval_working_days,
        )
        self.residents = ResidentService(clock=self.clock)
        self.service_requests = ServiceRequestService(clock=self.clock)
        self.outbox = OutboxService(clock=self.clock)
        self.wording = Wording(
            landlord=settings.landlord,
            ombudsman=settings.ombudsman,
            override_directory=settings.templates_dir,
        )
        self.engine = Engine(
            store=self.store,
            clock=self.clock,
            calendar=self.calendar,
            complaints=self.complaints,
            residents=self.residents,
            service_requests=self.service_requests,
            outbox=self.outbox,
            wording=self.wording,
        )
        self._failure: ChannelError | None = None
        self.running_channels: dict[str, Channel] = {}
        """The channels of the running bot, by name (empty until :meth:`run` starts them)."""
        self.channel_states: dict[str, str] = {}
        """Each running channel's state by name: running, stopped or failed."""
        self.metrics = Metrics()
        self.health: HealthServer | None = None
        """The health endpoint while :meth:`run` runs (``None`` when disabled)."""
        self.scheduler = Scheduler(
            store=self.store,
            clock=self.clock,
            rules=self.rules,
            settings=settings.scheduler,
            notifier=Notifier(outbox=self.outbox, wording=self.wording, clock=self.clock),
            wording=self.wording,
            complaints=self.complaints,
            # A handler named by their email address gets their own reminders there.
            handler_channels=("email",) if settings.email_configured else (),
        )

    async def migrate(self) -> tuple[str | None, str | None]:
        """Create or upgrade the database schema."""
        return await self.store.migrate()

    async def run(
        self, stop: asyncio.Event, *, out: TextIO, chat: ChatOptions | None = None
    ) -> None:
        """Migrate, report what is configured, and run until ``stop`` is set.

        Args:
            stop: set it (Ctrl-C and SIGTERM do) to stop cleanly.
            out: where the start-up banner is written.
            chat: also chat in this terminal; the bot stops when the chat ends.
        """
        before, after = await self.migrate()
        migrated = (
            "created" if before is None else ("upgraded" if before != after else "up to date")
        )
        print(f"complaints-bot for {self.settings.landlord.name}", file=out)
        print(f"  database   {self.settings.safe_database_url} ({migrated}, {after})", file=out)
        for status in channel_statuses(self.settings):
            state = "configured" if status.configured else "off"
            print(f"  {status.name:<10} {state}: {status.detail}", file=out)
        if chat is not None:
            print(f"  terminal   chatting as {chat.user}; /quit stops the bot", file=out)
        health = self._build_health()
        if health is not None:
            # Bound before anything runs, so a port in use stops the bot with nothing started.
            await health.start()
            self.health = health
            print(f"  health     {health.url}/healthz and {health.url}/metrics", file=out)
        print(
            f"  scheduler  checking deadlines every {self.settings.scheduler.interval_seconds:g} s",
            file=out,
        )
        print("Running. Press Ctrl-C to stop.", file=out, flush=True)
        log.info("started", extra={"database": self.settings.safe_database_url})
        channels = self.build_channels()
        self.running_channels = channels
        wake = asyncio.Event()
        dispatcher = Dispatcher(
            store=self.store,
            clock=self.clock,
            channels=channels,
            staff_channels=self.staff_channels(channels),
            rate_limits={
                "telegram": self.settings.telegram.messages_per_second,
                "email": self.settings.smtp.messages_per_second,
            },
            wording=self.wording,
            metrics=self.metrics,
        )

        async def on_message(message: InboundMessage) -> None:
            await self.engine.handle(message)
            self.metrics.received(message.channel)
            wake.set()

        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self.scheduler.run(stop))
            tasks.create_task(dispatcher.run(stop, wake=wake))
            if health is not None:
                tasks.create_task(health.run(stop))
            for channel in channels.values():
                tasks.create_task(self._run_channel(channel, on_message, stop))
            if chat is not None:
                tasks.create_task(self._chat_then_stop(chat, stop))
            await stop.wait()
            for channel in channels.values():
                await channel.stop()
        if self._failure is not None:
            raise self._failure
        log.info("stopped")

    async def _run_channel(
        self,
        channel: Channel,
        on_message: Callable[[InboundMessage], Awaitable[None]],
        stop: asyncio.Event,
    ) -> None:
        """Run one channel; if it cannot run at all (e.g. a wrong token), stop the bot."""
        self.channel_states[channel.name] = "running"
        try:
            await channel.start(on_message)
        except ChannelError as error:
            self.channel_states[channel.name] = "failed"
            log.error("channel failed", extra={"channel": channel.name, "error": str(error)})
            self._failure = ChannelError(f"the {channel.name} channel could not run: {error}")
            stop.set()
        else:
            self.channel_states[channel.name] = "stopped"

    def _build_health(self) -> HealthServer | None:
        if not self.settings.health.enabled:
            return None
        return HealthServer(
            settings=self.settings.health,
            store=self.store,
            clock=self.clock,
            timezone=self.calendar.timezone,
            metrics=self.metrics,
            channel_states=lambda: self.channel_states,
        )

    def build_channels(self) -> dict[str, Channel]:
        """Build the configured channels, by name."""
        channels: dict[str, Channel] = {}
        if self.settings.telegram_configured:
            channels["telegram"] = TelegramChannel(
                settings=self.settings.telegram,
                store=self.store,
                clock=self.clock,
                evidence_dir=self.settings.data_dir / "evidence",
                wording=self.wording,
                staff_relay=self.engine.relay_from_staff,
                # Commands posted in the staff chat run the same operations as the CLI.
                staff_command=StaffChat(build_casework(self), self.wording.labels("staff_chat")),
            )
        if self.settings.email_configured:
            channels["email"] = EmailChannel(
                imap=self.settings.imap,
                smtp=self.settings.smtp,
                email=self.settings.email,
                staff=self.settings.staff,
                store=self.store,
                clock=self.clock,
                wording=self.wording,
                evidence_dir=self.settings.data_dir / "evidence",
                landlord=self.settings.landlord.name,
            )
        return channels

    def staff_channels(self, channels: dict[str, Channel]) -> tuple[str, ...]:
        """The channels that deliver staff notices: the staff chat and the staff mailbox."""
        names: list[str] = []
        if "telegram" in channels and self.settings.telegram.staff_chat_id is not None:
            names.append("telegram")
        if "email" in channels and self.settings.staff.email:
            names.append("email")
        return tuple(names)

    async def _chat_then_stop(self, chat: ChatOptions, stop: asyncio.Event) -> None:
        chatting = asyncio.create_task(self.chat(chat))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({chatting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        chatting.cancel()
        stop.set()

    async def chat(self, options: ChatOptions) -> None:
        """Chat with the bot in a terminal over the same engine and database.

        The resident's replies are sent at once. Staff notices are shown on the staff stream
        as a preview and left in the outbox for the staff channels that ``run`` delivers to.
        """
        terminal = TerminalChannel(
            user=options.user,
            input_stream=options.input_stream,
            output=options.output,
            clock=self.clock,
            interactive=options.interactive,
            staff_output=options.staff_output,
        )
        dispatcher = Dispatcher(store=self.store, clock=self.clock, channels={"terminal": terminal})

        async def on_message(message: InboundMessage) -> None:
            queued = await self.engine.handle(message)
            for notice in (m for m in queued if m.channel == STAFF_CHANNEL):
                await terminal.send(notice)
            while await dispatcher.dispatch_once():
                pass

        async with terminal:
            await terminal.start(on_message)

    async def aclose(self) -> None:
        """Release the database connections."""
        await self.store.close()


def install_stop_signals(stop: asyncio.Event) -> None:
    """Make SIGINT (Ctrl-C) and SIGTERM set ``stop`` instead of killing the process."""
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
