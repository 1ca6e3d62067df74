"""A generated complaints history with known answers, for the report's tests and benchmark.

:func:`generate_history` writes complaints with chosen working-day gaps (acknowledgement,
response, escalation), extensions, refusals, decisions and remedies, and remembers each choice
in a :class:`Truth`. :func:`expected` counts the figures from those choices, never from the
stored rows, so the report's SQL and arithmetic are checked independently. Dates run from March
2025 to April 2026: Easter, the May bank holidays, Christmas and New Year are all inside.
"""

from __future__ import annotations

import random
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert

from core.calendar import WorkingDayCalendar
from core.clock import LONDON
from core.complaints.enums import (
    Outcome,
    RemedyType,
    ServiceRequestStatus,
    Stage,
    Status,
    TaskStatus,
)
from core.db.store import Store
from core.db.tables import (
    ComplaintRow,
    DecisionRow,
    ElementRow,
    ExtensionRow,
    RemedyRow,
    ResidentRow,
    ServiceRequestRow,
)
from core.deadlines import DeadlineRules, Timescales
from core.reports import figures

CALENDAR = WorkingDayCalendar()
RULES = DeadlineRules(CALENDAR, Timescales())
FIRST_DAY = date(2025, 3, 1)
LAST_DAY = date(2026, 4, 30)
PERIOD = (date(2025, 4, 1), date(2026, 3, 31))  # the financial year 2025/26
AS_OF = date(2026, 12, 23)
CHANNELS = ("telegram", "email")
CATEGORIES = ("repairs", "damp and mould", "anti-social behaviour", "staff conduct", None)
HAZARDS = ("gas smell", "damp and mould", "exposed wiring")
EXTENSION_REASONS = ("waiting for a contractor's report", "complex case, several teams")
REFUSAL_REASONS = ("legal proceedings started", "more than 12 months ago")
ESCALATION_REFUSALS = ("already considered under the policy",)


@dataclass
class Truth:
    """What was chosen for one complaint."""

    received_on: date
    channel: str
    category: str | None
    stage: Stage = Stage.ONE
    status: Status = Status.RECEIVED
    hazards: tuple[str, ...] = ()
    s1_ack_days: int | None = None
    s1_days: int | None = None
    s1_extended: bool = False
    s1_within: bool = False
    escalated: bool = False
    s2_ack_days: int | None = None
    s2_days: int | None = None
    s2_extended: bool = False
    s2_within: bool = False
    refusal: str | None = None
    extensions: list[tuple[int, str, bool, bool]] = field(default_factory=list)
    """(stage, reason, beyond the Code's limit, resident told) per extension."""
    outcomes: list[tuple[int, Outcome]] = field(default_factory=list)
    remedies: list[tuple[RemedyType, int, str]] = field(default_factory=list)
    """(type, pence, "on time" | "late" | "pending" | "overdue")."""


@dataclass
class History:
    """Rows to insert, by table, and the truths they came from."""

    rows: dict[type[Any], list[dict[str, Any]]] = field(default_factory=dict)
    truths: list[Truth] = field(default_factory=list)
    service_requests: list[tuple[date, str]] = field(default_factory=list)

    def add(self, table: type[Any], **values: Any) -> int:
        """Queue a row with the next id of its table; return the id."""
        return self.add_row(table, values)

    def add_row(self, table: type[Any], values: dict[str, Any]) -> int:
        """Queue ``values`` itself (later changes to it are inserted too); return its id."""
        rows = self.rows.setdefault(table, [])
        values["id"] = len(rows) + 1
        rows.append(values)
        return int(values["id"])


def _at(day: date) -> datetime:
    return datetime.combine(day, time(10, 0), LONDON)


