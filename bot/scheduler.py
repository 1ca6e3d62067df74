"""The deadline scheduler inside ``complaints-bot run``.

Every due date a complaint has is stored on it when the event that sets it happens, so each
tick finds its work with indexed queries on those dates and never scans the record. On each
working day, from ``work_starts_at`` (local time), a tick:

- reminds staff of each deadline ``remind_days_before`` working days before it and again on
  the day: acknowledging a complaint (CHC-6.2) or an escalation (CHC-6.11), and each stage's
  response (CHC-6.3, CHC-6.14), extended or not (CHC-6.4, CHC-6.15). The reminder goes to the
  stage's handler when the deployment can reach them (``handler_channels``: a handler named by
  an email address, on a channel that delivers a staff notice to it), otherwise to the staff
  channels, naming the handler;
- alerts the manager (``"manager"`` staff notices; the staff destinations when no manager
  destination is set) once when a deadline is missed;
- tells staff when a remedy is due and again when it is overdue (CHC-7.3);
- sends each resident their regular update when it is due, even when nothing is new (CHC-5.9),
  and moves the next update date on in the same transaction;
- closes stage 1 complaints whose response was sent ``auto_close_after_days`` ago with no
  escalation, and tells the resident that a later request for stage 2 is still considered
  (CHC-6.10);

and, from ``digest_at``, queues the complaints team's daily digest (none on a day with nothing
to list). Nothing is queued on days that are not working days: the work waits for the next.

Several processes on one database
---------------------------------
Any number of schedulers may run against one PostgreSQL database, and a restart at any moment
repeats nothing, because every effect of a tick is one of two kinds:

1. **An outbox message with a deterministic idempotency key.** The key names the fact the
   message is about, never the tick or the process: ``reminder:<complaint id>:<stage>:<deadline
   kind>:<due date>:<working days before>``, ``overdue:…``, ``remedy-due:<remedy id>:<due
   date>``, ``digest:<date>``. The outbox inserts a row only if its key is new (``INSERT … ON
   CONFLICT DO NOTHING`` on a unique column), and on PostgreSQL a second transaction inserting
   the same key waits for the first and then inserts nothing. So two schedulers, or one
   scheduler before and after a restart, queue each of these messages once. A deadline that
   moves (an extension) has a new due date, hence new keys: its reminders start again.
2. **A state change under a row lock and a version check**, with its message in the same
   transaction: a regular update (the message, and ``next_update_due_on`` moved on) and an
   automatic closure (the transition, and its letter). The complaint row is read with ``SELECT
   … FOR UPDATE``, the condition that made it due is checked again on the locked row, and the
   change is saved only if the row's ``version`` is still the one read. A second scheduler
   waits for the lock, finds the work done and does nothing; were the lock ever missing (SQLite
   has none, and serialises writers instead), the version check and the message's key would
   still stop a second update or letter (``update:<complaint id>:<update due date>``,
   ``auto-closed:<complaint id>:<stage 1 response date>``).

Transactions touch complaints in one order (by due date, then id), so two schedulers do not
deadlock in practice; if the database still aborts one (a deadlock or a serialisation
failure), that transaction changes nothing and the next tick does the work. The outbox
dispatcher (:mod:`bot.dispatcher`) claims rows with ``FOR UPDATE SKIP LOCKED``, so each queued
message is sent by one dispatcher.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any, Final

from channels.base import jittered_backoff
from conversations.envelopes import OutboundKind, OutboundMessage
from conversations.notify import Notifier
from conversations.wording import Wording
from core.clock import Clock
from core.complaints.enums import Stage, Status, TaskStatus
from core.complaints.models import Actor, Complaint, Remedy
from core.complaints.service import ComplaintService
from core.db.store import Store, UnitOfWork
from core.deadlines import DeadlineRules
from core.outbox.service import OutboxService
from core.settings import SchedulerSettings

log = logging.getLogger(__name__)

DIGEST_LOOKAHEAD: Final = 3
"""The digest lists deadlines due within this many working days after today."""
PAGE_SIZE: Final = 200
"""Most complaints (or remedies) read, and handled, in one transaction."""
DEAD_LETTERS_LISTED: Final = 500
"""The digest counts unresolved dead letters up to this many."""
DEAD_LETTER_IDS_SHOWN: Final = 20
"""The digest names this many dead letters by id."""
STAFF_RECIPIENT: Final = "staff"
MANAGER_RECIPIENT: Final = "manager"
"""Staff notices to this recipient go to the manager's chat or mailbox when one is set."""
EMAIL_CHANNEL: Final = "email"
_DIGEST_LISTS: Final = (
    "overdue",
    "due_today",
    "due_soon",
    "awaiting_acknowledgement",
    "escalations",
    "remedies",
    "dead_letters",
)
_EMAIL_ADDRESS: Final = re.compile(r"^[\w.+-]+@[\w-]+(?:\.[\w-]+)+$")


