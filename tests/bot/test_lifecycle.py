"""A complaint's whole life, across Christmas 2026, with a clock that moves day by day.

Logged in the chat on Wednesday 23 December 2026 and acknowledged at once; reminded, then
extended once; answered at stage 1; escalated (no reason given) and acknowledged at stage 2 by
someone who did not handle stage 1; answered finally with the Ombudsman referral; its remedy
carried out; closed. Every working morning the scheduler runs (reminders, regular updates, the
digest) and the dispatcher delivers what is queued, so the test sees what the resident and the
staff chat receive and on which day.

England's bank holidays on the way: Friday 25 December, Monday 28 December (Boxing Day
substitute) and Friday 1 January 2027.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from bot.dispatcher import Dispatcher
from bot.scheduler import Scheduler
from channels.base import Channel, OnMessage
from conversations.casework import Casework, ResponseFile
from conversations.envelopes import OutboundMessage
from conversations.notify import Notifier
from core.calendar import WorkingDayCalendar
from core.clock import LONDON, FrozenClock
from core.complaints.enums import Status
from core.db.store import Store
from core.deadlines import DeadlineRules
from core.errors import HandlerConflictError
from core.settings import SchedulerSettings
from tests.conftest import Services
from tests.conversations.conftest import Chat, build_engine
from tests.conversations.test_casework import build_casework, default_wording

STAGE1_HANDLER = "officer-1"
STAGE2_HANDLER = "officer-2"
RESIDENT_CHAT = "1001"
LAST_DAY = date(2027, 2, 26)


class Recorder(Channel):
    """A channel that keeps what it is asked to send, with the day it was sent."""

    def __init__(self, clock: FrozenClock) -> None:
        self._clock = clock
        self.received: list[tuple[date, OutboundMessage]] = []

    async def start(self, on_message: OnMessage) -> None:
        return None

    async def send(self, message: OutboundMessage) -> str | None:
        self.received.append((self._clock.now().astimezone(LONDON).date(), message))
        return f"{self.name}-{len(self.received)}"

    async def stop(self) -> None:
        return None


class ResidentTelegram(Recorder):
    """The resident's Telegram chat."""

    name = "telegram"


class StaffChat(Recorder):
    """The staff destinations (chat and mailbox), as one."""

    name = "staffchat"


@dataclass
class Life:
    clock: FrozenClock
    store: Store
    casework: Casework
    scheduler: Scheduler
    dispatcher: Dispatcher
    resident: Recorder
    staff: Recorder
    chat: Chat
    today: date = date(2026, 12, 23)

    def at(self, day: date, hour: int, minute: int = 0) -> None:
        self.clock.set(datetime.combine(day, time(hour, minute), tzinfo=LONDON))

    async def deliver(self) -> None:
        while await self.dispatcher.dispatch_once():
            pass

    async def morning(self, day: date) -> None:
        """09:05: the scheduler's tick (reminders, updates, digest), then delivery."""
        self.at(day, 9, 5)
        await self.scheduler.tick()
        await self.deliver()

    async def until(self, day: date) -> None:
        """Run every morning up to and including ``day``; leave the clock at 11:00 that day."""
        while self.today < day:
            self.today += timedelta(days=1)
            await self.morning(self.today)
        self.at(day, 11)

    def letters(self) -> list[tuple[date, str]]:
        """What the resident received after the dialogue that logged the complaint."""
        return [(d, m.text) for d, m in self.resident.received if m.kind.value != "reply"]

    def reminders(self) -> list[tuple[date, str]]:
        return [(d, m.text) for d, m in self.staff.received if m.text.startswith("Reminder:")]


@pytest.fixture
def life(
    store: Store, clock: FrozenClock, services: Services, rules: DeadlineRules, tmp_path: Path
) -> Life:
    words = default_wording()
    casework = build_casework(store, clock, services, rules, tmp_path, wording=words)
    engine = build_engine(store, clock, services)
    scheduler = Scheduler(
        store=store,
        clock=clock,
        rules=rules,
        settings=SchedulerSettings(),
        notifier=Notifier(outbox=services.outbox, wording=words, clock=clock),
        wording=words,
        complaints=services.complaints,
    )
    resident = ResidentTelegram(clock)
    staff = StaffChat(clock)
    dispatcher = Dispatcher(
        store=store,
        clock=clock,
        channels={"telegram": resident, "staffchat": staff},
        staff_channels=("staffchat",),
        wording=words,
    )
    chat = Chat(engine=engine, clock=clock, sender=RESIDENT_CHAT, channel="telegram")
    return Life(clock, store, casework, scheduler, dispatcher, resident, staff, chat)