def generate_history(count: int, *, seed: int = 7, service_requests: int = 300) -> History:
    """Return ``count`` complaints (and service requests) with their known truths."""
    rnd = random.Random(seed)
    history = History()
    resident = history.add(
        ResidentRow,
        name=None,
        preferences={},
        adjustments=[],
        vulnerabilities=[],
        created_at=_at(FIRST_DAY),
    )
    span = (LAST_DAY - FIRST_DAY).days
    for i in range(count):
        truth = Truth(
            received_on=FIRST_DAY + timedelta(days=rnd.randrange(span + 1)),
            channel=rnd.choice(CHANNELS),
            category=rnd.choice(CATEGORIES),
        )
        if rnd.random() < 0.05:  # noqa: PLR2004
            truth.hazards = tuple(rnd.sample(HAZARDS, rnd.randint(1, 2)))
        cols: dict[str, Any] = {
            "reference": f"T-{i:09d}",
            "resident_id": resident,
            "representative": None,
            "channel": truth.channel,
            "received_at": _at(truth.received_on),
            "received_on": truth.received_on,
            "category": truth.category,
            "location": None,
            "since": None,
            "aware_on": None,
            "outcomes_sought": [],
            "adjustments": [],
            "vulnerabilities": [],
            "urgent": bool(truth.hazards),
            "hazards": list(truth.hazards),
            "exclusions_flagged": [],
            "stage1_acknowledge_due_on": RULES.acknowledge_by(truth.received_on),
            "escalation_reason": None,
            "refusal_reason": None,
            "closed_at": None,
            "next_due_on": None,
            "next_update_due_on": None,
            "version": 0,
        }
        for name in (
            "handler",
            "acknowledged_on",
            "response_due_on",
            "extended_due_on",
            "responded_on",
            "acknowledge_due_on",
        ):
            for stage in (1, 2):
                cols.setdefault(f"stage{stage}_{name}", None)
        cols["escalation_requested_at"] = None
        complaint_id = history.add_row(ComplaintRow, cols)
        elements = [
            history.add(
                ElementRow,
                complaint_id=complaint_id,
                position=p,
                text=f"point {p}",
                stage_added=1,
                added_at=_at(truth.received_on),
            )
            for p in range(1, rnd.randint(1, 3) + 1)
        ]
        _stage_one(rnd, history, truth, cols, complaint_id, elements)
        cols["stage"] = int(truth.stage)
        cols["status"] = truth.status.value
        history.truths.append(truth)
    for _ in range(service_requests):
        day = FIRST_DAY + timedelta(days=rnd.randrange(span + 1))
        status = rnd.choice(list(ServiceRequestStatus)).value
        # 23:30 local is still that day in London, though the next day in UTC in summer.
        moment = datetime.combine(day, time(23, 30), LONDON)
        history.add(
            ServiceRequestRow,
            reference=f"S-{len(history.service_requests):09d}",
            resident_id=resident,
            channel="email",
            received_at=moment,
            description="boiler",
            location=None,
            status=status,
            closed_at=None,
            version=0,
        )
        history.service_requests.append((day, status))
    return history


def _stage_one(  # noqa: PLR0917
    rnd: random.Random,
    history: History,
    truth: Truth,
    cols: dict[str, Any],
    complaint_id: int,
    elements: list[int],
) -> None:
    roll = rnd.random()
    if roll < 0.04:  # noqa: PLR2004 — refused before acknowledgement
        _refuse(rnd, truth, cols, REFUSAL_REASONS)
        return
    if roll < 0.08:  # noqa: PLR2004 — not acknowledged yet
        return
    truth.s1_ack_days = rnd.randint(0, 7)
    acknowledged = CALENDAR.add_working_days(truth.received_on, truth.s1_ack_days)
    due = RULES.stage1_response_by(acknowledged)
    cols.update(stage1_acknowledged_on=acknowledged, stage1_response_due_on=due)
    truth.status = Status.ACKNOWLEDGED
    roll = rnd.random()
    if roll < 0.03:  # noqa: PLR2004 — refused after acknowledgement
        _refuse(rnd, truth, cols, REFUSAL_REASONS)
        return
    limit = 10
    if rnd.random() < 0.2:  # noqa: PLR2004
        limit = _extend(rnd, history, truth, cols, complaint_id, Stage.ONE, acknowledged, 10)
    if roll < 0.12:  # noqa: PLR2004 — awaiting the response
        return
    answer_days = rnd.randint(3, limit + 4)
    responded = CALENDAR.add_working_days(acknowledged, answer_days)
    cols["stage1_responded_on"] = responded
    truth.s1_days = truth.s1_ack_days + answer_days
    truth.s1_within = answer_days <= limit
    truth.status = Status.RESPONDED if rnd.random() < 0.3 else Status.CLOSED  # noqa: PLR2004
    _decide(rnd, history, truth, complaint_id, elements, Stage.ONE, responded)
    _remedy(rnd, history, truth, complaint_id, Stage.ONE, responded)
    if rnd.random() < 0.25:  # noqa: PLR2004
        _stage_two(rnd, history, truth, cols, complaint_id, elements, responded)


