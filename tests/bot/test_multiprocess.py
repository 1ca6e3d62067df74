"""Two bot processes on one PostgreSQL database: every message is queued once and sent once.

Each worker is a separate OS process (this module run as ``python -m
tests.bot.test_multiprocess``) with its own connection pool, running a :class:`Scheduler` and
a :class:`Dispatcher` side by side, as ``complaints-bot run`` does. Both start at the same
moment on a database holding many complaints with work due: reminders, overdue alerts,
remedies, regular updates, automatic closures and the digest. Their channels append one line
per message sent to a shared file (``O_APPEND``, so lines from two processes never mix).

What was sent must match what the outbox holds, message for message: every row sent, each
exactly once (a staff notice once to each staff channel). The work is bounded (a fixed number
of complaints) and so is the time (the workers are stopped after a deadline at the latest).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Final

import pytest
from sqlalchemy import func, select

from bot.dispatcher import Dispatcher
from bot.scheduler import Scheduler
from channels.base import Channel, OnMessage
from conversations.envelopes import STAFF_CHANNEL, OutboundMessage
from conversations.notify import Notifier
from conversations.wording import Wording
from core.calendar import WorkingDayCalendar
from core.clock import LONDON, FrozenClock
from core.complaints.enums import Outcome, RemedyType
from core.complaints.models import Actor
from core.complaints.service import ComplaintService
from core.db.store import Store
from core.db.tables import OutboxRow
from core.deadlines import DeadlineRules, Timescales
from core.outbox.models import OutboxStatus
from core.outbox.service import OutboxService
from core.residents.service import ResidentService
from core.settings import LandlordSettings, OmbudsmanSettings, SchedulerSettings
from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.postgres

WORKERS: Final = 2
RESIDENT_CHANNELS: Final = ("telegram", "email")
STAFF_CHANNELS: Final = ("telegram", "email")
TODAY: Final = datetime(2027, 1, 4, 10, 0, tzinfo=LONDON)
"""Monday 4 January 2027, the first working day after the Christmas bank holidays."""
STAFF = Actor.staff("officer-1")
DEADLINE_S: Final = 90.0
"""The longest the workers may take; the test fails rather than waits longer."""
QUIET_S: Final = 1.0
"""After everything is sent, the workers keep running this long, in case a second copy of
anything is still to come."""

# How many complaints of each kind the database starts with; each gives one message.
DUE_TODAY: Final = 30  # received 23 December: acknowledge today (CHC-6.2), a reminder
OVERDUE: Final = 15  # received 21 December: acknowledgement overdue, a manager alert
UPDATES: Final = 15  # acknowledged 23 December: a regular update today (CHC-5.9)
CLOSURES: Final = 10  # responded 7 December: closed today, with a letter
REMEDIES: Final = 10  # remedies due today (CHC-7.3), a notice each


# ====================================================================== the worker process


class FileChannel(Channel):
    """Appends each message it is asked to send to a file, one JSON line each."""

    name = "file"

    def __init__(self, name: str, sink: Path, worker: str) -> None:
        self.name = name  # type: ignore[misc]  # one instance per channel name
        self._fd = os.open(sink, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._worker = worker

    async def start(self, on_message: OnMessage) -> None:
        return None

    async def send(self, message: OutboundMessage) -> str | None:
        await asyncio.sleep(0.002)  # a real medium takes a moment: widen any race
        line = json.dumps(
            {
                "channel": self.name,
                "recipient": message.recipient,
                "text": message.text,
                "worker": self._worker,
            },
            ensure_ascii=False,
            sort_keys=True,
        )
        os.write(self._fd, (line + "\n").encode())  # one write per line: never interleaved
        return f"{self._worker}-{uuid.uuid4().hex}"

    async def stop(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class RunningClock:
    """Starts at ``TODAY`` and moves on with real time, as a process's clock would."""

    def __init__(self, start: datetime) -> None:
        self._start = start.astimezone(UTC)
        self._began = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._began)