class DeadlineKind(StrEnum):
    """What the landlord must do by a deadline."""

    ACKNOWLEDGE = "acknowledge"
    RESPONSE = "response"


DEADLINES: Final[Mapping[Status, tuple[Stage, DeadlineKind]]] = {
    Status.RECEIVED: (Stage.ONE, DeadlineKind.ACKNOWLEDGE),  # CHC-6.2
    Status.ACKNOWLEDGED: (Stage.ONE, DeadlineKind.RESPONSE),  # CHC-6.3, CHC-6.4
    Status.ESCALATION_REQUESTED: (Stage.TWO, DeadlineKind.ACKNOWLEDGE),  # CHC-6.11
    Status.ESCALATION_ACKNOWLEDGED: (Stage.TWO, DeadlineKind.RESPONSE),  # CHC-6.14, CHC-6.15
}
"""The deadline a complaint in each status is waiting on (its ``next_due_on``)."""

RULES: Final[Mapping[tuple[Stage, DeadlineKind], str]] = {
    (Stage.ONE, DeadlineKind.ACKNOWLEDGE): "CHC-6.2",
    (Stage.ONE, DeadlineKind.RESPONSE): "CHC-6.3",
    (Stage.TWO, DeadlineKind.ACKNOWLEDGE): "CHC-6.11",
    (Stage.TWO, DeadlineKind.RESPONSE): "CHC-6.14",
}
"""The rule of the Code that sets each deadline."""

EXTENSION_RULES: Final[Mapping[Stage, str]] = {Stage.ONE: "CHC-6.4", Stage.TWO: "CHC-6.15"}
"""The rule that limits, and says how to explain, an extension at each stage."""


@dataclass(frozen=True, slots=True)
class Deadline:
    """The next thing a complaint is waiting on, and by when."""

    complaint: Complaint
    stage: Stage
    kind: DeadlineKind
    due: date

    @property
    def key(self) -> str:
        """Names this deadline in idempotency keys; a moved deadline gets a new one."""
        return f"{self.complaint.id}:{int(self.stage)}:{self.kind.value}:{self.due.isoformat()}"

    @property
    def extended(self) -> bool:
        """Whether the response date in force is an extended one."""
        return self.complaint.stage_record(self.stage).extended_due_on is not None

    @property
    def rule(self) -> str:
        """The rule of the Code behind the date."""
        if self.kind == DeadlineKind.RESPONSE and self.extended:
            return EXTENSION_RULES[self.stage]
        return RULES[(self.stage, self.kind)]

    @property
    def handler(self) -> str | None:
        """The person handling the stage, if one was named."""
        return self.complaint.stage_record(self.stage).handler


def deadline_of(complaint: Complaint) -> Deadline | None:
    """Return the deadline ``complaint`` is waiting on, if any."""
    entry = DEADLINES.get(complaint.status)
    due = complaint.next_due_on
    if entry is None or due is None:
        return None
    stage, kind = entry
    return Deadline(complaint=complaint, stage=stage, kind=kind, due=due)


@dataclass(slots=True)
class TickReport:
    """What one tick queued or changed; only what is new counts."""

    day: date
    reminders: int = 0
    overdue_alerts: int = 0
    remedy_notices: int = 0
    updates: int = 0
    closed: int = 0
    digest: bool = False
    failed: list[str] = field(default_factory=list)
    """The jobs (or complaints) that failed; the next tick tries them again."""

    @property
    def queued(self) -> int:
        """How many notices, updates and closures this tick produced."""
        return (
            self.reminders
            + self.overdue_alerts
            + self.remedy_notices
            + self.updates
            + self.closed
            + int(self.digest)
        )


@dataclass(frozen=True, slots=True)
class DigestItem:
    """One line of the daily digest."""

    reference: str
    due: date
    deadline: str = ""
    handler: str | None = None
    late: int = 0
    acknowledged: bool = False
    description: str = ""