def _stage_two(  # noqa: PLR0913, PLR0917
    rnd: random.Random,
    history: History,
    truth: Truth,
    cols: dict[str, Any],
    complaint_id: int,
    elements: list[int],
    responded: date,
) -> None:
    requested = CALENDAR.add_working_days(responded, rnd.randint(1, 8))
    truth.escalated, truth.stage, truth.status = True, Stage.TWO, Status.ESCALATION_REQUESTED
    cols.update(
        escalation_requested_at=_at(requested),
        stage2_acknowledge_due_on=RULES.stage2_acknowledge_by(requested),
    )
    roll = rnd.random()
    if roll < 0.1:  # noqa: PLR2004
        _refuse(rnd, truth, cols, ESCALATION_REFUSALS)
        return
    if roll < 0.15:  # noqa: PLR2004 — not acknowledged yet
        return
    truth.s2_ack_days = rnd.randint(0, 7)
    acknowledged = CALENDAR.add_working_days(requested, truth.s2_ack_days)
    cols.update(
        stage2_acknowledged_on=acknowledged,
        stage2_response_due_on=RULES.stage2_response_by(acknowledged),
    )
    truth.status = Status.ESCALATION_ACKNOWLEDGED
    limit = 20
    if rnd.random() < 0.25:  # noqa: PLR2004
        limit = _extend(rnd, history, truth, cols, complaint_id, Stage.TWO, acknowledged, 20)
    if roll < 0.25:  # noqa: PLR2004 — awaiting the final response
        return
    answer_days = rnd.randint(8, limit + 6)
    final = CALENDAR.add_working_days(acknowledged, answer_days)
    cols["stage2_responded_on"] = final
    truth.s2_days = truth.s2_ack_days + answer_days
    truth.s2_within = answer_days <= limit
    truth.status = Status.FINAL_RESPONSE_SENT if rnd.random() < 0.5 else Status.CLOSED  # noqa: PLR2004
    _decide(rnd, history, truth, complaint_id, elements, Stage.TWO, final)
    _remedy(rnd, history, truth, complaint_id, Stage.TWO, final)


def _refuse(
    rnd: random.Random, truth: Truth, cols: dict[str, Any], reasons: tuple[str, ...]
) -> None:
    truth.status = Status.REFUSED
    truth.refusal = rnd.choice(reasons)
    cols["refusal_reason"] = truth.refusal


def _extend(  # noqa: PLR0913, PLR0917
    rnd: random.Random,
    history: History,
    truth: Truth,
    cols: dict[str, Any],
    complaint_id: int,
    stage: Stage,
    acknowledged: date,
    code_days: int,
) -> int:
    """Extend once or twice; return the working days from acknowledgement to the new date."""
    base = code_days  # the original response date is code_days after the acknowledgement
    total = rnd.randint(1, code_days + 3)  # past the Code's limit needs a good reason
    steps = [rnd.randint(1, total - 1), total] if total > 1 and rnd.random() < 0.2 else [total]  # noqa: PLR2004
    previous = CALENDAR.add_working_days(acknowledged, base)
    for step in steps:
        new = CALENDAR.add_working_days(acknowledged, base + step)
        reason = rnd.choice(EXTENSION_REASONS)
        told = rnd.random() < 0.9  # noqa: PLR2004
        beyond = step > code_days
        history.add(
            ExtensionRow,
            complaint_id=complaint_id,
            stage=int(stage),
            reason=reason,
            beyond_code_limit=beyond,
            previous_due_on=previous,
            new_due_on=new,
            requested_by="officer",
            created_at=_at(acknowledged),
            notified_at=_at(acknowledged) if told else None,
        )
        truth.extensions.append((int(stage), reason, beyond, told))
        previous = new
    cols[f"stage{int(stage)}_extended_due_on"] = previous
    if stage == Stage.ONE:
        truth.s1_extended = True
    else:
        truth.s2_extended = True
    return base + total