async def test_a_complaint_from_christmas_to_closure(life: Life) -> None:
    # --- Wednesday 23 December 2026: logged in the chat and acknowledged at once (CHC-6.2).
    life.at(date(2026, 12, 23), 10)
    await life.chat.say("I want to make a complaint")
    await life.chat.say("The boiler repair was booked three times and nobody came")
    await life.chat.say("Flat 3, Oak House, M1 2AB")
    await life.chat.say("since October")
    await life.chat.say("Fix the boiler and pay for the heaters I bought")
    await life.chat.pick("For myself")
    await life.chat.pick("Nothing needed")
    await life.chat.pick("Yes, that's right")
    await life.deliver()
    (ref,) = {m.reference for _, m in life.resident.received if m.reference}

    # --- Thursday 7 January 2027: staff are reminded of the stage 1 response (due 11 January).
    # --- Friday 8 January: a survey is needed; extended once, by 5 working days (CHC-6.4).
    await life.until(date(2027, 1, 8))
    await life.casework.extend(
        ref, working_days=5, reason="We need a heating engineer's report", by=STAGE1_HANDLER
    )
    await life.deliver()

    # --- Friday 15 January: the stage 1 response (CHC-6.9).
    await life.until(date(2027, 1, 15))
    stage1 = ResponseFile.model_validate(
        {
            "decisions": [
                {"point": 1, "decision": "upheld", "reasons": "Three visits were missed."},
            ],
        }
    )
    await life.casework.respond(ref, response=stage1, by=STAGE1_HANDLER)
    await life.deliver()

    # --- Tuesday 19 January: the resident asks for stage 2 by phone, giving no reason
    # (CHC-6.12); staff record it on their behalf.
    await life.until(date(2027, 1, 19))
    await life.casework.escalate(ref, by=STAGE1_HANDLER)
    await life.deliver()

    # --- Thursday 21 January: acknowledged at stage 2 by someone else (CHC-6.11, CHC-6.13).
    await life.until(date(2027, 1, 21))
    with pytest.raises(HandlerConflictError):
        await life.casework.accept_escalation(ref, by=STAGE1_HANDLER)
    await life.casework.accept_escalation(ref, by=STAGE2_HANDLER)
    await life.deliver()

    # --- Tuesday 16 February: the final response, with a remedy (CHC-6.19, CHC-7.3).
    await life.until(date(2027, 2, 16))
    final = ResponseFile.model_validate(
        {
            "decisions": [
                {"point": 1, "decision": "upheld", "reasons": "The boiler was not fixed in time."},
            ],
            "remedies": [
                {
                    "type": "financial",
                    "what": "Repay the cost of the heaters",
                    "by": "2027-02-26",
                    "amount_pence": 8500,
                }
            ],
        }
    )
    await life.casework.respond(ref, response=final, by=STAGE2_HANDLER)
    await life.deliver()

    # --- Wednesday 24 February: the remedy is carried out; Thursday 25 February: closed.
    await life.until(date(2027, 2, 24))
    case = await life.casework.show(ref)
    await life.casework.complete_remedy(ref, remedy_id=case.remedies[0].id or 0, by=STAGE2_HANDLER)
    await life.deliver()
    await life.until(date(2027, 2, 25))
    await life.casework.close(ref, by=STAGE2_HANDLER)
    await life.deliver()
    await life.until(LAST_DAY)

    # --- What the resident received, and when. The dialogue's replies all came at once on
    # 23 December; then one letter per event, and a regular update every 5 working days while
    # a response was awaited (CHC-5.9), never on a weekend or a bank holiday.
    dialogue = [d for d, m in life.resident.received if m.kind.value == "reply"]
    assert dialogue and set(dialogue) == {date(2026, 12, 23)}
    expected: list[tuple[date, list[str]]] = [
        (
            date(2026, 12, 23),
            [  # CHC-6.2, 5.6, 3.7
                f"Your reference is {ref}",
                "This is a stage 1 complaint",
                "The boiler repair was booked three times and nobody came",
                "We will send you our stage 1 response by Monday 11 January 2027",
                "0300 111 3000",
            ],
        ),
        (
            date(2027, 1, 4),
            [  # CHC-5.9: 5 working days on, skipping 25, 28 Dec and 1 Jan
                "An update on your complaint",
                "stage 1",
                "by Monday 11 January 2027",
                "Our next update will be by Tuesday 12 January 2027",
            ],
        ),
        (
            date(2027, 1, 8),
            [  # CHC-6.4, 6.5: before the date passes; reason, date, Ombudsman
                "We need more time",
                "We need a heating engineer's report",
                "We said we would respond by Monday 11 January 2027",
                "We will now respond by Monday 18 January 2027",
                "0300 111 3000",
                "PO Box 1484, Unit D, Preston, PR2 0ET",
            ],
        ),
        (
            date(2027, 1, 12),
            [
                "An update on your complaint",
                "by Monday 18 January 2027",
                "Our next update will be by Tuesday 19 January 2027",
            ],
        ),
        (
            date(2027, 1, 15),
            [  # CHC-6.9
                "Our stage 1 response",
                "sent on Friday 15 January 2027",
                "at stage 1",
                "The boiler repair was booked three times and nobody came",
                "Decision: upheld.",
                "Why: Three visits were missed.",
                "ask for your complaint to go to stage 2",
                "You don't have to give a reason",
            ],
        ),
        (
            date(2027, 1, 19),
            [  # CHC-6.11, 6.12
                "to go to stage 2",
                "on Tuesday 19 January 2027",
                "You don't have to give a reason",
                "by Tuesday 26 January 2027",
            ],
        ),
        (
            date(2027, 1, 21),
            [  # CHC-6.11, 5.6, 6.14, 6.13
                "is now at stage 2",
                "We acknowledged it on Thursday 21 January 2027",
                "did not deal with it at stage 1",
                "The boiler repair was booked three times and nobody came",
                "If we have misunderstood anything",
                "final response by Thursday 18 February 2027",
            ],
        ),
        (
            date(2027, 1, 28),
            [
                "An update on your complaint",
                "at stage 2",
                "by Thursday 18 February 2027",
                "Our next update will be by Thursday 4 February 2027",
            ],
        ),
        (date(2027, 2, 4), ["at stage 2", "Our next update will be by Thursday 11 February 2027"]),
        (date(2027, 2, 11), ["at stage 2", "Our next update will be by Friday 19 February 2027"]),
        (
            date(2027, 2, 16),
            [  # CHC-6.19
                "Our final response",
                "sent on Tuesday 16 February 2027",
                "stage 2",
                "It is our final response",
                "Why: The boiler was not fixed in time.",
                "A payment: Repay the cost of the heaters (£85.00), by Friday 26 February 2027",
                "refer your complaint to the Housing Ombudsman now",
                "You can go to them directly",
                "0300 111 3000",
                "https://www.housing-ombudsman.org.uk/residents/make-a-complaint/",
            ],
        ),
        (
            date(2027, 2, 24),
            [  # CHC-7.3
                "something we promised is done",
                "Repay the cost of the heaters",
                "Done on Wednesday 24 February 2027",
            ],
        ),
        (
            date(2027, 2, 25),
            [
                "We have closed your complaint",
                "on Thursday 25 February 2027",
                "refer your complaint to the Housing Ombudsman directly",
            ],
        ),
    ]
    letters = life.letters()
    assert [d for d, _ in letters] == [d for d, _ in expected], letters
    for (day, text), (_, parts) in zip(letters, expected, strict=True):
        missing = [p for p in parts if p not in text]
        assert not missing, f"{day}: {missing} not in:\n{text}"
        assert ref in text
        assert STAGE1_HANDLER not in text and STAGE2_HANDLER not in text  # 2020 CHC-3.17

    # --- What staff received: the handover, a reminder 2 working days before each deadline
    # that was still open, the digest on working days, and never an overdue alert.
    assert [d for d, _ in life.reminders()] == [
        date(2027, 1, 7),
        date(2027, 1, 14),
        date(2027, 2, 16),
    ]
    for (_, text), due in zip(
        life.reminders(),
        ["Monday 11 January 2027", "Monday 18 January 2027", "Thursday 18 February 2027"],
        strict=True,
    ):
        assert f"due by {due}, in 2 working days" in text and ref in text
    assert "extend it before that date" in life.reminders()[0][1]  # CHC-6.4
    first_day, handover = life.staff.received[0]
    assert first_day == date(2026, 12, 23) and handover.text.startswith(f"New complaint {ref}")
    calendar = WorkingDayCalendar()
    for day, message in life.staff.received:
        assert message.text.startswith(("New complaint", "Reminder:", "Complaints for")), message
        assert calendar.is_working_day(day), (day, message.text)
    for day, _ in letters[1:]:
        assert calendar.is_working_day(day)

    # --- The record (CHC-5.12).
    case = await life.casework.show(ref)
    assert case.status == Status.CLOSED.value
    assert (case.stage1["handler"], case.stage2["handler"]) == (STAGE1_HANDLER, STAGE2_HANDLER)
    assert [(x.previous_due_on, x.new_due_on) for x in case.extensions] == [
        (date(2027, 1, 11), date(2027, 1, 18))
    ]
    assert case.extensions[0].notified_at is not None
    assert case.remedies[0].status == "done"
    assert case.escalation_reason is None  # no reason needed (CHC-6.12)
