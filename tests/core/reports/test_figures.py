"""The report's figures against answers known from how a history was generated (CHC-8.1).

The history and its known answers are in :mod:`tests.support.history`.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.clock import FrozenClock
from core.complaints.enums import (
    Outcome,
    RemedyType,
)
from core.complaints.models import Actor
from core.db.engine import sqlite_url
from core.db.store import Store
from core.reports import figures
from tests.conftest import Services
from tests.support.history import (
    AS_OF,
    CALENDAR,
    FIRST_DAY,
    LAST_DAY,
    PERIOD,
    assert_matches,
    expected,
    generate_history,
    insert_history,
)


async def _report(store: Store, start: date, end: date) -> figures.Report:
    async with store.unit_of_work() as uow:
        return await figures.build(uow, calendar=CALENDAR, start=start, end=end, as_of=AS_OF)


# ====================================================================== the tests


@pytest.mark.parametrize(
    ("values", "median", "p90"),
    [
        ([], None, None),
        ([7], 7.0, 7),
        ([1, 2], 1.5, 2),
        (list(range(1, 11)), 5.5, 9),  # nine in ten took 9 days or fewer
        (list(range(1, 12)), 6.0, 10),  # ceil(9.9) = 10th value
        ([3] * 19 + [40], 3.0, 3),  # one very late response does not move the 90th percentile
    ],
)
def test_median_and_90th_percentile(
    values: list[int], median: float | None, p90: int | None
) -> None:
    assert figures.median(values) == median
    assert figures.percentile_90(values) == p90


def test_no_responses_is_no_proportion_not_zero_percent() -> None:
    assert figures.proportion(0, 0) is None
    assert figures.proportion(2, 3) == 66.7


@pytest.fixture
async def sqlite_store(sqlite_template: Path, tmp_path: Path) -> Any:
    """A fresh SQLite store (the 10,000-complaint history runs on SQLite only, for speed)."""
    path = tmp_path / "report.sqlite3"
    shutil.copyfile(sqlite_template, path)
    store = Store.from_url(sqlite_url(path))
    yield store
    await store.close()


async def test_ten_thousand_complaints_match_their_known_answers(sqlite_store: Store) -> None:
    history = generate_history(10_000)
    await insert_history(sqlite_store, history)
    want = expected(history, *PERIOD)
    # The history really has what the report must count.
    assert want["refusals", "total", "stage 1"] > 0
    assert want["refusals", "total", "stage 2"] > 0
    assert want["timeliness", "stage 2 (with extension)", "responses"] > 0
    assert want["extensions", "stage 1", "beyond the Code's limit"] > 0
    assert (
        0
        < want["timeliness", "stage 1", "within timescale"]
        < want["timeliness", "stage 1", "responses"]
    )
    report = await _report(sqlite_store, *PERIOD)
    assert_matches(report, want)
    # Outside the period: the whole span, then one month around Christmas and New Year.
    assert_matches(
        await _report(sqlite_store, FIRST_DAY, LAST_DAY), expected(history, FIRST_DAY, LAST_DAY)
    )
    christmas = (date(2025, 12, 1), date(2025, 12, 31))
    assert_matches(await _report(sqlite_store, *christmas), expected(history, *christmas))


async def test_a_smaller_history_matches_on_both_backends(store: Store) -> None:
    history = generate_history(600, seed=11, service_requests=80)
    await insert_history(store, history)
    assert_matches(await _report(store, *PERIOD), expected(history, *PERIOD))


async def test_a_history_made_through_the_service_is_reported(
    store: Store, services: Services, clock: FrozenClock
) -> None:
    """Real service calls over the Christmas bank holidays (CHC-6.2, CHC-6.4, CHC-2.4)."""
    staff = Actor.staff("officer-1")
    complaints = services.complaints
    async with store.unit_of_work() as uow:
        resident = await services.residents.identify(uow, channel="email", address="a@example.org")
        assert resident.id is not None
        logged = [
            await complaints.log(
                uow,
                resident_id=resident.id,
                channel=ch,
                received_at=clock.now(),
                elements=["the boiler", "the wait"],
                actor=Actor.system(),
                category="repairs",
                hazards=hz,
            )
            for ch, hz in (("email", ()), ("telegram", ("gas smell",)), ("email", ()))
        ]
    first, second, third = (c.reference for c in logged)
    clock.advance(timedelta(days=6))  # Tue 29 Dec: 2 working days after Wed 23 Dec
    async with store.unit_of_work() as uow:
        await complaints.refuse(
            uow, reference=third, reason="legal proceedings started", actor=staff
        )
        for ref in (first, second):
            await complaints.acknowledge(uow, reference=ref, actor=Actor.system())
        # Acknowledged 29 Dec: due Wed 13 Jan 2027; extended by 5 working days to 20 Jan.
        await complaints.extend(
            uow,
            reference=second,
            new_due_on=date(2027, 1, 20),
            reason="waiting for a contractor's report",
            actor=staff,
        )
    clock.advance(timedelta(days=14))  # Tue 12 Jan 2027
    async with store.unit_of_work() as uow:
        for ref in (first, second):
            for position, outcome in ((1, Outcome.UPHELD), (2, Outcome.NOT_UPHELD)):
                await complaints.record_decision(
                    uow,
                    reference=ref,
                    position=position,
                    outcome=outcome,
                    reasons="because",
                    actor=staff,
                )
            await complaints.respond(uow, reference=ref, actor=staff)
        await complaints.add_remedy(
            uow,
            reference=first,
            remedy_type=RemedyType.FINANCIAL,
            description="compensation",
            actor=staff,
            amount_pence=12_345,
        )
        await complaints.request_escalation(uow, reference=first, actor=Actor.resident(resident.id))
    clock.advance(timedelta(days=1))
    async with store.unit_of_work() as uow:
        await complaints.refuse(uow, reference=first, reason="already considered", actor=staff)
    report = await _report(store, date(2026, 12, 1), date(2026, 12, 31))
    want = {
        ("received_by_month", "2026-12", "complaints"): 3,
        ("received_by_channel", "email", "complaints"): 2,
        ("stage_reached", "stage 2", "complaints"): 1,
        ("outcomes", "stage 1", "upheld"): 2,
        ("outcomes", "stage 1", "not_upheld"): 2,
        ("timeliness", "stage 1", "responses"): 1,
        ("timeliness", "stage 1", "within timescale"): 1,
        ("timeliness", "stage 1 (with extension)", "within timescale"): 1,
        # 23 Dec → 12 Jan 2027: 24, 29, 30, 31 Dec, 4–8 and 11–12 Jan (no 25, 28 Dec or 1 Jan).
        ("working_days", "stage 1", "median"): 11.0,
        ("acknowledgements", "stage 1", "within 5 working days"): 2,
        ("extensions", "stage 1", "extensions"): 1,
        ("refusals", "legal proceedings started", "stage 1"): 1,
        ("refusals", "already considered", "stage 2"): 1,
        ("remedies", "financial", "amount £"): "123.45",
        ("urgent_hazards", "gas smell", "complaints"): 1,
    }
    assert_matches(report, want)
    form = figures.self_assessment(report).figure("self_assessment")
    assert form.value("How many cases did we refuse to escalate?", "answer") == 1
    assert form.value("What was the reason for the refusal?", "answer") == "already considered"
