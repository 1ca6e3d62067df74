"""The figures of the complaints performance report (CHC-8.1) and the self-assessment.

Every figure is a small table with its definition, so the definition travels with the numbers
into every format. The population is always the same: the complaints *received* in the period
(by the day they count as received), as recorded when the report runs. A complaint received on
31 March and answered in April counts in March's report, with its answer.

The computation is pure: :func:`compute` takes the records and a calendar and returns a
:class:`Report`; :func:`load` reads the records in one unit of work.
"""

from __future__ import annotations

import functools
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Final

from pydantic import BaseModel, ConfigDict

from core.calendar import WorkingDayCalendar
from core.complaints.enums import Outcome, RemedyType, Stage, Status, TaskStatus

if TYPE_CHECKING:
    from core.db.store import UnitOfWork

CODE_ACKNOWLEDGE_DAYS: Final = 5
"""CHC-6.2 and CHC-6.11: acknowledge within 5 working days, the Code's maximum."""

UNCATEGORISED: Final = "(no category)"

Cell = str | int | float | None


# ====================================================================== input records


@dataclass(frozen=True, slots=True)
class ComplaintFacts:
    """The columns of one complaint that the figures need."""

    id: int
    received_on: date
    channel: str
    category: str | None
    stage: Stage
    status: Status
    urgent: bool
    hazards: tuple[str, ...]
    stage1_acknowledged_on: date | None
    stage1_response_due_on: date | None
    stage1_extended_due_on: date | None
    stage1_responded_on: date | None
    escalation_requested_at: datetime | None
    stage2_acknowledged_on: date | None
    stage2_response_due_on: date | None
    stage2_extended_due_on: date | None
    stage2_responded_on: date | None
    refusal_reason: str | None


@dataclass(frozen=True, slots=True)
class ExtensionFacts:
    """One extension (CHC-6.4, CHC-6.15)."""

    complaint_id: int
    stage: Stage
    reason: str
    beyond_code_limit: bool
    notified: bool


@dataclass(frozen=True, slots=True)
class DecisionFacts:
    """The latest decision on one element at one stage (CHC-6.7)."""

    complaint_id: int
    element_id: int
    stage: Stage
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class RemedyFacts:
    """One remedy (CHC-7.1) and its progress (CHC-7.3)."""

    complaint_id: int
    type: RemedyType
    amount_pence: int | None
    due_on: date | None
    status: TaskStatus
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class ReportData:
    """Everything :func:`compute` reads, for complaints received in the period."""

    complaints: Sequence[ComplaintFacts]
    extensions: Sequence[ExtensionFacts]
    decisions: Sequence[DecisionFacts]
    remedies: Sequence[RemedyFacts]
    service_requests: dict[str, int]
    """Service requests received in the period, by status (CHC-1.4)."""


# ====================================================================== output


