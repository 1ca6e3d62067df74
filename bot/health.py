"""The health and metrics endpoint of ``complaints-bot run``.

``GET /healthz`` answers 200 with a JSON summary when a trivial unit of work succeeds and 503
when it does not, so a load balancer or systemd watchdog script can tell a process that cannot
reach its database. ``GET /metrics`` answers in the Prometheus text format 0.0.4: the counters
of :class:`~bot.metrics.Metrics` and gauges read from the database at scrape time. Only
``/healthz`` is meant to be exposed through a reverse proxy (see ``docs/operations.md``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import tzinfo
from typing import Final

from aiohttp import web

from bot.metrics import Metrics
from core.clock import Clock
from core.db.store import Store
from core.errors import ConfigurationError, StorageError
from core.settings import HealthSettings

log = logging.getLogger(__name__)

CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Gauges:
    """What the database holds at scrape time."""

    outbox_depth: int
    dead_letters: int
    overdue_complaints: int


class HealthServer:
    """Serves ``/healthz`` and ``/metrics`` until stopped.

    Args:
        settings: where to listen.
        store: the database to check and read the gauges from.
        clock: what "today" is, for overdue complaints.
        timezone: the zone in which days begin and end (the calendar's).
        metrics: the process's counters.
        channel_states: returns each channel's state by name ("running", "failed", …).
    """

    def __init__(
        self,
        *,
        settings: HealthSettings,
        store: Store,
        clock: Clock,
        timezone: tzinfo,
        metrics: Metrics,
        channel_states: Callable[[], Mapping[str, str]],
    ) -> None:
        self._settings = settings
        self._store = store
        self._clock = clock
        self._timezone = timezone
        self._metrics = metrics
        self._channel_states = channel_states
        self.port: int | None = None
        """The bound port once :meth:`start` has returned (useful with port 0)."""
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics_page)
        self._runner = web.AppRunner(app, access_log=None)

    @property
    def url(self) -> str:
        """The base address, e.g. ``http://127.0.0.1:8090``."""
        return f"http://{self._settings.host}:{self.port}"

    async def start(self) -> None:
        """Bind and start serving; :attr:`port` is set when this returns.

        Raises:
            ConfigurationError: the address cannot be bound (e.g. the port is in use).
        """
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._settings.host, self._settings.port)
        try:
            await site.start()
        except OSError as error:
            await self._runner.cleanup()
            raise ConfigurationError(
                "COMPLAINTS_HEALTH__PORT: cannot listen on "
                f"{self._settings.host}:{self._settings.port}: {error.strerror or error}"
            ) from None
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop serving and release the port."""
        await self._runner.cleanup()

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until ``stop`` is set (:meth:`start` must have been called)."""
        try:
            await stop.wait()
        finally:
            await self.stop()

    async def gauges(self) -> Gauges:
        """Read the gauges in one short unit of work.

        Raises:
            StorageError: the database cannot be reached.
        """
        today = self._clock.now().astimezone(self._timezone).date()
        async with self._store.unit_of_work() as uow:
            return Gauges(
                outbox_depth=await uow.outbox.depth(),
                dead_letters=await uow.dead_letters.count_unresolved(),
                overdue_complaints=await uow.complaints.count_overdue(today),
            )

    async def _healthz(self, _request: web.Request) -> web.Response:
        database = "ok"
        try:
            await self.gauges()
        except StorageError as error:
            log.warning("health check: database unavailable", extra={"error": str(error)})
            database = "unavailable"
        body = {
            "status": "ok" if database == "ok" else "unavailable",
            "database": database,
            "channels": dict(self._channel_states()),
        }
        return web.json_response(body, status=200 if database == "ok" else 503)

    async def _metrics_page(self, _request: web.Request) -> web.Response:
        try:
            gauges: Gauges | None = await self.gauges()
        except StorageError as error:
            log.warning("metrics: database unavailable", extra={"error": str(error)})
            gauges = None
        text = render(self._metrics, gauges, channels=sorted(self._channel_states()))
        return web.Response(body=text.encode(), headers={"Content-Type": CONTENT_TYPE})


def render(metrics: Metrics, gauges: Gauges | None, *, channels: list[str]) -> str:
    """Write the metrics in the Prometheus text format 0.0.4.

    Every running channel appears in each counter, at 0 until something happens, so a rate
    can be taken from the first scrape. Without ``gauges`` (the database is unavailable) the
    database gauges are left out and ``complaints_database_up`` is 0.
    """
    lines: list[str] = []
    for name, help_text, counter in (
        ("complaints_messages_in_total", "Inbound messages handled.", metrics.messages_in),
        ("complaints_messages_out_total", "Outbound messages delivered.", metrics.messages_out),
        (
            "complaints_send_failures_total",
            "Failed attempts to send a message.",
            metrics.send_failures,
        ),
    ):
        lines += [f"# HELP {name} {help_text} Per channel.", f"# TYPE {name} counter"]
        for channel in sorted({*channels, *counter}):
            lines.append(f'{name}{{channel="{_escape(channel)}"}} {counter[channel]}')
    values: list[tuple[str, str, int]] = [
        (
            "complaints_database_up",
            "1 if the database answered this scrape, else 0.",
            int(gauges is not None),
        )
    ]
    if gauges is not None:
        values += [
            ("complaints_outbox_depth", "Outbox messages waiting to be sent.", gauges.outbox_depth),
            ("complaints_dead_letters", "Unresolved dead letters.", gauges.dead_letters),
            (
                "complaints_overdue_complaints",
                "Open complaints past their next deadline.",
                gauges.overdue_complaints,
            ),
        ]
    for name, help_text, value in values:
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {value}"]
    return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
