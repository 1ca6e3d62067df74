"""``complaints-bot report …``: the complaints performance report and the self-assessment.

::

    complaints-bot report --from 2026-04-01 --to 2027-03-31 --format html --out report.html
    complaints-bot report self-assessment --year 2026

The report covers the complaints received in the period (CHC-8.1, CHC-9.x); the self-assessment
pre-fills the form's measurable answers for the financial year starting in April of ``--year``.
Exit status: 0 written, 1 failed (the database), 2 bad usage (dates the wrong way round).
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.report_render import FORMATS, render
from bot.staff_cli import UsageError, iso_date
from core.errors import StorageError
from core.reports import figures

if TYPE_CHECKING:
    from bot.app import Application
    from core.settings import Settings

EXIT_OK = 0


def add_to(commands: Any) -> None:
    """Add ``report`` to the ``complaints-bot`` sub-commands."""
    report = commands.add_parser(
        "report",
        help="the complaints performance report, or the self-assessment's figures",
        description=(
            "Figures on the complaints received between two dates, each with its definition: "
            "volumes, stages, outcomes, timeliness, extensions, refusals, remedies and hazards "
            "(CHC-8.1). Use 'report self-assessment --year YYYY' for the self-assessment form."
        ),
    )
    report.add_argument("--from", dest="start", type=iso_date, metavar="DATE", help="first day")
    report.add_argument("--to", dest="end", type=iso_date, metavar="DATE", help="last day")
    _output_options(report, argparse.Namespace())
    sub = report.add_subparsers(dest="report_command", metavar="KIND")
    assessment = sub.add_parser(
        "self-assessment",
        help="pre-fill the measurable answers of the self-assessment form",
        description=(
            "Answer the self-assessment form's measurable questions for the financial year "
            "from 1 April YYYY to 31 March of the next year."
        ),
    )
    assessment.add_argument("--year", type=int, required=True, metavar="YYYY")
    # SUPPRESS keeps the sub-command from resetting options given before it.
    _output_options(assessment, argparse.SUPPRESS)


def _output_options(parser: argparse.ArgumentParser, default: Any) -> None:
    suppress = default is argparse.SUPPRESS
    parser.add_argument(
        "--format",
        dest="fmt",
        choices=FORMATS,
        default=argparse.SUPPRESS if suppress else "md",
        help="md (default), html (one self-contained page), csv or json",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        default=argparse.SUPPRESS if suppress else None,
        help="write to FILE instead of the standard output",
    )


def period(args: argparse.Namespace) -> tuple[date, date]:
    """Return the report's first and last days from the arguments.

    Raises:
        UsageError: dates missing or the wrong way round.
    """
    if args.report_command == "self-assessment":
        return figures.financial_year(args.year)
    if args.start is None or args.end is None:
        raise UsageError("report: give --from DATE and --to DATE (or use 'self-assessment')")
    if args.start > args.end:
        raise UsageError(
            f"report: --from {args.start.isoformat()} is after --to {args.end.isoformat()}"
        )
    return args.start, args.end


async def run(
    settings: Settings,
    args: argparse.Namespace,
    *,
    out: TextIO,
    app: Application | None = None,
) -> int:
    """Run ``complaints-bot report …``; return the exit status."""
    start, end = period(args)
    owned = app is None
    if app is None:
        from bot.app import Application  # noqa: PLC0415  # only when the command runs

        app = Application(settings)
    try:
        await app.migrate()
        today = app.clock.now().astimezone(app.calendar.timezone).date()
        async with app.store.unit_of_work() as uow:
            report = await figures.build(
                uow, calendar=app.calendar, start=start, end=end, as_of=today
            )
    finally:
        if owned:
            await app.aclose()
    if args.report_command == "self-assessment":
        report = figures.self_assessment(report)
    text = render(report, args.fmt)
    if args.out is None:
        out.write(text)
        return EXIT_OK
    try:
        args.out.write_text(text, encoding="utf-8")
    except OSError as error:
        raise StorageError(f"could not write {args.out}: {error.strerror}") from error
    print(f"Wrote {args.out} ({args.fmt}).", file=out)
    return EXIT_OK
