"""The deadline scheduler inside ``complaints-bot run``.

Each tick asks the store, through the ``(status, next_due_on)`` index, which complaints have a
deadline today or already passed, and reports them. It is idempotent: a tick changes nothing, so
several processes can run it side by side.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass

from core.clock import Clock
from core.complaints.models import Complaint
from core.db.store import Store
from core.deadlines import DeadlineRules
from core.errors import StorageError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DueWork:
    """What one tick found."""

    overdue: tuple[Complaint, ...]
    due_today: tuple[Complaint, ...]


class Scheduler:
    """Finds due and overdue complaints at a fixed interval until stopped.

    Args:
        store: the database.
        clock: where "now" comes from.
        rules: the deadline rules (for today's date in the landlord's time zone).
        interval_seconds: time between ticks.
    """

    def __init__(
        self, *, store: Store, clock: Clock, rules: DeadlineRules, interval_seconds: float
    ) -> None:
        self._store = store
        self._clock = clock
        self._rules = rules
        self._interval = interval_seconds
        self.ticks = 0

    async def tick(self) -> DueWork:
        """Run one pass and report what is due."""
        today = self._clock.now().astimezone(self._rules.calendar.timezone).date()
        async with self._store.unit_of_work() as uow:
            due = await uow.complaints.due_by(today)
        work = DueWork(
            overdue=tuple(c for c in due if c.next_due_on and c.next_due_on < today),
            due_today=tuple(c for c in due if c.next_due_on == today),
        )
        self.ticks += 1
        for complaint in work.overdue:
            log.warning(
                "complaint overdue",
                extra={
                    "reference": complaint.reference,
                    "status": complaint.status.value,
                    "due_on": str(complaint.next_due_on),
                },
            )
        if work.due_today:
            log.info("complaints due today", extra={"count": len(work.due_today)})
        return work

    async def run(self, stop: asyncio.Event) -> None:
        """Tick until ``stop`` is set; a failing tick is logged and retried with backoff."""
        failures = 0
        while not stop.is_set():
            try:
                await self.tick()
                failures = 0
                delay = self._interval
            except StorageError as error:
                failures += 1
                delay = min(self._interval, 2.0**failures) * random.uniform(0.5, 1.5)  # noqa: S311
                log.error(
                    "scheduler tick failed; retrying",
                    extra={"error": str(error), "retry_in_s": round(delay, 1)},
                )
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
            except TimeoutError:
                continue