def _decide(  # noqa: PLR0913, PLR0917
    rnd: random.Random,
    history: History,
    truth: Truth,
    complaint_id: int,
    elements: list[int],
    stage: Stage,
    day: date,
) -> None:
    for element in elements:
        if rnd.random() < 0.1:  # noqa: PLR2004 — a decision later replaced: only the last counts
            history.add(
                DecisionRow,
                complaint_id=complaint_id,
                element_id=element,
                stage=int(stage),
                outcome=Outcome.UPHELD.value,
                reasons="first view",
                decided_by="officer",
                decided_at=_at(day),
            )
        outcome = rnd.choice(list(Outcome))
        history.add(
            DecisionRow,
            complaint_id=complaint_id,
            element_id=element,
            stage=int(stage),
            outcome=outcome.value,
            reasons="because",
            decided_by="officer",
            decided_at=_at(day),
        )
        truth.outcomes.append((int(stage), outcome))


def _remedy(  # noqa: PLR0913, PLR0917
    rnd: random.Random,
    history: History,
    truth: Truth,
    complaint_id: int,
    stage: Stage,
    day: date,
) -> None:
    if rnd.random() >= 0.3:  # noqa: PLR2004
        return
    kind = rnd.choice(list(RemedyType))
    pence = rnd.randint(1, 50_000) if kind == RemedyType.FINANCIAL else 0
    progress = rnd.choice(("on time", "late", "pending", "overdue"))
    due = day + timedelta(days=14) if progress != "pending" else date(2030, 1, 1)
    completed = {
        "on time": datetime.combine(due, time(23, 30), LONDON),  # late evening, still on time
        "late": datetime.combine(due + timedelta(days=1), time(0, 30), LONDON),
    }.get(progress)
    history.add(
        RemedyRow,
        complaint_id=complaint_id,
        stage=int(stage),
        type=kind.value,
        description="put right",
        due_on=due,
        amount_pence=pence or None,
        status=TaskStatus.DONE.value if completed else TaskStatus.PENDING.value,
        created_at=_at(day),
        completed_at=completed,
    )
    truth.remedies.append((kind, pence, progress))


async def insert_history(store: Store, history: History) -> None:
    """Bulk-insert the history's rows, parents first, in one transaction."""
    order = (
        ResidentRow,
        ComplaintRow,
        ElementRow,
        DecisionRow,
        ExtensionRow,
        RemedyRow,
        ServiceRequestRow,
    )
    async with store.unit_of_work() as uow:
        for table in order:
            rows = history.rows.get(table, [])
            for chunk in range(0, len(rows), 5000):
                await uow.session.execute(insert(table), rows[chunk : chunk + 5000])


# ====================================================================== the expected figures