async def work(url: str, sink: Path, folder: Path, name: str) -> None:
    """Run a scheduler and a dispatcher, like ``complaints-bot run``, until SIGTERM."""
    store = Store.from_url(url)
    clock = RunningClock(TODAY)
    rules = DeadlineRules(WorkingDayCalendar(), Timescales())
    words = Wording(
        landlord=LandlordSettings(name="Riverside Homes"), ombudsman=OmbudsmanSettings()
    )
    channels: dict[str, Channel] = {n: FileChannel(n, sink, name) for n in RESIDENT_CHANNELS}
    scheduler = Scheduler(
        store=store,
        clock=clock,
        rules=rules,
        settings=SchedulerSettings(interval_seconds=0.05),
        notifier=Notifier(outbox=OutboxService(clock=clock), wording=words, clock=clock),
        wording=words,
        complaints=ComplaintService(clock=clock, rules=rules),
    )
    dispatcher = Dispatcher(
        store=store,
        clock=clock,
        channels=channels,
        staff_channels=STAFF_CHANNELS,
        batch_size=10,  # small batches: the two dispatchers take turns, row by row
        wording=words,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.call_later(DEADLINE_S + 10, stop.set)  # never outlive the test
    (folder / f"ready-{name}").touch()
    while not (folder / "go").exists():  # start together, to race for the same work
        await asyncio.sleep(0.005)
    try:
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(scheduler.run(stop))
            tasks.create_task(dispatcher.run(stop, interval=0.05))
    finally:
        for channel in channels.values():
            await channel.stop()
        await store.close()


def main(argv: list[str] | None = None) -> None:
    """The worker's entry point: ``python -m tests.bot.test_multiprocess URL SINK DIR NAME``."""
    parser = argparse.ArgumentParser()
    for argument in ("url", "sink", "folder", "name"):
        parser.add_argument(argument)
    args = parser.parse_args(argv)
    asyncio.run(work(args.url, Path(args.sink), Path(args.folder), args.name))


# ====================================================================== the test


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, postgres_template: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database (the ``postgresql`` case of ``database_url``)."""
    name = f"test_mp_{uuid.uuid4().hex[:12]}"
    url = asyncio.run(postgres_server.create_database(name, template=postgres_template))
    yield url
    asyncio.run(postgres_server.drop_database(name))


@pytest.fixture
async def seeded(postgres_url: str) -> AsyncIterator[str]:
    """The database with every kind of due work, as of Monday 4 January 2027."""
    store = Store.from_url(postgres_url)
    clock = FrozenClock(TODAY)
    rules = DeadlineRules(WorkingDayCalendar(), Timescales())
    complaints = ComplaintService(clock=clock, rules=rules)
    residents = ResidentService(clock=clock)

    async def log(when: datetime, number: int) -> str:
        clock.set(when)
        async with store.unit_of_work() as uow:
            resident = await residents.identify(
                uow, channel=RESIDENT_CHANNELS[number % 2], address=_address(number)
            )
            complaint = await complaints.log(
                uow,
                resident_id=resident.id or 0,
                channel=RESIDENT_CHANNELS[number % 2],
                received_at=when,
                elements=[f"Repair {number} was never done"],
                actor=Actor.resident(resident.id or 0),
            )
        return complaint.reference

    async def step(when: datetime, reference: str, *steps: str) -> None:
        clock.set(when)
        async with store.unit_of_work() as uow:
            for name in steps:
                if name == "acknowledge":
                    await complaints.acknowledge(uow, reference=reference, actor=STAFF)
                elif name == "respond":
                    await complaints.record_decision(
                        uow,
                        reference=reference,
                        position=1,
                        outcome=Outcome.NOT_UPHELD,
                        reasons="The repair was done on time.",
                        actor=STAFF,
                    )
                    await complaints.respond(uow, reference=reference, actor=STAFF)
                else:
                    await complaints.add_remedy(
                        uow,
                        reference=reference,
                        remedy_type=RemedyType.APOLOGY,
                        description="Apologise in writing",
                        actor=STAFF,
                        due_on=TODAY.date(),
                    )

    number = 0
    for count, received, steps in (
        (DUE_TODAY, _on(date(2026, 12, 23)), ()),
        (OVERDUE, _on(date(2026, 12, 21)), ()),
        (UPDATES, _on(date(2026, 12, 23)), ("acknowledge",)),
        (CLOSURES, _on(date(2026, 12, 7)), ("acknowledge", "respond")),
    ):
        for _ in range(count):
            number += 1
            reference = await log(received, number)
            if steps:
                await step(received, reference, *steps)
            if number <= REMEDIES:
                await step(received, reference, "remedy")
    await store.close()
    yield postgres_url


def _on(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=LONDON)


def _address(number: int) -> str:
    return str(10_000 + number) if number % 2 == 0 else f"resident{number}@example.test"


def _start(url: str, sink: Path, folder: Path, name: str) -> subprocess.Popen[bytes]:
    root = Path(__file__).resolve().parents[2]
    command = [sys.executable, "-m", "tests.bot.test_multiprocess", url, str(sink), str(folder)]
    with (folder / f"{name}.log").open("wb") as log:  # the child keeps its own copy
        return subprocess.Popen(
            [*command, name],
            cwd=root,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


async def _outbox_state(url: str) -> tuple[int, int]:
    """Return (rows, rows not yet sent)."""
    store = Store.from_url(url)
    try:
        async with store.unit_of_work() as uow:
            total = await uow.session.scalar(select(func.count(OutboxRow.id)))
            pending = await uow.outbox.depth()
    finally:
        await store.close()
    return int(total or 0), pending


async def test_two_schedulers_and_two_dispatchers_send_every_message_exactly_once(
    seeded: str, tmp_path: Path
) -> None:
    url = seeded
    sink = tmp_path / "sent.jsonl"
    expected_rows = DUE_TODAY + OVERDUE + UPDATES + CLOSURES + REMEDIES + 1  # and the digest
    workers = [_start(url, sink, tmp_path, f"worker-{n}") for n in range(1, WORKERS + 1)]
    try:
        began = time.monotonic()
        while not all((tmp_path / f"ready-worker-{n}").exists() for n in range(1, WORKERS + 1)):
            assert all(w.poll() is None for w in workers), _logs(tmp_path)
            assert time.monotonic() - began < DEADLINE_S, _logs(tmp_path)
            await asyncio.sleep(0.05)
        (tmp_path / "go").touch()
        while True:
            total, pending = await _outbox_state(url)
            if total >= expected_rows and pending == 0:
                break
            assert all(w.poll() is None for w in workers), _logs(tmp_path)
            assert time.monotonic() - began < DEADLINE_S, (total, pending, _logs(tmp_path))
            await asyncio.sleep(0.1)
        await asyncio.sleep(QUIET_S)  # anything queued or sent twice would show up now
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
    assert [w.returncode for w in workers] == [0] * WORKERS, _logs(tmp_path)

    store = Store.from_url(url)
    try:
        async with store.unit_of_work() as uow:
            rows = list(await uow.session.scalars(select(OutboxRow).order_by(OutboxRow.id)))
    finally:
        await store.close()
    assert len(rows) == expected_rows
    assert {row.status for row in rows} == {OutboxStatus.SENT.value}
    kinds = Counter(row.idempotency_key.split(":")[0] for row in rows)
    assert kinds == {
        "reminder": DUE_TODAY,
        "overdue": OVERDUE,
        "update": UPDATES,
        "auto-closed": CLOSURES,
        "remedy-due": REMEDIES,
        "digest": 1,
    }

    # Each row was sent once: a staff notice to each staff channel, a letter to its channel.
    expected: Counter[tuple[str, str, str]] = Counter()
    for row in rows:
        message = OutboundMessage.model_validate(row.payload)
        names = STAFF_CHANNELS if row.channel == STAFF_CHANNEL else (row.channel,)
        for name in names:
            expected[(name, message.recipient, message.text)] += 1
    sent_lines = [json.loads(line) for line in sink.read_text().splitlines()]
    sent = Counter((s["channel"], s["recipient"], s["text"]) for s in sent_lines)
    assert sent == expected
    assert sum(sent.values()) == len(sent_lines)
    # Both processes did some of the sending: the work really was shared.
    assert {s["worker"] for s in sent_lines} == {f"worker-{n}" for n in range(1, WORKERS + 1)}


def _logs(folder: Path) -> str:
    return "\n".join(
        f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}"
        for path in sorted(folder.glob("*.log"))
    )


if __name__ == "__main__":
    main()
