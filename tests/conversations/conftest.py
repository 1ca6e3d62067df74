"""A chat harness over the real engine and database: a resident types, the test reads replies."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from conversations.engine import Engine
from conversations.envelopes import STAFF_CHANNEL, Attachment, InboundMessage, OutboundMessage
from conversations.wording import Wording
from core.calendar import WorkingDayCalendar
from core.clock import FrozenClock
from core.db.store import Store
from core.settings import LandlordSettings, OmbudsmanSettings
from tests.conftest import Services

_ids = itertools.count(1)


@dataclass
class Chat:
    """One resident on one channel, talking to an engine."""

    engine: Engine
    clock: FrozenClock
    sender: str = "sam"
    channel: str = "terminal"
    replies: list[OutboundMessage] = field(default_factory=list)
    staff: list[OutboundMessage] = field(default_factory=list)
    other: list[OutboundMessage] = field(default_factory=list)

    async def say(
        self,
        text: str = "",
        *,
        choice: str | None = None,
        attachments: tuple[Attachment, ...] = (),
        thread_reference: str | None = None,
        message_id: str | None = None,
        reply_to: str | None = None,
    ) -> str:
        """Send a message; return the text of the replies to this resident, joined."""
        message = InboundMessage(
            channel=self.channel,
            sender=self.sender,
            message_id=message_id or f"m{next(_ids)}",
            received_at=self.clock.now(),
            text=text,
            choice=choice,
            attachments=attachments,
            thread_reference=thread_reference,
            reply_to=reply_to,
        )
        queued = await self.engine.handle(message)
        mine = [m for m in queued if m.channel == self.channel and m.recipient == self.sender]
        self.replies.extend(mine)
        self.staff.extend(m for m in queued if m.channel == STAFF_CHANNEL)
        self.other.extend(m for m in queued if m not in mine and m.channel != STAFF_CHANNEL)
        return "\n".join(m.text for m in mine)

    async def pick(self, label_start: str) -> str:
        """Press the option (of the last reply that had options) whose label starts so."""
        for reply in reversed(self.replies):
            if reply.choices:
                for option in reply.choices:
                    if option.label.lower().startswith(label_start.lower()):
                        return await self.say(option.label, choice=option.id)
                labels = [c.label for c in reply.choices]
                raise AssertionError(f"no option {label_start!r} in {labels}")
        raise AssertionError("no reply offered options")

    @property
    def last(self) -> OutboundMessage:
        return self.replies[-1]

    @property
    def options(self) -> list[str]:
        return [c.label for c in self.last.choices]


def build_engine(store: Store, clock: FrozenClock, services: Services) -> Engine:
    return Engine(
        store=store,
        clock=clock,
        calendar=WorkingDayCalendar(),
        complaints=services.complaints,
        residents=services.residents,
        service_requests=services.service_requests,
        outbox=services.outbox,
        wording=Wording(
            landlord=LandlordSettings(
                name="Riverside Homes",
                repairs_phone="0161 000 0001",
                emergency_repairs_phone="0161 000 0999",
            ),
            ombudsman=OmbudsmanSettings(),
        ),
    )


@pytest.fixture
def engine(store: Store, clock: FrozenClock, services: Services) -> Engine:
    return build_engine(store, clock, services)


@pytest.fixture
def chat(engine: Engine, clock: FrozenClock) -> Callable[..., Chat]:
    def make(sender: str = "sam", channel: str = "terminal") -> Chat:
        return Chat(engine=engine, clock=clock, sender=sender, channel=channel)

    return make