class Figure(BaseModel):
    """One figure: a table, its definition and the rule of the Code it answers."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    definition: str
    rule: str | None = None
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]

    def value(self, key: str, column: str) -> Cell:
        """Return the cell in the row whose first cell is ``key``, under ``column``.

        Raises:
            KeyError: there is no such row or column.
        """
        index = self.columns.index(column)
        for row in self.rows:
            if row[0] == key:
                return row[index]
        raise KeyError(f"{self.id} has no row {key!r}")


class Report(BaseModel):
    """The report over one period."""

    model_config = ConfigDict(frozen=True)

    title: str
    period_start: date
    period_end: date
    as_of: date
    population: str
    figures: tuple[Figure, ...]

    def figure(self, figure_id: str) -> Figure:
        """Return the figure with ``figure_id``.

        Raises:
            KeyError: there is none.
        """
        for figure in self.figures:
            if figure.id == figure_id:
                return figure
        raise KeyError(figure_id)


POPULATION: Final = (
    "Complaints received between the start and end dates inclusive, by the day each counts "
    "as received (CHC-6.2), as recorded on the day the report was produced. Working days "
    "exclude weekends, bank holidays in England and Wales and the landlord's closure days."
)


# ====================================================================== helpers


def proportion(part: int, whole: int) -> float | None:
    """Return ``part / whole`` as a percentage to one decimal place; ``None`` for ``0 / 0``."""
    return None if whole == 0 else round(100 * part / whole, 1)


def percentile_90(values: Sequence[int]) -> int | None:
    """Return the 90th percentile by the nearest-rank method (a value that occurred)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[-(-9 * len(ordered) // 10) - 1]  # ceil(0.9 n) - 1, in exact integers


def median(values: Sequence[int]) -> float | None:
    """Return the median (the mean of the middle two for an even count)."""
    return float(statistics.median(values)) if values else None


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _months(start: date, end: date) -> list[str]:
    months: list[str] = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)  # noqa: PLR2004
    return months


def _counted(counter: Counter[str]) -> tuple[tuple[Cell, ...], ...]:
    return tuple((key, count) for key, count in sorted(counter.items(), key=lambda kv: kv[0]))


# ====================================================================== the figures


def compute(  # noqa: PLR0915 — one figure after another reads best as one function
    data: ReportData,
    *,
    calendar: WorkingDayCalendar,
    start: date,
    end: date,
    as_of: date,
    title: str = "Complaints performance report",
) -> Report:
    """Compute every figure over the complaints received from ``start`` to ``end``.

    Args:
        data: the records, already limited to the period.
        calendar: the working-day calendar the deadlines were set with.
        start: the first day of the period.
        end: the last day of the period (inclusive).
        as_of: the day the report is produced; remedies due before it and not done are overdue.
        title: the report's title.
    """
    complaints = [c for c in data.complaints if start <= c.received_on <= end]
    ids = {c.id for c in complaints}
    # The same pairs of days recur thousands of times in a year; count each pair once.
    between = functools.cache(calendar.working_days_between)
    figures: list[Figure] = []

    # -- volumes
    by_month = Counter(_month(c.received_on) for c in complaints)
    months = _months(start, end)
    figures.append(
        Figure(
            id="received_by_month",
            title="Complaints received by month",
            definition="Complaints counted in the month of the day each counts as received.",
            rule="CHC-8.1",
            columns=("month", "complaints"),
            rows=(*((m, by_month.get(m, 0)) for m in months), ("total", len(complaints))),
        )
    )
    categories = Counter(c.category or UNCATEGORISED for c in complaints)
    figures.append(
        Figure(
            id="received_by_category",
            title="Complaints received by category",
            definition="The category recorded on each complaint; one category per complaint.",
            rule="CHC-8.1",
            columns=("category", "complaints"),
            rows=_counted(categories),
        )
    )
    figures.append(
        Figure(
            id="received_by_channel",
            title="Complaints received by channel",
            definition="The channel on which each complaint was first made.",
            rule="CHC-3.1",
            columns=("channel", "complaints"),
            rows=_counted(Counter(c.channel for c in complaints)),
        )
    )
    figures.append(
        Figure(
            id="service_requests",
            title="Service requests",
            definition=(
                "Requests to put something right received in the period, by their status "
                "today. They are recorded and tracked but are not complaints."
            ),
            rule="CHC-1.4",
            columns=("status", "requests"),
            rows=(
                *_counted(Counter(data.service_requests)),
                ("total", sum(data.service_requests.values())),
            ),
        )
    )

    # -- stage reached and status
    figures.append(
        Figure(
            id="stage_reached",
            title="Stage reached",
            definition=(
                "The furthest stage each complaint reached: stage 2 once the resident asked to "
                "escalate, whether or not the escalation was accepted. There is no stage 3."
            ),
            rule="CHC-6.20",
            columns=("stage", "complaints"),
            rows=tuple(
                (f"stage {int(s)}", sum(1 for c in complaints if c.stage == s)) for s in Stage
            ),
        )
    )
    figures.append(
        Figure(
            id="status",
            title="Where the complaints are now",
            definition="The status of each complaint on the day the report was produced.",
            columns=("status", "complaints"),
            rows=tuple((s.value, sum(1 for c in complaints if c.status == s)) for s in Status),
        )
    )
    s1_answered = [c for c in complaints if c.stage1_responded_on is not None]
    s1_resolved = sum(1 for c in s1_answered if c.stage == Stage.ONE)
    escalated = [c for c in complaints if c.escalation_requested_at is not None]
    s2_answered = sum(1 for c in escalated if c.stage2_responded_on is not None)
    figures.append(
        Figure(
            id="resolved_by_stage",
            title="Complaints resolved at each stage",
            definition=(
                "Stage 1: of the complaints given a stage 1 response, those the resident did "
                "not escalate. Stage 2: of the complaints the resident asked to escalate, those "
                "given a final response (the others were refused, withdrawn or are awaited)."
            ),
            rule="CHC-8.1",
            columns=("stage", "resolved", "of", "proportion %"),
            rows=(
                (
                    "stage 1",
                    s1_resolved,
                    len(s1_answered),
                    proportion(s1_resolved, len(s1_answered)),
                ),
                ("stage 2", s2_answered, len(escalated), proportion(s2_answered, len(escalated))),
            ),
        )
    )

    # -- outcomes per element per stage
    outcomes: dict[Stage, Counter[Outcome]] = {s: Counter() for s in Stage}
    for decision in data.decisions:
        if decision.complaint_id in ids:
            outcomes[decision.stage][decision.outcome] += 1
    figures.append(
        Figure(
            id="outcomes",
            title="Outcomes per point of complaint",
            definition=(
                "Each point of the complaint definition is decided separately at each stage; "
                "the latest decision on each point at each stage is counted."
            ),
            rule="CHC-6.7",
            columns=("stage", *(o.value for o in Outcome), "points decided"),
            rows=tuple(
                (
                    f"stage {int(s)}",
                    *(outcomes[s][o] for o in Outcome),
                    sum(outcomes[s].values()),
                )
                for s in Stage
            ),
        )
    )

    # -- timeliness, as the self-assessment asks
    timeliness: list[tuple[Cell, ...]] = []
    for label, stage_complaints, extended in (
        ("stage 1", s1_answered, False),
        ("stage 1 (with extension)", s1_answered, True),
        ("stage 2", [c for c in complaints if c.stage2_responded_on is not None], False),
        ("stage 2 (with extension)", [c for c in complaints if c.stage2_responded_on], True),
    ):
        two = label.startswith("stage 2")
        answered = within = 0
        for c in stage_complaints:
            ext = c.stage2_extended_due_on if two else c.stage1_extended_due_on
            if (ext is not None) != extended:
                continue
            due = (
                ext if extended else (c.stage2_response_due_on if two else c.stage1_response_due_on)
            )
            responded = c.stage2_responded_on if two else c.stage1_responded_on
            answered += 1
            if due is not None and responded is not None and responded <= due:
                within += 1
        timeliness.append((label, answered, within, proportion(within, answered)))
    figures.append(
        Figure(
            id="timeliness",
            title="Responses sent within the Code's timescales",
            definition=(
                "Responses sent, split by whether the stage's response date was extended. "
                "Within timescale: sent on or before the due date in force — 10 working days "
                "after the acknowledgement at stage 1 (CHC-6.3), 20 at stage 2 (CHC-6.14), or "
                "the extended date (at most 10 or 20 further working days unless a person "
                "recorded a good reason, CHC-6.4, CHC-6.15)."
            ),
            rule="CHC-8.1",
            columns=("stage", "responses", "within timescale", "proportion %"),
            rows=tuple(timeliness),
        )
    )

    # -- working days taken
    s1_days = [
        between(c.received_on, c.stage1_responded_on)
        for c in s1_answered
        if c.stage1_responded_on is not None
    ]
    s2_days = [
        between(calendar.received_on(c.escalation_requested_at), c.stage2_responded_on)
        for c in escalated
        if c.escalation_requested_at is not None and c.stage2_responded_on is not None
    ]
    figures.append(
        Figure(
            id="working_days",
            title="Working days taken to respond",
            definition=(
                "Stage 1: working days from the day the complaint counts as received to the "
                "stage 1 response. Stage 2: from the day the escalation was requested to the "
                "final response. The 90th percentile is a value that occurred (nearest rank): "
                "nine in ten responses took no longer."
            ),
            rule="CHC-9.x",
            columns=("stage", "responses", "median", "90th percentile"),
            rows=(
                ("stage 1", len(s1_days), median(s1_days), percentile_90(s1_days)),
                ("stage 2", len(s2_days), median(s2_days), percentile_90(s2_days)),
            ),
        )
    )

    # -- acknowledgements
    s1_ack = [
        between(c.received_on, c.stage1_acknowledged_on)
        for c in complaints
        if c.stage1_acknowledged_on is not None
    ]
    s2_ack = [
        between(calendar.received_on(c.escalation_requested_at), c.stage2_acknowledged_on)
        for c in complaints
        if c.escalation_requested_at is not None and c.stage2_acknowledged_on is not None
    ]
    ack_rows: list[tuple[Cell, ...]] = []
    for label, days in (("stage 1", s1_ack), ("stage 2", s2_ack)):
        within = sum(1 for d in days if d <= CODE_ACKNOWLEDGE_DAYS)
        ack_rows.append((label, len(days), within, proportion(within, len(days))))
    figures.append(
        Figure(
            id="acknowledgements",
            title="Acknowledgements within 5 working days",
            definition=(
                "Complaints acknowledged, defined and logged, and escalations acknowledged, "
                "within 5 working days of the day of receipt or of the escalation request "
                "(CHC-6.2, CHC-6.11)."
            ),
            rule="CHC-6.2",
            columns=("stage", "acknowledged", "within 5 working days", "proportion %"),
            rows=tuple(ack_rows),
        )
    )

    # -- extensions
    extensions = [e for e in data.extensions if e.complaint_id in ids]
    figures.append(
        Figure(
            id="extensions",
            title="Extensions",
            definition=(
                "Extensions of a response date. A complaint may be extended more than once. "
                "Beyond the Code's limit: a person recorded a good reason to go past 10 (stage "
                "1) or 20 (stage 2) working days. Resident told: the extension letter with the "
                "Ombudsman's contact details was sent (CHC-6.5, CHC-6.16)."
            ),
            rule="CHC-6.4",
            columns=(
                "stage",
                "extensions",
                "complaints",
                "beyond the Code's limit",
                "resident told",
            ),
            rows=tuple(
                (
                    f"stage {int(s)}",
                    sum(1 for e in extensions if e.stage == s),
                    len({e.complaint_id for e in extensions if e.stage == s}),
                    sum(1 for e in extensions if e.stage == s and e.beyond_code_limit),
                    sum(1 for e in extensions if e.stage == s and e.notified),
                )
                for s in Stage
            ),
        )
    )
    figures.append(
        Figure(
            id="extension_reasons",
            title="Reasons for extensions",
            definition="Each extension's recorded reason, as written.",
            rule="CHC-6.4",
            columns=("reason", "stage 1", "stage 2"),
            rows=_by_reason((e.reason, e.stage) for e in extensions),
        )
    )

    # -- refusals
    refused = [c for c in complaints if c.status == Status.REFUSED]
    figures.append(
        Figure(
            id="refusals",
            title="Complaints and escalations refused, with reasons",
            definition=(
                "Stage 1: complaints not accepted into the procedure (CHC-2.1, CHC-2.4). "
                "Stage 2: escalations refused (CHC-6.10). Each refusal's reason, as written; "
                "the resident was told it and their right to go to the Ombudsman."
            ),
            rule="CHC-2.4",
            columns=("reason", "stage 1", "stage 2"),
            rows=(
                *_by_reason(((c.refusal_reason or "(no reason)"), c.stage) for c in refused),
                (
                    "total",
                    sum(1 for c in refused if c.stage == Stage.ONE),
                    sum(1 for c in refused if c.stage == Stage.TWO),
                ),
            ),
        )
    )

    # -- remedies
    remedies = [r for r in data.remedies if r.complaint_id in ids]
    zone = calendar.timezone
    remedy_rows: list[tuple[Cell, ...]] = []
    for kind in (*RemedyType, None):
        chosen = [r for r in remedies if kind is None or r.type == kind]
        done = [r for r in chosen if r.status == TaskStatus.DONE]
        on_time = sum(
            1
            for r in done
            if r.due_on is not None
            and r.completed_at is not None
            and r.completed_at.astimezone(zone).date() <= r.due_on
        )
        overdue = sum(
            1
            for r in chosen
            if r.status == TaskStatus.PENDING and r.due_on is not None and r.due_on < as_of
        )
        pence = sum(r.amount_pence or 0 for r in chosen)
        remedy_rows.append(
            (
                "total" if kind is None else kind.value,
                len(chosen),
                len(done),
                on_time,
                overdue,
                f"{pence // 100}.{pence % 100:02d}",
            )
        )
    figures.append(
        Figure(
            id="remedies",
            title="Remedies",
            definition=(
                "Remedies offered, by type (CHC-7.1). Completed on time: done on or before its "
                "due date (remedies with no due date are never counted as on time). Overdue: "
                "not done and due before the day the report was produced (CHC-7.3). Amount: "
                "financial remedies offered, in pounds."
            ),
            rule="CHC-7.1",
            columns=("type", "offered", "completed", "completed on time", "overdue", "amount £"),
            rows=tuple(remedy_rows),
        )
    )

    # -- urgent hazards
    hazards = Counter(h for c in complaints if c.urgent for h in set(c.hazards))
    figures.append(
        Figure(
            id="urgent_hazards",
            title="Complaints reporting urgent hazards",
            definition=(
                "Complaints that reported a possible emergency or significant hazard and were "
                "handed to staff at once, by hazard; a complaint may report several."
            ),
            rule="CHC-6.1",
            columns=("hazard", "complaints"),
            rows=(*_counted(hazards), ("total", sum(1 for c in complaints if c.urgent))),
        )
    )

    # -- categories over time (themes for learning)
    names = sorted({c.category or UNCATEGORISED for c in complaints})
    grid: dict[str, Counter[str]] = defaultdict(Counter)
    for c in complaints:
        grid[_month(c.received_on)][c.category or UNCATEGORISED] += 1
    figures.append(
        Figure(
            id="categories_over_time",
            title="Categories over time",
            definition="Complaints received per month in each category: themes for learning.",
            rule="CHC-8.1",
            columns=("month", *names),
            rows=tuple((m, *(grid[m][n] for n in names)) for m in months),
        )
    )
    return Report(
        title=title,
        period_start=start,
        period_end=end,
        as_of=as_of,
        population=POPULATION,
        figures=tuple(figures),
    )


def _by_reason(pairs: Iterable[tuple[str, Stage]]) -> tuple[tuple[Cell, ...], ...]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for reason, stage in pairs:
        counts[reason][int(stage) - 1] += 1
    return tuple((reason, *counts[reason]) for reason in sorted(counts))


# ====================================================================== self-assessment


def financial_year(year: int) -> tuple[date, date]:
    """Return the first and last days of the financial year that starts in April ``year``."""
    return date(year, 4, 1), date(year + 1, 3, 31)


def self_assessment(report: Report) -> Report:
    """Pre-fill the measurable answers of the self-assessment form (CHC-8.1).

    Answers the questions of sections 3, 4 and 6 of the form that the record can answer. The
    others (policy, culture, learning) need a person, and satisfaction is not measured yet.
    """
    resolved = report.figure("resolved_by_stage")
    timeliness = report.figure("timeliness")
    acks = report.figure("acknowledgements")
    exts = report.figure("extensions")
    refusals = report.figure("refusals")

    def share(figure: Figure, key: str, part: str, whole: str) -> str:
        p, w = figure.value(key, part), figure.value(key, whole)
        pct = figure.value(key, "proportion %")
        return "none in the period" if pct is None else f"{p} out of {w} ({pct}%)"

    s1, s2 = resolved.value("stage 1", "resolved"), resolved.value("stage 2", "resolved")
    most = "stage 1" if isinstance(s1, int) and isinstance(s2, int) and s1 >= s2 else "stage 2"
    ack_all = acks.value("stage 1", "proportion %") in {None, 100.0}
    extended = sum(int(exts.value(f"stage {s}", "extensions") or 0) for s in (1, 2))
    told = sum(int(exts.value(f"stage {s}", "resident told") or 0) for s in (1, 2))
    beyond = sum(int(exts.value(f"stage {s}", "beyond the Code's limit") or 0) for s in (1, 2))
    refused_escalations = refusals.value("total", "stage 2")
    reasons = [str(row[0]) for row in refusals.rows if row[0] != "total" and row[2]]
    rows: tuple[tuple[Cell, ...], ...] = (
        ("3", "At what stage are most complaints resolved?", most),
        (
            "4",
            "Are all complaints acknowledged and logged within five days?",
            ("Yes: " if ack_all else "No: ")
            + share(acks, "stage 1", "within 5 working days", "acknowledged"),
        ),
        (
            "4",
            "What proportion of complaints are resolved at stage one?",
            share(resolved, "stage 1", "resolved", "of"),
        ),
        (
            "4",
            "What proportion of complaints are resolved at stage two?",
            share(resolved, "stage 2", "resolved", "of"),
        ),
        *(
            (
                "4",
                f"What proportion of complaint responses are sent within Code timescales? "
                f"{label.capitalize()}",
                share(timeliness, label, "within timescale", "responses"),
            )
            for label in (
                "stage 1",
                "stage 1 (with extension)",
                "stage 2",
                "stage 2 (with extension)",
            )
        ),
        (
            "4",
            "Where timescales have been extended did we have good reason?",
            f"Every one of the {extended} extensions records its reason (CHC-6.4); "
            f"{beyond} went past the Code's limit, each with a good reason recorded by a person",
        ),
        (
            "4",
            "Where timescales have been extended did we keep the resident informed?",
            f"{told} of {extended} extensions were explained to the resident in writing",
        ),
        (
            "4",
            "What proportion of complaints do we resolve to residents' satisfaction?",
            "Not measured by the bot yet.",
        ),
        ("6", "How many cases did we refuse to escalate?", refused_escalations),
        ("6", "What was the reason for the refusal?", "; ".join(reasons) or "n/a"),
    )
    form = Figure(
        id="self_assessment",
        title="Self-assessment: the measurable answers",
        definition=(
            "Answers taken from the figures of this report, for the financial year from "
            f"{report.period_start.isoformat()} to {report.period_end.isoformat()}. The other "
            "questions of the form need a person's answer."
        ),
        rule="CHC-8.1",
        columns=("question", "answer", "form section"),
        rows=tuple((question, answer, section) for section, question, answer in rows),
    )
    keep = ("resolved_by_stage", "timeliness", "acknowledgements", "extensions", "refusals")
    return report.model_copy(
        update={
            "title": "Complaint Handling Code self-assessment",
            "figures": (form, *(report.figure(k) for k in keep)),
        }
    )


# ====================================================================== reading


async def load(
    uow: UnitOfWork, *, start: date, end: date, calendar: WorkingDayCalendar
) -> ReportData:
    """Read the records of the complaints received from ``start`` to ``end`` in one transaction."""
    reports = uow.reports
    return ReportData(
        complaints=await reports.complaints_received(start, end),
        extensions=await reports.extensions(start, end),
        decisions=await reports.decisions(start, end),
        remedies=await reports.remedies(start, end),
        service_requests=await reports.service_requests(start, end, calendar.timezone),
    )


async def build(
    uow: UnitOfWork,
    *,
    calendar: WorkingDayCalendar,
    start: date,
    end: date,
    as_of: date,
) -> Report:
    """Read the period's records and compute the report."""
    data = await load(uow, start=start, end=end, calendar=calendar)
    return compute(data, calendar=calendar, start=start, end=end, as_of=as_of)