def _p90(values: list[int]) -> int | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[-(-len(ordered) * 9 // 10) - 1]


def expected(  # noqa: PLR0912, PLR0915 — one figure after another
    history: History, start: date, end: date
) -> dict[tuple[str, str, str], Any]:
    """Count the figures from the truths: (figure, row, column) → value."""
    ts = [t for t in history.truths if start <= t.received_on <= end]
    want: dict[tuple[str, str, str], Any] = {}
    want["received_by_month", "total", "complaints"] = len(ts)
    for month, n in Counter(f"{t.received_on:%Y-%m}" for t in ts).items():
        want["received_by_month", month, "complaints"] = n
    for cat, n in Counter(t.category or figures.UNCATEGORISED for t in ts).items():
        want["received_by_category", cat, "complaints"] = n
    for ch, n in Counter(t.channel for t in ts).items():
        want["received_by_channel", ch, "complaints"] = n
    requests = Counter(s for d, s in history.service_requests if start <= d <= end)
    want["service_requests", "total", "requests"] = sum(requests.values())
    for status, n in requests.items():
        want["service_requests", status, "requests"] = n
    for stage in (1, 2):
        want["stage_reached", f"stage {stage}", "complaints"] = sum(
            1 for t in ts if int(t.stage) == stage
        )
    for status in Status:
        want["status", status.value, "complaints"] = sum(1 for t in ts if t.status == status)
    answered1 = [t for t in ts if t.s1_days is not None]
    want["resolved_by_stage", "stage 1", "resolved"] = sum(1 for t in answered1 if not t.escalated)
    want["resolved_by_stage", "stage 1", "of"] = len(answered1)
    want["resolved_by_stage", "stage 2", "resolved"] = sum(1 for t in ts if t.s2_days is not None)
    want["resolved_by_stage", "stage 2", "of"] = sum(1 for t in ts if t.escalated)
    for stage in (1, 2):
        got = Counter(o for t in ts for s, o in t.outcomes if s == stage)
        for outcome in Outcome:
            want["outcomes", f"stage {stage}", outcome.value] = got[outcome]
        want["outcomes", f"stage {stage}", "points decided"] = sum(got.values())
    for label, days, ext, within in (
        ("stage 1", "s1_days", "s1_extended", "s1_within"),
        ("stage 2", "s2_days", "s2_extended", "s2_within"),
    ):
        for extended, suffix in ((False, ""), (True, " (with extension)")):
            chosen = [t for t in ts if getattr(t, days) is not None and getattr(t, ext) == extended]
            want["timeliness", label + suffix, "responses"] = len(chosen)
            want["timeliness", label + suffix, "within timescale"] = sum(
                1 for t in chosen if getattr(t, within)
            )
        taken = [getattr(t, days) for t in ts if getattr(t, days) is not None]
        want["working_days", label, "responses"] = len(taken)
        want["working_days", label, "median"] = statistics.median(taken) if taken else None
        want["working_days", label, "90th percentile"] = _p90(taken)
    for label, attr in (("stage 1", "s1_ack_days"), ("stage 2", "s2_ack_days")):
        acks = [getattr(t, attr) for t in ts if getattr(t, attr) is not None]
        want["acknowledgements", label, "acknowledged"] = len(acks)
        want["acknowledgements", label, "within 5 working days"] = sum(1 for d in acks if d <= 5)
    for stage in (1, 2):
        exts = [(t, e) for t in ts for e in t.extensions if e[0] == stage]
        row = f"stage {stage}"
        want["extensions", row, "extensions"] = len(exts)
        want["extensions", row, "complaints"] = len({id(t) for t, _ in exts})
        want["extensions", row, "beyond the Code's limit"] = sum(1 for _, e in exts if e[2])
        want["extensions", row, "resident told"] = sum(1 for _, e in exts if e[3])
        for reason, n in Counter(e[1] for _, e in exts).items():
            want["extension_reasons", reason, row] = n
        refused = [t for t in ts if t.refusal is not None and int(t.stage) == stage]
        want["refusals", "total", row] = len(refused)
        for refusal, n in Counter(t.refusal for t in refused).items():
            want["refusals", str(refusal), row] = n
    remedies = [r for t in ts for r in t.remedies]
    for kind in (*RemedyType, None):
        offered = [r for r in remedies if kind is None or r[0] == kind]
        key = "total" if kind is None else kind.value
        want["remedies", key, "offered"] = len(offered)
        want["remedies", key, "completed"] = sum(1 for r in offered if r[2] in {"on time", "late"})
        want["remedies", key, "completed on time"] = sum(1 for r in offered if r[2] == "on time")
        want["remedies", key, "overdue"] = sum(1 for r in offered if r[2] == "overdue")
        pence = sum(r[1] for r in offered)
        want["remedies", key, "amount £"] = f"{pence // 100}.{pence % 100:02d}"
    want["urgent_hazards", "total", "complaints"] = sum(1 for t in ts if t.hazards)
    for hazard, n in Counter(h for t in ts for h in t.hazards).items():
        want["urgent_hazards", hazard, "complaints"] = n
    for (month, cat), n in Counter(
        (f"{t.received_on:%Y-%m}", t.category or figures.UNCATEGORISED) for t in ts
    ).items():
        want["categories_over_time", month, cat] = n
    return want


def assert_matches(report: figures.Report, want: dict[tuple[str, str, str], Any]) -> None:
    """Every expected figure is in the report with the expected value."""
    wrong = {
        key: (report.figure(key[0]).value(key[1], key[2]), value)
        for key, value in want.items()
        if report.figure(key[0]).value(key[1], key[2]) != value
    }
    assert not wrong, f"(got, want) differ: {wrong}"