class Scheduler:
    """Finds due work at a fixed interval until stopped, and queues what it calls for.

    Args:
        store: the database.
        clock: where "now" comes from.
        rules: the deadline rules (the calendar, in the landlord's time zone).
        settings: reminder, update, closure and digest settings.
        notifier: queues letters to residents and notices to staff.
        wording: the words of staff notices and deadline names.
        complaints: the complaint service (automatic closure goes through its lifecycle).
        handler_channels: channels on which a handler's own address can be used: with
            ``"email"``, a handler named by an email address gets their reminders there.
        page_size: most complaints handled in one transaction.
    """

    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        rules: DeadlineRules,
        settings: SchedulerSettings,
        notifier: Notifier,
        wording: Wording,
        complaints: ComplaintService,
        handler_channels: Collection[str] = (),
        page_size: int = PAGE_SIZE,
    ) -> None:
        if page_size < 1:
            raise ValueError(f"page_size must be 1 or more, not {page_size}")
        self._store = store
        self._clock = clock
        self._rules = rules
        self._calendar = rules.calendar
        self._settings = settings
        self._notifier = notifier
        self._words = wording
        self._complaints = complaints
        self._handler_channels = frozenset(handler_channels)
        self._outbox = OutboxService(clock=clock)
        self._page = page_size
        self._digest_decided: date | None = None
        self.ticks = 0

    # ------------------------------------------------------------------ running

    async def run(self, stop: asyncio.Event) -> None:
        """Tick until ``stop`` is set; after failing ticks, retry with jittered backoff."""
        interval = self._settings.interval_seconds
        failures = 0
        while not stop.is_set():
            report = await self.tick()
            if report.failed:
                failures += 1
                delay = jittered_backoff(failures, base=1.0, cap=max(interval, 60.0))
                log.error(
                    "scheduler tick failed; retrying",
                    extra={"failed": ", ".join(report.failed), "retry_in_s": round(delay, 1)},
                )
            else:
                failures = 0
                delay = interval
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
            except TimeoutError:
                continue

    async def tick(self) -> TickReport:
        """Run one pass: reminders, alerts, remedies, updates, closures and the digest.

        A job that fails is logged and named in the report; the others still run, and the
        next tick tries it again (everything it did commit is not repeated).
        """
        now = self._clock.now().astimezone(self._calendar.timezone)
        today = now.date()
        report = TickReport(day=today)
        self.ticks += 1
        if not self._calendar.is_working_day(today):
            return report
        jobs: list[tuple[str, Callable[[date, TickReport], Awaitable[None]]]] = []
        if now.time() >= self._settings.work_starts_at:
            jobs += [
                ("deadlines", self._deadlines),
                ("remedies", self._remedies),
                ("updates", self._updates),
                ("closures", self._closures),
            ]
        if now.time() >= self._settings.digest_at:
            jobs.append(("digest", self._digest))
        for name, job in jobs:
            try:
                await job(today, report)
            except Exception:
                # A tick must never stop the bot: log it, carry on, and try again next tick.
                log.exception("scheduler job failed", extra={"job": name})
                report.failed.append(name)
        if report.queued:
            log.info(
                "scheduler queued work",
                extra={
                    "reminders": report.reminders,
                    "overdue_alerts": report.overdue_alerts,
                    "remedy_notices": report.remedy_notices,
                    "updates": report.updates,
                    "closed": report.closed,
                    "digest": report.digest,
                },
            )
        return report

    # ------------------------------------------------------------------ deadlines

    async def _deadlines(self, today: date, report: TickReport) -> None:
        """Remind staff before each deadline and on the day; alert the manager once it passes."""
        before = self._settings.remind_days_before
        horizon = self._calendar.add_working_days(today, before)
        after: tuple[date, int] | None = None
        while True:
            async with self._store.unit_of_work() as uow:
                page = await uow.complaints.due_between(horizon, after=after, limit=self._page)
                for complaint in page:
                    deadline = deadline_of(complaint)
                    if deadline is None:
                        continue
                    if deadline.due < today:
                        report.overdue_alerts += await self._overdue(uow, deadline, today)
                    else:
                        report.reminders += await self._remind(uow, deadline, today, before)
            if len(page) < self._page:
                return
            last = page[-1]
            assert last.next_due_on is not None and last.id is not None  # by the query
            after = (last.next_due_on, last.id)

    async def _remind(self, uow: UnitOfWork, deadline: Deadline, today: date, before: int) -> int:
        if deadline.due == today:
            days, which = 0, 0
        else:
            days = self._calendar.working_days_between(today, deadline.due)
            if days > before:
                return 0
            # One reminder per deadline ahead of it, whichever day inside the window the
            # scheduler first saw it on; the text says how far off it really is.
            which = before
        queued = await self._tell_staff(
            uow,
            template="staff_reminder",
            key=f"reminder:{deadline.key}:{which}",
            complaint=deadline.complaint,
            handler=deadline.handler,
            deadline=self._deadline_name(deadline),
            kind=deadline.kind.value,
            due=deadline.due,
            days_before=days,
            rule=deadline.rule,
            extension_rule=EXTENSION_RULES[deadline.stage],
        )
        return int(queued)

    async def _overdue(self, uow: UnitOfWork, deadline: Deadline, today: date) -> int:
        queued = await self._tell_staff(
            uow,
            template="staff_overdue",
            key=f"overdue:{deadline.key}",
            complaint=deadline.complaint,
            handler=deadline.handler,
            recipient=MANAGER_RECIPIENT,
            urgent=True,
            deadline=self._deadline_name(deadline),
            due=deadline.due,
            late=self._late(deadline.due, today),
            rule=deadline.rule,
        )
        if queued:
            log.warning(
                "complaint overdue; manager alerted",
                extra={
                    "reference": deadline.complaint.reference,
                    "deadline": f"stage{int(deadline.stage)}_{deadline.kind.value}",
                    "due_on": deadline.due.isoformat(),
                },
            )
        return int(queued)

    # ------------------------------------------------------------------ remedies

    async def _remedies(self, today: date, report: TickReport) -> None:
        """CHC-7.3: staff hear when a remedy falls due, and again once it is overdue."""
        after: tuple[date, int] | None = None
        while True:
            async with self._store.unit_of_work() as uow:
                page = await uow.complaints.remedies_due_by(today, after=after, limit=self._page)
                for complaint, remedy in page:
                    report.remedy_notices += await self._remedy_notice(
                        uow, complaint, remedy, today
                    )
            if len(page) < self._page:
                return
            last = page[-1][1]
            assert last.due_on is not None and last.id is not None  # by the query
            after = (last.due_on, last.id)

    async def _remedy_notice(
        self, uow: UnitOfWork, complaint: Complaint, remedy: Remedy, today: date
    ) -> int:
        assert remedy.due_on is not None  # by the query
        # A remedy due on a day off falls due on the next working day.
        due = self._calendar.next_working_day_on_or_after(remedy.due_on)
        overdue = due < today
        if due > today:
            return 0
        what = "remedy-overdue" if overdue else "remedy-due"
        queued = await self._tell_staff(
            uow,
            template="staff_remedy_due",
            key=f"{what}:{remedy.id}:{remedy.due_on.isoformat()}",
            complaint=complaint,
            handler=complaint.stage_record(remedy.stage).handler,
            remedy=remedy,
            overdue=overdue,
            late=self._late(due, today),
        )
        return int(queued)

    # ------------------------------------------------------------------ regular updates

    async def _updates(self, today: date, report: TickReport) -> None:
        """CHC-5.9: each resident whose update is due hears from us, even with nothing new."""
        after: tuple[date, int] | None = None
        while True:
            async with self._store.unit_of_work() as uow:
                page = await uow.complaints.updates_due_by(today, after=after, limit=self._page)
            for _, complaint_id in page:
                try:
                    report.updates += await self._update(complaint_id, today)
                except Exception:
                    log.exception("regular update failed", extra={"complaint_id": complaint_id})
                    report.failed.append(f"update:{complaint_id}")
            if len(page) < self._page:
                return
            after = page[-1]

    async def _update(self, complaint_id: int, today: date) -> int:
        """Send one complaint's regular update and set the next; 0 if another process did."""
        async with self._store.unit_of_work() as uow:
            complaint = await uow.complaints.get(complaint_id, for_update=True)
            due = complaint.next_update_due_on
            if not complaint.is_open or due is None or due > today:
                return 0  # done meanwhile, by another scheduler or a response
            resident = await uow.residents.get(complaint.resident_id)
            interval = (
                resident.preferences.update_interval_working_days  # agreed with them (CHC-5.9)
                or self._settings.update_interval_working_days
            )
            response_due = complaint.stage_record().effective_response_due_on
            next_update = self._next_update(today, interval, response_due)
            await self._notifier.tell_resident(
                uow,
                complaint=complaint,
                template="regular_update",
                idempotency_key=f"update:{complaint_id}:{due.isoformat()}",
                kind=OutboundKind.UPDATE,
                stage=int(complaint.stage),
                response_due=response_due,
                late=response_due is not None and response_due < today,
                next_update=next_update,
            )
            await uow.complaints.save(
                complaint.model_copy(update={"next_update_due_on": next_update})
            )
        return 1

    def _next_update(self, today: date, interval: int, response_due: date | None) -> date:
        """The next update date: ``interval`` working days on, unless the response comes first.

        When the response is due before the next update would be, no update is owed until the
        response date has passed: the resident hears the next working day if it is late.
        """
        candidate = self._calendar.add_working_days(today, interval)
        if response_due is not None and today < response_due <= candidate:
            return self._calendar.add_working_days(response_due, 1)
        return candidate

    # ------------------------------------------------------------------ automatic closure

    async def _closures(self, today: date, report: TickReport) -> None:
        """Close stage 1 complaints whose response was not escalated within the set period."""
        days = self._settings.auto_close_after_days
        responded_by = today - timedelta(days=days)
        after: tuple[date, int] | None = None
        while True:
            async with self._store.unit_of_work() as uow:
                page = await uow.complaints.stage1_responded_by(
                    responded_by, after=after, limit=self._page
                )
            for _, complaint_id in page:
                try:
                    report.closed += await self._close(complaint_id, responded_by, days)
                except Exception:
                    log.exception("automatic closure failed", extra={"complaint_id": complaint_id})
                    report.failed.append(f"close:{complaint_id}")
            if len(page) < self._page:
                return
            after = page[-1]

    async def _close(self, complaint_id: int, responded_by: date, days: int) -> int:
        async with self._store.unit_of_work() as uow:
            complaint = await uow.complaints.get(complaint_id, for_update=True)
            responded_on = complaint.stage1.responded_on
            if (
                complaint.status != Status.RESPONDED
                or responded_on is None
                or responded_on > responded_by
            ):
                return 0  # escalated or closed meanwhile
            closed = await self._complaints.close(
                uow, reference=complaint.reference, actor=Actor.system()
            )
            await self._notifier.tell_resident(
                uow,
                complaint=closed,
                template="auto_closed",
                idempotency_key=f"auto-closed:{complaint_id}:{responded_on.isoformat()}",
                kind=OutboundKind.UPDATE,
                responded_on=responded_on,
                days=days,
                # CHC-6.6, 7.3: remedies and actions promised are still done after closing.
                remaining=[
                    *(r for r in closed.remedies if r.status == TaskStatus.PENDING),
                    *(a for a in closed.actions if a.status == TaskStatus.PENDING),
                ],
            )
        log.info(
            "complaint closed after its stage 1 response", extra={"complaint_id": complaint_id}
        )
        return 1

    # ------------------------------------------------------------------ digest

    async def _digest(self, today: date, report: TickReport) -> None:
        """Queue the complaints team's digest for ``today``, once (key ``digest:<date>``).

        The day's digest is decided at the first tick from ``digest_at``: a day with nothing
        to list sends none, rather than an empty message every working day.
        """
        if self._digest_decided == today:
            return
        key = f"digest:{today.isoformat()}"
        async with self._store.unit_of_work() as uow:
            if await uow.outbox.get_by_key(key) is None:
                context = await self._digest_context(uow, today)
                if any(context[name] for name in _DIGEST_LISTS):
                    report.digest = await self._notifier.tell_staff(
                        uow, template="staff_digest", idempotency_key=key, **context
                    )
        self._digest_decided = today

    async def _digest_context(self, uow: UnitOfWork, today: date) -> dict[str, Any]:
        horizon = self._calendar.add_working_days(today, DIGEST_LOOKAHEAD)
        overdue: list[DigestItem] = []
        due_today: list[DigestItem] = []
        due_soon: list[DigestItem] = []
        after: tuple[date, int] | None = None
        while True:
            page = await uow.complaints.due_between(horizon, after=after, limit=self._page)
            for complaint in page:
                deadline = deadline_of(complaint)
                if deadline is None:
                    continue
                item = DigestItem(
                    reference=complaint.reference,
                    due=deadline.due,
                    deadline=self._deadline_name(deadline),
                    handler=deadline.handler,
                    late=self._late(deadline.due, today),
                )
                if deadline.due < today:
                    overdue.append(item)
                elif deadline.due == today:
                    due_today.append(item)
                else:
                    due_soon.append(item)
            if len(page) < self._page:
                break
            last = page[-1]
            assert last.next_due_on is not None and last.id is not None  # by the query
            after = (last.next_due_on, last.id)
        received = await uow.complaints.search(statuses=[Status.RECEIVED.value])
        escalated = await uow.complaints.search(
            statuses=[Status.ESCALATION_REQUESTED.value, Status.ESCALATION_ACKNOWLEDGED.value]
        )
        remedies = await uow.complaints.remedies_due_by(today, limit=self._page)
        letters = await uow.dead_letters.unresolved(limit=DEAD_LETTERS_LISTED)
        return {
            "day": today,
            "lookahead": DIGEST_LOOKAHEAD,
            "overdue": overdue,
            "due_today": due_today,
            "due_soon": due_soon,
            "awaiting_acknowledgement": [
                DigestItem(reference=c.reference, due=c.stage1.acknowledge_due_on or today)
                for c in received
            ],
            # CHC-6.11 (acknowledge the escalation) and CHC-6.13 (a different handler).
            "escalations": [
                DigestItem(
                    reference=c.reference,
                    due=c.stage2.acknowledge_due_on or today,
                    acknowledged=c.status == Status.ESCALATION_ACKNOWLEDGED,
                )
                for c in escalated
                if c.status == Status.ESCALATION_REQUESTED or c.stage2.handler is None
            ],
            "remedies": [
                DigestItem(reference=c.reference, due=r.due_on or today, description=r.description)
                for c, r in remedies
            ],
            "dead_letters": len(letters),
            "dead_letters_more": len(letters) >= DEAD_LETTERS_LISTED,
            "dead_letter_ids": [letter.id for letter in letters[:DEAD_LETTER_IDS_SHOWN]],
        }

    # ------------------------------------------------------------------ helpers

    async def _tell_staff(
        self,
        uow: UnitOfWork,
        *,
        template: str,
        key: str,
        complaint: Complaint,
        handler: str | None,
        recipient: str = STAFF_RECIPIENT,
        urgent: bool = False,
        **context: Any,
    ) -> bool:
        """Queue a notice about ``complaint`` to its handler if reachable, else to staff.

        The key does not depend on the route, so a handler named between two ticks never
        gets a second copy of a notice the staff channel already had.
        """
        context["handler"] = handler
        address = None if recipient != STAFF_RECIPIENT else self._handler_address(handler)
        if address is None:
            return await self._notifier.tell_staff(
                uow,
                template=template,
                idempotency_key=key,
                reference=complaint.reference,
                urgent=urgent,
                recipient=recipient,
                complaint=complaint,
                **context,
            )
        channel, to = address
        message = OutboundMessage(
            channel=channel,
            recipient=to,
            text=self._words.render(
                template, reference=complaint.reference, complaint=complaint, **context
            ),
            kind=OutboundKind.STAFF_NOTICE,
            reference=complaint.reference,
            urgent=urgent,
        )
        # Not about the resident's correspondence (no complaint id): a notice to staff only.
        return await self._outbox.enqueue(
            uow,
            channel=channel,
            address=to,
            kind=OutboundKind.STAFF_NOTICE.value,
            payload=message.model_dump(mode="json"),
            idempotency_key=key,
        )

    def _handler_address(self, handler: str | None) -> tuple[str, str] | None:
        """Where a handler can be reached directly, if this deployment can: their email."""
        if handler is None or EMAIL_CHANNEL not in self._handler_channels:
            return None
        candidate = handler.strip()
        return (EMAIL_CHANNEL, candidate) if _EMAIL_ADDRESS.match(candidate) else None

    def _deadline_name(self, deadline: Deadline) -> str:
        return self._words.label(f"stage{int(deadline.stage)}_{deadline.kind.value}", "deadline")

    def _late(self, due: date, today: date) -> int:
        """Working days after ``due`` up to today: how late something due then is."""
        return self._calendar.working_days_between(due, today)
