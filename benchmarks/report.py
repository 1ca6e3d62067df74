"""Time to build the complaints report over many complaints, beside one SQL aggregate.

Generates a history (default 100,000 complaints, with extensions, escalations, refusals,
decisions and remedies; the generator of ``tests/core/reports/test_figures.py``) into an SQLite
database, then times, in the same run on the same file:

- **report**: :func:`core.reports.figures.build` over every complaint — every figure of
  ``complaints-bot report``, read through the repositories and computed in Python;
- **baseline**: one aggregate query over the same ``complaints`` table with plain aiosqlite
  (complaints and stage 1 responses within timescale, per month) — the least any report of
  these complaints could cost.

    .venv/bin/python -m benchmarks.report [--complaints 100000] [--repeat 3] [--profile]

Prints the best of ``--repeat`` runs of each and their ratio (report / baseline).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import tempfile
import time
from pathlib import Path

import aiosqlite

from core.db.engine import sqlite_url
from core.db.store import Store
from core.reports import figures
from tests.support.history import (
    AS_OF,
    CALENDAR,
    FIRST_DAY,
    LAST_DAY,
    generate_history,
    insert_history,
)

BASELINE_SQL = """
SELECT substr(received_on, 1, 7) AS month,
       count(*) AS complaints,
       sum(CASE WHEN stage1_responded_on IS NOT NULL
                 AND stage1_responded_on
                     <= coalesce(stage1_extended_due_on, stage1_response_due_on)
                THEN 1 ELSE 0 END) AS within
FROM complaints
WHERE received_on BETWEEN ? AND ?
GROUP BY month
"""


async def report_seconds(store: Store) -> tuple[float, figures.Report]:
    """Build the whole report once; return the seconds taken and the report."""
    started = time.perf_counter()
    async with store.unit_of_work() as uow:
        report = await figures.build(
            uow, calendar=CALENDAR, start=FIRST_DAY, end=LAST_DAY, as_of=AS_OF
        )
    return time.perf_counter() - started, report


async def baseline_seconds(path: Path) -> tuple[float, int]:
    """Run the one aggregate query; return the seconds taken and the complaints counted."""
    async with aiosqlite.connect(path) as db:
        started = time.perf_counter()
        cursor = await db.execute(BASELINE_SQL, (FIRST_DAY.isoformat(), LAST_DAY.isoformat()))
        rows = list(await cursor.fetchall())
        elapsed = time.perf_counter() - started
    return elapsed, sum(int(row[1]) for row in rows)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--complaints", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="show where the time goes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "report.sqlite3"
        store = Store.from_url(sqlite_url(path))
        await store.migrate()
        started = time.perf_counter()
        history = generate_history(args.complaints, service_requests=args.complaints // 10)
        await insert_history(store, history)
        loaded = time.perf_counter() - started
        profiler = cProfile.Profile() if args.profile else None
        report_times: list[float] = []
        for _ in range(args.repeat):
            if profiler:
                profiler.enable()
            elapsed, report = await report_seconds(store)
            if profiler:
                profiler.disable()
            report_times.append(elapsed)
        await store.close()
        base_times: list[float] = []
        counted = 0
        for _ in range(args.repeat):
            elapsed, counted = await baseline_seconds(path)
            base_times.append(elapsed)
    total = report.figure("received_by_month").value("total", "complaints")
    assert total == counted == args.complaints, (total, counted, args.complaints)
    best, base = min(report_times), min(base_times)
    print(f"complaints: {args.complaints}; generated and inserted in {loaded:.1f} s")
    print(f"report:   {best * 1000:9.1f} ms  (every figure, {len(report.figures)} tables)")
    print(f"baseline: {base * 1000:9.1f} ms  (one GROUP BY over the complaints table)")
    print(f"ratio:    {best / base:9.1f}  (report / baseline), best of {args.repeat}")
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
        print(out.getvalue())


if __name__ == "__main__":
    asyncio.run(main())
