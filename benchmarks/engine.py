"""Messages per second through the conversation engine on SQLite, beside a baseline.

Runs complete intake dialogues (complaint described, questions answered, read-back confirmed,
logged and acknowledged) for many residents, interleaved, through the real engine and an SQLite
database in WAL mode. The baseline, measured in the same run on the same disk, is the cheapest
durable thing a message could cost: one aiosqlite insert-and-commit per message.

    .venv/bin/python -m benchmarks.engine [--residents 200] [--profile]

Prints both rates and their ratio (engine / baseline). ``--profile`` adds the functions where
the engine spends its time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import itertools
import pstats
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import aiosqlite

from conversations.engine import Engine
from conversations.envelopes import InboundMessage
from conversations.wording import Wording
from core.calendar import WorkingDayCalendar
from core.clock import LONDON, FrozenClock
from core.complaints.service import ComplaintService
from core.complaints.service_requests import ServiceRequestService
from core.db.engine import sqlite_url
from core.db.store import Store
from core.deadlines import DeadlineRules, Timescales
from core.outbox.service import OutboxService
from core.residents.service import ResidentService
from core.settings import LandlordSettings, OmbudsmanSettings

# One complete intake dialogue: (text, choice id) per message.
DIALOGUE: tuple[tuple[str, str | None], ...] = (
    ("the repair man never came, third time I have reported this", None),
    ("Yes, make a complaint", "yes_complain"),
    ("Flat 2, Rowan Court, M4 1AA", None),
    ("since September", None),
    ("I want the boiler fixed and an apology", None),
    ("For myself", "myself"),
    ("Nothing needed", "no_support"),
    ("Yes, that's right", "confirm"),
)


async def baseline(path: Path, count: int) -> float:
    """Insert-and-commit one row per message with plain aiosqlite; return messages/s."""
    async with aiosqlite.connect(path) as db:
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.execute("CREATE TABLE m (id INTEGER PRIMARY KEY, sender TEXT, body TEXT)")
        await db.commit()
        started = time.perf_counter()
        for i in range(count):
            await db.execute("INSERT INTO m (sender, body) VALUES (?, ?)", (f"r{i}", "x" * 60))
            await db.commit()
        return count / (time.perf_counter() - started)


def build(store: Store, clock: FrozenClock) -> Engine:
    calendar = WorkingDayCalendar()
    return Engine(
        store=store,
        clock=clock,
        calendar=calendar,
        complaints=ComplaintService(clock=clock, rules=DeadlineRules(calendar, Timescales())),
        residents=ResidentService(clock=clock),
        service_requests=ServiceRequestService(clock=clock),
        outbox=OutboxService(clock=clock),
        wording=Wording(landlord=LandlordSettings(), ombudsman=OmbudsmanSettings()),
    )


async def engine_rate(path: Path, residents: int) -> tuple[float, int, int]:
    """Run the dialogues; return messages/s, messages sent in, complaints logged."""
    store = Store.from_url(sqlite_url(path))
    await store.migrate()
    clock = FrozenClock(datetime(2026, 12, 23, 10, 0, tzinfo=LONDON))
    engine = build(store, clock)
    ids = itertools.count()
    count = 0
    started = time.perf_counter()
    # Interleaved: every resident says their first line, then every resident their second, …
    for text, choice in DIALOGUE:
        for resident in range(residents):
            clock.advance(timedelta(milliseconds=5))
            await engine.handle(
                InboundMessage(
                    channel="bench",
                    sender=f"resident-{resident}",
                    message_id=str(next(ids)),
                    received_at=clock.now(),
                    text=text,
                    choice=choice,
                )
            )
            count += 1
    elapsed = time.perf_counter() - started
    async with store.unit_of_work() as uow:
        logged = await uow.complaints.count()
    await store.close()
    return count / elapsed, count, logged


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=200)
    parser.add_argument("--profile", action="store_true", help="show where the time goes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        base = Path(directory)
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        rate, count, logged = await engine_rate(base / "engine.sqlite3", args.residents)
        if profiler:
            profiler.disable()
        base_rate = await baseline(base / "baseline.sqlite3", count)
    assert logged == args.residents, f"expected {args.residents} complaints, logged {logged}"
    print(f"residents: {args.residents}; messages: {count}; complaints logged: {logged}")
    print(f"engine:   {rate:8.0f} messages/s  (complete intake dialogues, SQLite WAL)")
    print(f"baseline: {base_rate:8.0f} messages/s  (aiosqlite insert + commit per message)")
    print(f"ratio:    {rate / base_rate:8.3f}  (engine / baseline)")
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
        print(out.getvalue())


if __name__ == "__main__":
    asyncio.run(main())
