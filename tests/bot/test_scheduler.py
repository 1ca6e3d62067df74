"""The deadline scheduler, with a frozen clock moved day by day across Christmas 2026.

England's bank holidays in the period: Friday 25 December 2026, Monday 28 December 2026 (the
Boxing Day substitute) and Friday 1 January 2027. Every test runs on SQLite and PostgreSQL.
Each tick is read through the outbox, where everything the scheduler does ends up: the tests
look at the idempotency keys (what a notice is about) and at the words sent.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from time import monotonic
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import Application
from bot.scheduler import Scheduler, TickReport
from conversations.envelopes import STAFF_CHANNEL, OutboundKind
from conversations.notify import Notifier
from conversations.wording import Wording
from core.clock import LONDON, FrozenClock
from core.complaints.enums import EventKind, Outcome, RemedyType, Stage, Status
from core.complaints.models import Actor, Complaint
from core.db.mapping import row_values
from core.db.store import Store
from core.db.tables import OutboxRow
from core.deadlines import DeadlineRules
from core.errors import ConfigurationError
from core.outbox.models import OutboxMessage
from core.residents.models import ContactPreferences
from core.settings import LandlordSettings, OmbudsmanSettings, SchedulerSettings, load_settings
from tests.conftest import START, Services
from tests.support.fake_telegram import FakeTelegram

STAFF = Actor.staff("officer-1")
RESIDENT = "1001"
LANDLORD = LandlordSettings(name="Riverside Homes")

# Days of the period by name, so the tables read like a calendar.
MON_21_DEC, TUE_22_DEC, WED_23_DEC, THU_24_DEC = (date(2026, 12, d) for d in (21, 22, 23, 24))
FRI_25_DEC, MON_28_DEC, TUE_29_DEC, WED_30_DEC = (date(2026, 12, d) for d in (25, 28, 29, 30))
THU_31_DEC, FRI_1_JAN, SAT_2_JAN = date(2026, 12, 31), date(2027, 1, 1), date(2027, 1, 2)
MON_4_JAN, TUE_5_JAN, WED_6_JAN, THU_7_JAN = (date(2027, 1, d) for d in (4, 5, 6, 7))
FRI_8_JAN, MON_11_JAN, TUE_12_JAN = date(2027, 1, 8), date(2027, 1, 11), date(2027, 1, 12)


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)


def days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def shape(key: str, complaint: Complaint | None = None) -> str:
    """An idempotency key without the complaint id, e.g. ``reminder:1:response:2027-01-11:2``."""
    if complaint is not None:
        key = key.replace(f":{complaint.id}:", ":", 1)
    return key


def wording(directory: Path | None = None) -> Wording:
    return Wording(landlord=LANDLORD, ombudsman=OmbudsmanSettings(), override_directory=directory)


@dataclass
class World:
    """A store, a clock, the services and a scheduler over them."""

    store: Store
    clock: FrozenClock
    rules: DeadlineRules
    services: Services
    scheduler: Scheduler
    reports: list[TickReport] = field(default_factory=list)
    others: list[Scheduler] = field(default_factory=list)
    """More schedulers over the same store, ticking at the same moments."""

    def new_scheduler(self, *, templates: Path | None = None, **settings: Any) -> Scheduler:
        handler_channels = settings.pop("handler_channels", ())
        words = wording(templates)
        return Scheduler(
            store=self.store,
            clock=self.clock,
            rules=self.rules,
            settings=SchedulerSettings(**settings),
            notifier=Notifier(outbox=self.services.outbox, wording=words, clock=self.clock),
            wording=words,
            complaints=self.services.complaints,
            handler_channels=handler_channels,
        )

    async def tick(self, day: date, hour: int = 10, minute: int = 0) -> TickReport:
        self.clock.set(at(day, hour, minute))
        report, *others = await asyncio.gather(
            self.scheduler.tick(), *(other.tick() for other in self.others)
        )
        for each in (report, *others):
            assert not each.failed
        self.reports.append(report)
        return report

    async def outbox(self) -> list[OutboxMessage]:
        async with self.store.unit_of_work() as uow:
            rows = await uow.session.scalars(select(OutboxRow).order_by(OutboxRow.id))
            return [OutboxMessage.model_validate(row_values(r, OutboxRow)) for r in rows]

    async def run_days(
        self, first: date, last: date, *, prefixes: Iterable[str] = ("reminder", "overdue")
    ) -> list[tuple[date, str]]:
        """Tick at 10:00 each day; return what each day newly queued, by key shape."""
        wanted = tuple(prefixes)
        seen = {m.idempotency_key for m in await self.outbox()}
        found: list[tuple[date, str]] = []
        for day in days(first, last):
            await self.tick(day)
            for message in await self.outbox():
                if message.idempotency_key in seen:
                    continue
                seen.add(message.idempotency_key)
                if message.idempotency_key.startswith(wanted):
                    found.append((day, message.idempotency_key))
        return found

    async def complaint(self, complaint: Complaint) -> Complaint:
        async with self.store.unit_of_work() as uow:
            return await uow.complaints.get(complaint.id or 0)

    # ---------------------------------------------------------------- the complaint's life

    async def log(
        self, when: datetime = START, *, address: str = RESIDENT, interval: int | None = None
    ) -> Complaint:
        self.clock.set(when)
        async with self.store.unit_of_work() as uow:
            resident = await self.services.residents.identify(
                uow, channel="telegram", address=address, name="Sam"
            )
            assert resident.id is not None
            if interval is not None:
                await self.services.residents.update(
                    uow,
                    resident_id=resident.id,
                    actor=STAFF,
                    preferences=ContactPreferences(update_interval_working_days=interval),
                )
            return await self.services.complaints.log(
                uow,
                resident_id=resident.id,
                channel="telegram",
                received_at=when,
                elements=["The boiler repair was never done"],
                outcomes_sought=["Fix the boiler"],
                actor=Actor.resident(resident.id),
            )

    async def act(
        self, when: datetime, step: str, complaint: Complaint, **kwargs: Any
    ) -> Complaint:
        self.clock.set(when)
        service = self.services.complaints
        async with self.store.unit_of_work() as uow:
            match step:
                case "acknowledge":
                    return await service.acknowledge(
                        uow, reference=complaint.reference, actor=STAFF
                    )
                case "respond":
                    current = await uow.complaints.get(complaint.id or 0)
                    for element in current.elements:
                        await service.record_decision(
                            uow,
                            reference=complaint.reference,
                            position=element.position,
                            outcome=Outcome.UPHELD,
                            reasons="The repair was late.",
                            actor=STAFF,
                        )
                    return await service.respond(uow, reference=complaint.reference, actor=STAFF)
                case "escalate":
                    return await service.request_escalation(
                        uow, reference=complaint.reference, actor=Actor.resident(1)
                    )
                case "extend":
                    return await service.extend(
                        uow, reference=complaint.reference, actor=STAFF, **kwargs
                    )
                case "assign":
                    return await service.assign_handler(
                        uow, reference=complaint.reference, actor=STAFF, **kwargs
                    )
        raise AssertionError(step)

    async def remedy(self, complaint: Complaint, due_on: date, text: str = "Apologise") -> int:
        async with self.store.unit_of_work() as uow:
            remedy = await self.services.complaints.add_remedy(
                uow,
                reference=complaint.reference,
                remedy_type=RemedyType.APOLOGY,
                description=text,
                actor=STAFF,
                due_on=due_on,
            )
        assert remedy.id is not None
        return remedy.id


@pytest.fixture
def world(store: Store, clock: FrozenClock, rules: DeadlineRules, services: Services) -> World:
    built = World(store=store, clock=clock, rules=rules, services=services, scheduler=None)  # type: ignore[arg-type]
    built.scheduler = built.new_scheduler()
    return built


# ============================================================== staff reminders and alerts


@pytest.mark.parametrize(
    ("before", "expected"),
    [
        # Acknowledge by Monday 4 January 2027 (CHC-6.2): the worked example of CODE.md.
        (
            2,
            [
                (WED_30_DEC, "reminder:1:acknowledge:2027-01-04:2"),
                (MON_4_JAN, "reminder:1:acknowledge:2027-01-04:0"),
                (TUE_5_JAN, "overdue:1:acknowledge:2027-01-04"),
            ],
        ),
        (
            1,
            [
                (THU_31_DEC, "reminder:1:acknowledge:2027-01-04:1"),
                (MON_4_JAN, "reminder:1:acknowledge:2027-01-04:0"),
                (TUE_5_JAN, "overdue:1:acknowledge:2027-01-04"),
            ],
        ),
        (
            3,  # 30 and 31 December and 4 January: three working days
            [
                (TUE_29_DEC, "reminder:1:acknowledge:2027-01-04:3"),
                (MON_4_JAN, "reminder:1:acknowledge:2027-01-04:0"),
                (TUE_5_JAN, "overdue:1:acknowledge:2027-01-04"),
            ],
        ),
        (
            4,  # four working days before is Christmas Eve; the holidays add none
            [
                (THU_24_DEC, "reminder:1:acknowledge:2027-01-04:4"),
                (MON_4_JAN, "reminder:1:acknowledge:2027-01-04:0"),
                (TUE_5_JAN, "overdue:1:acknowledge:2027-01-04"),
            ],
        ),
        (
            0,
            [
                (MON_4_JAN, "reminder:1:acknowledge:2027-01-04:0"),
                (TUE_5_JAN, "overdue:1:acknowledge:2027-01-04"),
            ],
        ),
    ],
)
async def test_acknowledgement_reminders_fall_on_working_days_across_christmas(
    world: World, before: int, expected: list[tuple[date, str]]
) -> None:
    world.scheduler = world.new_scheduler(remind_days_before=before)
    complaint = await world.log()  # received 23 December, never acknowledged

    found = await world.run_days(WED_23_DEC, date(2027, 1, 8))

    assert [(day, shape(key, complaint)) for day, key in found] == expected


async def test_reminder_and_overdue_notices_say_what_is_due_and_to_whom(world: World) -> None:
    complaint = await world.log()
    await world.run_days(WED_23_DEC, TUE_5_JAN)
    notices = {m.idempotency_key: m for m in await world.outbox()}

    before = notices[f"reminder:{complaint.id}:1:acknowledge:2027-01-04:2"]
    assert (before.channel, before.address, before.kind) == (STAFF_CHANNEL, "staff", "staff_notice")
    assert before.payload["text"] == (
        f"Reminder: the stage 1 acknowledgement for {complaint.reference} is due by Monday 4 "
        "January 2027, in 2 working days (CHC-6.2).\n"
        "Handler: not assigned yet.\n"
        "Acknowledge it in writing and set out our understanding of the complaint (CHC-5.6)."
    )
    on_the_day = notices[f"reminder:{complaint.id}:1:acknowledge:2027-01-04:0"]
    assert on_the_day.payload["text"].startswith(
        f"Reminder: the stage 1 acknowledgement for {complaint.reference} is due today, Monday "
        "4 January 2027 (CHC-6.2)."
    )
    overdue = notices[f"overdue:{complaint.id}:1:acknowledge:2027-01-04"]
    # Overdue alerts go to the manager (their chat or mailbox; the staff ones when unset).
    assert (overdue.channel, overdue.address) == (STAFF_CHANNEL, "manager")
    assert overdue.payload["urgent"] is True
    assert overdue.payload["reference"] == complaint.reference
    assert overdue.payload["text"].startswith(
        f"Overdue: the stage 1 acknowledgement for {complaint.reference} was due by Monday 4 "
        "January 2027 and is 1 working day late (CHC-6.2)."
    )
    # Staff notices are not the resident's correspondence.
    async with world.store.unit_of_work() as uow:
        events = await uow.events.for_complaint(complaint.id or 0)
    assert not [e for e in events if e.kind == EventKind.MESSAGE_OUT]


async def test_an_overdue_deadline_alerts_once_however_often_it_is_checked(world: World) -> None:
    complaint = await world.log()
    await world.run_days(WED_23_DEC, TUE_5_JAN)
    for hour in (11, 12, 17):
        report = await world.tick(TUE_5_JAN, hour)
        assert (report.overdue_alerts, report.reminders) == (0, 0)
    found = await world.run_days(WED_6_JAN, date(2027, 1, 20))
    assert found == []  # the digest lists it every day; the alert went once
    keys = [m.idempotency_key for m in await world.outbox()]
    assert keys.count(f"overdue:{complaint.id}:1:acknowledge:2027-01-04") == 1


async def test_an_extension_moves_the_response_reminders_to_the_new_date(world: World) -> None:
    complaint = await world.log()
    await world.act(START, "acknowledge", complaint)  # stage 1 response due 11 January (CHC-6.3)

    found = await world.run_days(WED_23_DEC, THU_7_JAN)
    # Staff extend on Friday 8 January at 09:30, before that day's tick, by the Code's full
    # 10 working days (CHC-6.4).
    extended = await world.act(
        at(FRI_8_JAN, 9, 30),
        "extend",
        complaint,
        new_due_on=date(2027, 1, 25),
        reason="We are waiting for the contractor's report",
    )
    assert extended.next_due_on == date(2027, 1, 25)
    found += await world.run_days(FRI_8_JAN, date(2027, 1, 27))

    assert [(day, shape(key, complaint)) for day, key in found] == [
        (THU_7_JAN, "reminder:1:response:2027-01-11:2"),
        # Nothing on 11 January: that date no longer applies.
        (date(2027, 1, 21), "reminder:1:response:2027-01-25:2"),
        (date(2027, 1, 25), "reminder:1:response:2027-01-25:0"),
        (date(2027, 1, 26), "overdue:1:response:2027-01-25"),
    ]
    notices = {m.idempotency_key: m for m in await world.outbox()}
    moved = notices[f"reminder:{complaint.id}:1:response:2027-01-25:2"].payload["text"]
    assert "stage 1 response" in moved and "Monday 25 January 2027" in moved
    assert "(CHC-6.4)" in moved  # an extended date: the extension rule


async def test_stage_2_deadlines_are_reminded_too(world: World) -> None:
    complaint = await world.log(at(date(2026, 12, 1)))
    await world.act(at(date(2026, 12, 1)), "acknowledge", complaint)
    await world.act(at(date(2026, 12, 10)), "respond", complaint)
    await world.act(START, "escalate", complaint)  # acknowledge by 4 January (CHC-6.11)

    found = await world.run_days(WED_23_DEC, TUE_5_JAN)

    assert [(day, shape(key, complaint)) for day, key in found] == [
        (WED_30_DEC, "reminder:2:acknowledge:2027-01-04:2"),
        (MON_4_JAN, "reminder:2:acknowledge:2027-01-04:0"),
        (TUE_5_JAN, "overdue:2:acknowledge:2027-01-04"),
    ]
    overdue = next(m for m in await world.outbox() if m.idempotency_key.startswith("overdue:"))
    assert "stage 2 acknowledgement" in overdue.payload["text"]
    assert "(CHC-6.11)" in overdue.payload["text"]


async def test_a_handler_with_an_email_address_gets_their_reminders_by_email(
    world: World,
) -> None:
    world.scheduler = world.new_scheduler(handler_channels=("email",))
    complaint = await world.log()
    await world.act(START, "assign", complaint, stage=Stage.ONE, handler="alex@riverside.example")
    unassigned = await world.log(address="1002")
    await world.act(START, "assign", unassigned, stage=Stage.ONE, handler="officer-7")

    await world.run_days(WED_23_DEC, TUE_5_JAN)
    notices = {m.idempotency_key: m for m in await world.outbox()}

    for which in (2, 0):
        direct = notices[f"reminder:{complaint.id}:1:acknowledge:2027-01-04:{which}"]
        assert (direct.channel, direct.address, direct.kind) == (
            "email",
            "alex@riverside.example",
            OutboundKind.STAFF_NOTICE.value,
        )
        assert direct.complaint_id is None  # not the resident's correspondence
        assert "Handler: alex@riverside.example." in direct.payload["text"]
        # A handler the deployment cannot address directly: the staff channel, named.
        team = notices[f"reminder:{unassigned.id}:1:acknowledge:2027-01-04:{which}"]
        assert (team.channel, team.address) == (STAFF_CHANNEL, "staff")
        assert "Handler: officer-7." in team.payload["text"]
    # The manager hears of a missed deadline whoever handles it.
    overdue = notices[f"overdue:{complaint.id}:1:acknowledge:2027-01-04"]
    assert (overdue.channel, overdue.address) == (STAFF_CHANNEL, "manager")


async def test_nothing_is_queued_before_work_starts_or_on_a_day_off(world: World) -> None:
    world.scheduler = world.new_scheduler(work_starts_at=time(8, 0), digest_at=time(9, 0))
    await world.log(at(MON_21_DEC))  # acknowledge by 30 December: overdue from 31 December
    for day, hour, minute in [
        (THU_31_DEC, 7, 59),
        (FRI_1_JAN, 10, 0),  # bank holiday
        (SAT_2_JAN, 10, 0),
        (date(2027, 1, 3), 23, 59),
    ]:
        report = await world.tick(day, hour, minute)
        assert report.queued == 0, (day, hour)
    alerted = await world.tick(THU_31_DEC, 8, 0)
    assert (alerted.overdue_alerts, alerted.digest) == (1, False)
    assert (await world.tick(THU_31_DEC, 9, 0)).digest


# ============================================================== regular updates (CHC-5.9)


@pytest.mark.parametrize(
    ("setting", "agreed", "expected"),
    [
        # Acknowledged 23 December: the first update is due 5 working days later, 4 January;
        # the response is due 11 January and is never sent, so updates say it is late.
        (5, None, [MON_4_JAN, TUE_12_JAN, date(2027, 1, 19), date(2027, 1, 26)]),
        (
            2,
            None,
            [
                MON_4_JAN,
                WED_6_JAN,
                FRI_8_JAN,
                TUE_12_JAN,  # not on the response date itself: the day after, as it is late
                date(2027, 1, 14),
                date(2027, 1, 18),
                date(2027, 1, 20),
                date(2027, 1, 22),
                date(2027, 1, 26),
            ],
        ),
        # The interval agreed with the resident wins over the default, from the first
        # update on (CHC-5.9).
        (
            5,
            3,
            [
                date(2026, 12, 30),
                TUE_5_JAN,
                FRI_8_JAN,
                TUE_12_JAN,
                date(2027, 1, 15),
                date(2027, 1, 20),
                date(2027, 1, 25),
            ],
        ),  # fmt: skip
    ],
)
async def test_regular_updates_keep_to_the_interval_across_christmas(
    world: World, setting: int, agreed: int | None, expected: list[date]
) -> None:
    world.scheduler = world.new_scheduler(update_interval_working_days=setting)
    complaint = await world.log(interval=agreed)
    await world.act(START, "acknowledge", complaint)

    found = await world.run_days(WED_23_DEC, date(2027, 1, 26), prefixes=("update:",))

    assert [day for day, _ in found] == expected
    assert [key for _, key in found] == [
        f"update:{complaint.id}:{day.isoformat()}:telegram" for day in expected
    ]


async def test_a_regular_update_tells_the_resident_the_dates_and_how_to_add_information(
    world: World,
) -> None:
    complaint = await world.log()
    await world.act(START, "acknowledge", complaint)
    await world.run_days(WED_23_DEC, TUE_12_JAN, prefixes=("update:",))
    updates = [m for m in await world.outbox() if m.idempotency_key.startswith("update:")]

    first, late = updates
    assert (first.channel, first.address, first.kind) == ("telegram", RESIDENT, "update")
    assert first.complaint_id == complaint.id
    assert first.payload["text"] == (
        f"An update on your complaint {complaint.reference}.\n\n"
        "We are still looking into your complaint at stage 1. We promised to keep you updated, "
        "even when there is nothing new to tell you.\n\n"
        "We will send you our stage 1 response by Monday 11 January 2027.\n"
        "Our next update will be by Tuesday 12 January 2027, unless we send you our response "
        "first.\n\n"
        f"To add information, photos or documents, reply to this message or quote "
        f"{complaint.reference}.\n\n"
        "The Housing Ombudsman Service can give you free, independent advice at any time: "
        "0300 111 3000, www.housing-ombudsman.org.uk."
    )
    assert (
        "our stage 1 response was due by Monday 11 January 2027 and is late" in late.payload["text"]
    )
    assert "Our next update will be by Tuesday 19 January 2027" in late.payload["text"]
    assert (await world.complaint(complaint)).next_update_due_on == date(2027, 1, 19)
    # Each update is in the complaint's record as correspondence sent (CHC-5.12).
    async with world.store.unit_of_work() as uow:
        events = await uow.events.for_complaint(complaint.id or 0)
    sent = [e for e in events if e.kind == EventKind.MESSAGE_OUT]
    assert [e.occurred_at for e in sent] == [at(MON_4_JAN), at(TUE_12_JAN)]


async def test_updates_stop_once_the_response_is_sent(world: World) -> None:
    complaint = await world.log()
    await world.act(START, "acknowledge", complaint)
    found = await world.run_days(WED_23_DEC, THU_7_JAN, prefixes=("update:",))
    responded = await world.act(at(FRI_8_JAN, 9), "respond", complaint)
    assert responded.next_update_due_on is None
    found += await world.run_days(FRI_8_JAN, date(2027, 1, 29), prefixes=("update:",))
    assert [day for day, _ in found] == [MON_4_JAN]


# ============================================================== remedies (CHC-7.3)


@pytest.mark.parametrize(
    ("due_on", "expected"),
    [
        (THU_31_DEC, [(THU_31_DEC, "remedy-due"), (MON_4_JAN, "remedy-overdue")]),
        # Due on a bank holiday, or at a weekend: due on the next working day.
        (FRI_1_JAN, [(MON_4_JAN, "remedy-due"), (TUE_5_JAN, "remedy-overdue")]),
        (date(2026, 12, 26), [(TUE_29_DEC, "remedy-due"), (WED_30_DEC, "remedy-overdue")]),
    ],
)
async def test_staff_hear_when_a_remedy_is_due_and_again_when_it_is_overdue(
    world: World, due_on: date, expected: list[tuple[date, str]]
) -> None:
    complaint = await world.log()
    remedy_id = await world.remedy(complaint, due_on)

    found = await world.run_days(WED_23_DEC, FRI_8_JAN, prefixes=("remedy-",))

    assert found == [(day, f"{what}:{remedy_id}:{due_on.isoformat()}") for day, what in expected]
    notices = [m for m in await world.outbox() if m.idempotency_key.startswith("remedy-")]
    assert [(m.channel, m.address) for m in notices] == [(STAFF_CHANNEL, "staff")] * 2
    assert (
        notices[0]
        .payload["text"]
        .startswith(f"Remedy due today for {complaint.reference}: Apologise, promised by ")
    )
    assert (
        notices[1]
        .payload["text"]
        .startswith(f"Overdue remedy for {complaint.reference}: Apologise")
    )
    assert "It is 1 working day late." in notices[1].payload["text"]


async def test_a_remedy_done_in_time_needs_no_notice(world: World) -> None:
    complaint = await world.log()
    remedy_id = await world.remedy(complaint, THU_31_DEC)
    async with world.store.unit_of_work() as uow:
        await world.services.complaints.complete_remedy(
            uow, reference=complaint.reference, remedy_id=remedy_id, actor=STAFF
        )
    assert await world.run_days(WED_23_DEC, FRI_8_JAN, prefixes=("remedy-",)) == []


# ============================================================== automatic closure


@pytest.mark.parametrize(
    ("responded_on", "after_days", "closed_on"),
    [
        (MON_11_JAN, 28, date(2027, 2, 8)),
        (date(2026, 12, 2), 28, WED_30_DEC),
        # Four weeks on falls on the Boxing Day substitute: closed the next working day.
        (date(2026, 11, 30), 28, TUE_29_DEC),
        # ... or on Christmas Day, then a weekend, then the substitute day.
        (date(2026, 11, 27), 28, TUE_29_DEC),
        (date(2026, 12, 17), 14, THU_31_DEC),  # a landlord's shorter period: two weeks
    ],
)
async def test_a_stage_1_response_not_escalated_is_closed_after_the_set_period(
    world: World, responded_on: date, after_days: int, closed_on: date
) -> None:
    world.scheduler = world.new_scheduler(auto_close_after_days=after_days)
    complaint = await world.log(at(responded_on, 9))
    await world.act(at(responded_on, 9), "acknowledge", complaint)
    await world.act(at(responded_on, 9), "respond", complaint)

    found = await world.run_days(
        responded_on, responded_on + timedelta(days=after_days + 10), prefixes=("auto-closed:",)
    )

    assert found == [(closed_on, f"auto-closed:{complaint.id}:{responded_on.isoformat()}:telegram")]
    closed = await world.complaint(complaint)
    assert closed.status == Status.CLOSED
    assert closed.closed_at == at(closed_on)
    [letter] = [m for m in await world.outbox() if m.idempotency_key.startswith("auto-closed:")]
    weeks = f"{after_days // 7} weeks"
    assert letter.payload["text"] == (
        f"We have closed your complaint {complaint.reference}.\n\n"
        f"We sent you our stage 1 response on {long(responded_on)}. You have not asked for "
        f"your complaint to go to stage 2 in the {weeks} since, so we have closed it.\n\n"
        "If you are not happy with our stage 1 response, you can still ask for your complaint "
        f"to go to stage 2: reply to this message or quote {complaint.reference}. We will "
        "still consider your request, and you don't have to give a reason.\n\n"
        "The Housing Ombudsman Service can give you free, independent advice at any time: "
        "0300 111 3000, www.housing-ombudsman.org.uk."
    )
    async with world.store.unit_of_work() as uow:
        events = await uow.events.for_complaint(complaint.id or 0)
    [closing] = [e for e in events if e.data.get("action") == "close"]
    assert closing.actor == Actor.system()

    # CHC-6.10: a later request for stage 2 is still considered, as the letter says.
    reopened = await world.act(at(closed_on + timedelta(days=3)), "escalate", complaint)
    assert (reopened.status, reopened.stage) == (Status.ESCALATION_REQUESTED, Stage.TWO)


async def test_a_complaint_with_an_escalation_request_is_not_closed(world: World) -> None:
    complaint = await world.log(at(MON_11_JAN, 9))
    await world.act(at(MON_11_JAN, 9), "acknowledge", complaint)
    await world.act(at(MON_11_JAN, 9), "respond", complaint)
    await world.act(at(date(2027, 2, 5)), "escalate", complaint)  # three days before closure

    found = await world.run_days(MON_11_JAN, date(2027, 2, 19), prefixes=("auto-closed:",))

    assert found == []
    assert (await world.complaint(complaint)).status == Status.ESCALATION_REQUESTED


async def test_the_closure_letter_lists_what_is_still_to_be_put_right(world: World) -> None:
    responded_on = date(2026, 12, 2)
    complaint = await world.log(at(responded_on, 9))
    await world.act(at(responded_on, 9), "acknowledge", complaint)
    await world.act(at(responded_on, 9), "respond", complaint)
    await world.remedy(complaint, date(2027, 1, 15), "Replace the boiler")
    await world.run_days(responded_on, WED_30_DEC, prefixes=())
    [letter] = [m for m in await world.outbox() if m.idempotency_key.startswith("auto-closed:")]
    assert (
        "We will still do what we promised, and tell you when each is done:\n"
        "- Replace the boiler, by Friday 15 January 2027."
    ) in letter.payload["text"]


def long(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


# ============================================================== the daily digest


async def digest_world(world: World) -> dict[str, Complaint]:
    """Complaints in every state the digest lists, as seen on Monday 4 January 2027."""
    made: dict[str, Complaint] = {}
    # Acknowledge by 30 December: two working days late on 4 January.
    made["late"] = await world.log(at(MON_21_DEC), address="2001")
    # Acknowledge by 4 January: due today.
    made["today"] = await world.log(at(WED_23_DEC), address="2002")
    # Acknowledge by 6 January: due in the next three working days.
    made["soon"] = await world.log(at(TUE_29_DEC), address="2003")
    # Stage 2 asked for on 30 December, not yet acknowledged: due 7 January (CHC-6.11).
    asked = await world.log(at(date(2026, 12, 1)), address="2004")
    await world.act(at(date(2026, 12, 1)), "acknowledge", asked)
    await world.act(at(date(2026, 12, 2)), "respond", asked)
    made["asked"] = await world.act(at(WED_30_DEC), "escalate", asked)
    # Stage 2 acknowledged on 29 December but nobody handles it yet (CHC-6.13).
    waiting = await world.log(at(date(2026, 12, 1)), address="2005")
    await world.act(at(date(2026, 12, 1)), "acknowledge", waiting)
    await world.act(at(date(2026, 12, 2)), "assign", waiting, stage=Stage.ONE, handler="pat")
    await world.act(at(date(2026, 12, 3)), "respond", waiting)
    await world.act(at(TUE_29_DEC), "escalate", waiting)
    made["waiting"] = await world.act(at(TUE_29_DEC), "acknowledge", waiting)
    await world.remedy(made["waiting"], THU_31_DEC, "Refund the call-out charge")
    # Not in the digest: acknowledged and not due for weeks.
    quiet = await world.log(at(WED_23_DEC), address="2006")
    made["quiet"] = await world.act(at(WED_23_DEC), "acknowledge", quiet)
    await world.act(at(WED_23_DEC), "assign", quiet, stage=Stage.ONE, handler="sam")
    return made


async def test_the_digest_lists_what_the_team_must_work_on_today(world: World) -> None:
    made = await digest_world(world)
    world.clock.set(at(THU_31_DEC))
    async with world.store.unit_of_work() as uow:
        letter = await world.services.outbox.dead_letter(
            uow, source="email", payload=b"\xff", reason="not MIME"
        )

    report = await world.tick(MON_4_JAN, 9, 0)

    assert report.digest
    [digest] = [m for m in await world.outbox() if m.idempotency_key == "digest:2027-01-04"]
    assert (digest.channel, digest.address, digest.kind) == (STAFF_CHANNEL, "staff", "staff_notice")
    ref = {name: complaint.reference for name, complaint in made.items()}
    assert digest.payload["text"] == "\n".join(
        [
            "Complaints for Monday 4 January 2027.",
            "",
            "Overdue (1):",
            f"- {ref['late']}: stage 1 acknowledgement was due by Wednesday 30 December 2026, "
            "2 working days late; handler: not assigned",
            "",
            "Due today (1):",
            f"- {ref['today']}: stage 1 acknowledgement; handler: not assigned",
            "",
            "Due in the next 3 working days (2):",
            f"- {ref['soon']}: stage 1 acknowledgement by Wednesday 6 January 2027; handler: "
            "not assigned",
            f"- {ref['asked']}: stage 2 acknowledgement by Thursday 7 January 2027; handler: "
            "not assigned",
            "",
            "Awaiting acknowledgement (3):",
            f"- {ref['late']}: acknowledge by Wednesday 30 December 2026 (CHC-6.2)",
            f"- {ref['today']}: acknowledge by Monday 4 January 2027 (CHC-6.2)",
            f"- {ref['soon']}: acknowledge by Wednesday 6 January 2027 (CHC-6.2)",
            "",
            "Escalations waiting (2):",
            f"- {ref['asked']}: stage 2 not acknowledged yet, due by Thursday 7 January 2027 "
            "(CHC-6.11)",
            f"- {ref['waiting']}: no stage 2 handler yet (CHC-6.13)",
            "",
            "Remedies due or overdue (1):",
            f"- {ref['waiting']}: Refund the call-out charge, by Thursday 31 December 2026",
            "",
            f"Dead letters (1): {letter.id}",
        ]
    )
    assert ref["quiet"] not in digest.payload["text"]


async def test_the_digest_goes_once_on_working_days_from_its_time(world: World) -> None:
    await digest_world(world)
    world.scheduler = world.new_scheduler(digest_at=time(9, 30), work_starts_at=time(9, 0))
    sent: list[tuple[date, int, int]] = []
    for day in days(THU_24_DEC, TUE_5_JAN):
        for hour, minute in ((9, 29), (9, 30), (16, 0)):
            if (await world.tick(day, hour, minute)).digest:
                sent.append((day, hour, minute))
    # Not on 25 or 28 December or 1 January (bank holidays), nor at the weekends.
    assert sent == [
        (THU_24_DEC, 9, 30),
        (TUE_29_DEC, 9, 30),
        (WED_30_DEC, 9, 30),
        (THU_31_DEC, 9, 30),
        (MON_4_JAN, 9, 30),
        (TUE_5_JAN, 9, 30),
    ]
    # A restart (a new scheduler) on the same day does not send it again.
    world.scheduler = world.new_scheduler(digest_at=time(9, 30))
    assert not (await world.tick(TUE_5_JAN, 17)).digest
    outbox = await world.outbox()
    keys = [m.idempotency_key for m in outbox if m.idempotency_key.startswith("digest:")]
    assert keys == [f"digest:{day.isoformat()}" for day, _, _ in sent]


async def test_a_day_with_nothing_to_list_sends_no_digest(world: World) -> None:
    complaint = await world.log()
    await world.act(START, "acknowledge", complaint)  # nothing due for days
    assert not (await world.tick(WED_23_DEC, 10)).digest
    assert not (await world.tick(WED_23_DEC, 17)).digest


# ============================================================== idempotency and robustness


async def lifetimes(world: World) -> dict[str, int]:
    """Complaints at every step the scheduler acts on, from mid-December; their ids by name."""
    ids: dict[str, int] = {}
    for offset, name in enumerate(("waiting", "acknowledged", "responded")):
        when = at(date(2026, 12, 14 + offset))
        complaint = await world.log(when, address=f"300{offset}")
        if name != "waiting":
            await world.act(when, "acknowledge", complaint)
        if name == "responded":
            await world.act(when, "respond", complaint)
        ids[name] = complaint.id or 0
        ids[f"{name}_remedy"] = await world.remedy(
            complaint, date(2026, 12, 30) + timedelta(days=offset)
        )
    return ids


# Everything but the digests (one each working day), from 14 December to 29 January.
LIFETIME: list[tuple[date, str]] = [
    # Acknowledge by 21 December (CHC-6.2), never done.
    (date(2026, 12, 17), "reminder:{waiting}:1:acknowledge:2026-12-21:2"),
    (date(2026, 12, 21), "reminder:{waiting}:1:acknowledge:2026-12-21:0"),
    (TUE_22_DEC, "overdue:{waiting}:1:acknowledge:2026-12-21"),
    # Respond by 31 December (CHC-6.3), never done; updates every 5 working days (CHC-5.9).
    (TUE_22_DEC, "update:{acknowledged}:2026-12-22:telegram"),
    (TUE_29_DEC, "reminder:{acknowledged}:1:response:2026-12-31:2"),
    (THU_31_DEC, "reminder:{acknowledged}:1:response:2026-12-31:0"),
    (MON_4_JAN, "overdue:{acknowledged}:1:response:2026-12-31"),
    (MON_4_JAN, "update:{acknowledged}:2027-01-04:telegram"),
    (MON_11_JAN, "update:{acknowledged}:2027-01-11:telegram"),
    (date(2027, 1, 18), "update:{acknowledged}:2027-01-18:telegram"),
    (date(2027, 1, 25), "update:{acknowledged}:2027-01-25:telegram"),
    # Responded on 16 December and not escalated: closed four weeks later.
    (date(2027, 1, 13), "auto-closed:{responded}:2026-12-16:telegram"),
    # Remedies due on 30 and 31 December and on New Year's Day (CHC-7.3).
    (WED_30_DEC, "remedy-due:{waiting_remedy}:2026-12-30"),
    (THU_31_DEC, "remedy-overdue:{waiting_remedy}:2026-12-30"),
    (THU_31_DEC, "remedy-due:{acknowledged_remedy}:2026-12-31"),
    (MON_4_JAN, "remedy-overdue:{acknowledged_remedy}:2026-12-31"),
    (MON_4_JAN, "remedy-due:{responded_remedy}:2027-01-01"),
    (TUE_5_JAN, "remedy-overdue:{responded_remedy}:2027-01-01"),
]
LIFETIME_WORKING_DAYS = 32  # 14 December 2026 to 29 January 2027, holidays and weekends off


@pytest.mark.parametrize("schedulers", [1, 2], ids=["one scheduler", "two at once"])
async def test_every_message_of_six_weeks_is_queued_once(world: World, schedulers: int) -> None:
    ids = await lifetimes(world)
    if schedulers == 2:
        world.others.append(world.new_scheduler())

    found = await world.run_days(date(2026, 12, 14), date(2027, 1, 29), prefixes=("",))

    digests = [(day, key) for day, key in found if key.startswith("digest:")]
    assert [key for _, key in digests] == [f"digest:{day.isoformat()}" for day, _ in digests]
    assert len(digests) == LIFETIME_WORKING_DAYS
    assert sorted(pair for pair in found if pair not in digests) == sorted(
        (day, key.format(**ids)) for day, key in LIFETIME
    )
    async with world.store.unit_of_work() as uow:
        acknowledged = await uow.complaints.get(ids["acknowledged"])
        responded = await uow.complaints.get(ids["responded"])
    assert acknowledged.next_update_due_on == date(2027, 2, 1)
    assert responded.status == Status.CLOSED


async def test_a_restart_queues_nothing_again(world: World) -> None:
    await lifetimes(world)
    await world.run_days(date(2026, 12, 14), date(2027, 1, 29))
    before = await world.outbox()

    # A new process replays the whole period, several times a day.
    world.scheduler = world.new_scheduler()
    for day in days(date(2026, 12, 14), date(2027, 1, 29)):
        for hour in (9, 13, 23):
            assert (await world.tick(day, hour)).queued == 0

    assert await world.outbox() == before


async def test_a_failing_job_does_not_stop_the_others(world: World, tmp_path: Path) -> None:
    (tmp_path / "staff_digest.txt").write_text("{{ no_such_thing }}")
    world.scheduler = world.new_scheduler(templates=tmp_path)
    await world.log(at(MON_21_DEC))
    world.clock.set(at(THU_31_DEC))

    report = await world.scheduler.tick()

    assert report.failed == ["digest"]
    assert report.overdue_alerts == 1


async def test_run_ticks_until_stopped(world: World) -> None:
    world.scheduler = world.new_scheduler(interval_seconds=0.01)
    world.clock.set(at(WED_23_DEC))
    stop = asyncio.Event()
    running = asyncio.create_task(world.scheduler.run(stop))
    for _ in range(500):
        if world.scheduler.ticks >= 3:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(running, timeout=10)
    assert world.scheduler.ticks >= 3


# ============================================================== settings and the manager chat


def test_scheduler_settings_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in {
        "COMPLAINTS_SCHEDULER__REMIND_DAYS_BEFORE": "3",
        "COMPLAINTS_SCHEDULER__UPDATE_INTERVAL_WORKING_DAYS": "10",
        "COMPLAINTS_SCHEDULER__AUTO_CLOSE_AFTER_DAYS": "42",
        "COMPLAINTS_SCHEDULER__WORK_STARTS_AT": "08:30",
        "COMPLAINTS_SCHEDULER__DIGEST_AT": "08:45",
        "COMPLAINTS_STAFF__MANAGER_EMAIL": "head-of-service@riverside.example",
        "COMPLAINTS_TELEGRAM__MANAGER_CHAT_ID": "-100999",
    }.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.scheduler == SchedulerSettings(
        remind_days_before=3,
        update_interval_working_days=10,
        auto_close_after_days=42,
        work_starts_at=time(8, 30),
        digest_at=time(8, 45),
    )
    assert settings.staff.manager_email == "head-of-service@riverside.example"
    assert settings.telegram.manager_chat_id == -100999


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("COMPLAINTS_SCHEDULER__UPDATE_INTERVAL_WORKING_DAYS", "0"),
        ("COMPLAINTS_SCHEDULER__REMIND_DAYS_BEFORE", "-1"),
        ("COMPLAINTS_SCHEDULER__AUTO_CLOSE_AFTER_DAYS", "0"),
        ("COMPLAINTS_SCHEDULER__DIGEST_AT", "nine"),
        ("COMPLAINTS_SCHEDULER__WORK_STARTS_AT", "09:00+01:00"),
    ],
)
def test_bad_scheduler_settings_are_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=name):
        load_settings()


class RunningClock:
    """Set to a chosen moment, then moving on with real time (so rate limits run out)."""

    def __init__(self, start: datetime) -> None:
        self._start = start.astimezone(UTC)
        self._began = monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=monotonic() - self._began)


@pytest.mark.parametrize("manager", [True, False], ids=["manager chat", "no manager chat"])
async def test_overdue_alerts_reach_the_manager_chat_and_the_digest_the_staff_chat(
    database_url: str, tmp_path: Path, manager: bool
) -> None:
    """The whole bot (``complaints-bot run``) against a fake Telegram Bot API server.

    Without a manager chat, the staff chat gets the overdue alerts too.
    """
    staff_chat = -100777
    manager_chat = -100888 if manager else staff_chat
    async with FakeTelegram() as fake:
        settings = load_settings(
            database_url=database_url,
            data_dir=tmp_path,
            telegram={
                "token": fake.token,
                "api_url": fake.base_url,
                "staff_chat_id": staff_chat,
                "manager_chat_id": manager_chat if manager else None,
            },
            scheduler={"interval_seconds": 0.05},
        )
        # Thursday 31 December: the acknowledgement was due the day before (CHC-6.2).
        app = Application(settings, clock=RunningClock(at(THU_31_DEC)))
        await app.migrate()
        async with app.store.unit_of_work() as uow:
            resident = await app.residents.identify(uow, channel="telegram", address="5001")
            complaint = await app.complaints.log(
                uow,
                resident_id=resident.id or 0,
                channel="telegram",
                received_at=at(MON_21_DEC),
                elements=["Nobody came to fix the leak"],
                actor=Actor.resident(resident.id or 0),
            )
        stop = asyncio.Event()
        running = asyncio.create_task(app.run(stop, out=io.StringIO()))
        try:
            await fake.wait_for(
                lambda: (
                    len(fake.sent_messages(staff_chat) + fake.sent_messages(manager_chat))
                    >= 2 + (0 if manager else 2)
                ),  # one chat: each of its messages counted twice
                timeout=20,
            )
        finally:
            stop.set()
            await asyncio.wait_for(running, timeout=15)
            await app.aclose()
    texts = {
        chat: [m["text"] for m in fake.sent_messages(chat)] for chat in (staff_chat, manager_chat)
    }
    [alert] = [t for t in texts[manager_chat] if t.startswith("URGENT")]
    [digest] = [t for t in texts[staff_chat] if t.startswith("Complaints for")]
    assert len(texts[staff_chat]) == (1 if manager else 2)
    assert re.match(
        rf"URGENT\s+Overdue: the stage 1 acknowledgement for {complaint.reference}", alert
    )
    assert digest.startswith("Complaints for Thursday 31 December 2026.")
    assert f"{complaint.reference}: stage 1 acknowledgement was due by Wednesday 30" in digest
