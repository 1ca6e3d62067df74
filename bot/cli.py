"""The ``complaints-bot`` command line.

argparse keeps start-up fast and adds no dependency; every command is a small function that
takes parsed arguments and returns an exit status, so tests call :func:`main` directly.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from bot import report_cli, staff_cli
from bot.app import Application, ChatOptions, install_stop_signals, secrets_of
from bot.logs import configure_logging
from core.calendar import long_date
from core.errors import ComplaintsBotError, ConfigurationError
from core.settings import Settings, load_settings

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

_SUMMARY_LABELS = {
    "received_on": "Counts as received on",
    "acknowledge_by": "Acknowledge by (CHC-6.2)",
    "stage1_response_by": "Stage 1 response by, if acknowledged on receipt (CHC-6.3)",
    "stage1_response_by_latest": "Stage 1 response by, if acknowledged on the last day",
    "stage1_extended_by": "Latest stage 1 response with a full extension (CHC-6.4)",
    "stage2_acknowledge_by": "Stage 2: acknowledge an escalation requested then by (CHC-6.11)",
    "stage2_response_by": "Stage 2 response by, if acknowledged the same day (CHC-6.14)",
    "stage2_extended_by": "Latest stage 2 response with a full extension (CHC-6.15)",
}


def _package_version() -> str:
    try:
        return version("complaints-bot")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser for every command."""
    parser = argparse.ArgumentParser(
        prog="complaints-bot",
        description=(
            "A chat and email bot through which residents make complaints to their landlord "
            "and follow them to the end, under the Housing Ombudsman's Complaint Handling Code."
        ),
        epilog="Settings come from COMPLAINTS_* environment variables or --config FILE.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_package_version()}")
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="a TOML settings file (environment variables override it)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = commands.add_parser(
        "run",
        help="migrate the database and run the bot: channels, outbox and deadline scheduler",
        description="Create or upgrade the database, then run until Ctrl-C or SIGTERM.",
    )
    run.add_argument(
        "--chat",
        action="store_true",
        help="also chat with the bot in this terminal; the bot stops when you type /quit",
    )
    run.add_argument("--as", dest="user", metavar="NAME", help="who is chatting (with --chat)")

    chat = commands.add_parser(
        "chat",
        help="chat with the bot in the terminal (no accounts needed)",
        description=(
            "Talk to the bot as a resident, over the same engine and database as the real "
            "channels. Options are numbered: answer with the number or the option's words. "
            "Works with piped input, one message per line. /quit leaves."
        ),
    )
    chat.add_argument(
        "--as",
        dest="user",
        metavar="NAME",
        help="who is chatting (default: your login name); try two names to be two residents",
    )

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_commands.add_parser("upgrade", help="create the database or apply new migrations")
    db_commands.add_parser("current", help="show the database's migration revision")

    deadlines = commands.add_parser(
        "deadlines",
        help="when is a complaint received at a given moment due?",
        description=(
            "Print the Code's deadlines for a complaint received at RECEIVED_AT, counted in "
            "working days with England's bank holidays and any configured closure days."
        ),
    )
    deadlines.add_argument(
        "received_at",
        metavar="RECEIVED_AT",
        help="ISO date and time, e.g. 2026-12-23T10:00 (local time unless an offset is given)",
    )
    deadlines.add_argument("--json", action="store_true", help="print one JSON object")
    staff_cli.add_to(commands)
    report_cli.add_to(commands)
    return parser


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run the command line; return the exit status."""
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
        level = settings.log_level
        quiet = args.command in {"chat", "staff", "report"}
        if quiet and "log_level" not in settings.model_fields_set:
            level = "WARNING"  # the conversation or report is the output; only problems logged
        configure_logging(level=level, json_lines=settings.log_json, secrets=secrets_of(settings))
        if args.command == "run":
            return asyncio.run(_run(settings, out, _chat_options(args, out) if args.chat else None))
        if args.command == "chat":
            return asyncio.run(_chat(settings, _chat_options(args, out)))
        if args.command == "db":
            return asyncio.run(_db(settings, args.db_command, out))
        if args.command in {"staff", "report"}:
            command = staff_cli.run if args.command == "staff" else report_cli.run
            return asyncio.run(command(settings, args, out=out))
        return _deadlines(settings, args.received_at, as_json=args.json, out=out)
    except ComplaintsBotError as error:
        # Settings and usage problems exit 2; anything else (database, …) exits 1.
        print(f"complaints-bot: {error}", file=sys.stderr)
        return EXIT_USAGE if isinstance(error, ConfigurationError) else EXIT_FAILURE


def _chat_options(args: argparse.Namespace, out: TextIO) -> ChatOptions:
    return ChatOptions(
        user=args.user or _login_name(),
        input_stream=sys.stdin,
        output=out,
        staff_output=sys.stderr,
        interactive=sys.stdin.isatty(),
    )


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in this environment
        return "resident"


async def _chat(settings: Settings, options: ChatOptions) -> int:
    app = Application(settings)
    stop = asyncio.Event()
    install_stop_signals(stop)
    try:
        await app.migrate()
        if options.interactive:
            print(
                f"Chatting with the complaints bot of {settings.landlord.name} as "
                f"{options.user}. Type /quit to leave.",
                file=options.output,
                flush=True,
            )
        chatting = asyncio.create_task(app.chat(options))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({chatting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not chatting.done():
            chatting.cancel()
        elif chatting.exception() is not None:
            raise chatting.exception()  # type: ignore[misc]
    finally:
        await app.aclose()
    return EXIT_OK


async def _run(settings: Settings, out: TextIO, chat: ChatOptions | None = None) -> int:
    app = Application(settings)
    stop = asyncio.Event()
    install_stop_signals(stop)
    try:
        await app.run(stop, out=out, chat=chat)
    finally:
        await app.aclose()
    print("Stopped cleanly.", file=out, flush=True)
    return EXIT_OK


async def _db(settings: Settings, action: str, out: TextIO) -> int:
    app = Application(settings)
    try:
        if action == "upgrade":
            before, after = await app.migrate()
            if before == after:
                print(f"{settings.safe_database_url} is up to date at {after}", file=out)
            else:
                print(f"{settings.safe_database_url}: {before or 'empty'} → {after}", file=out)
        else:
            from core.db.engine import current_revision, head_revision  # noqa: PLC0415

            current = await current_revision(app.store.engine)
            head = head_revision()
            state = "up to date" if current == head else f"behind (newest is {head})"
            print(f"{settings.safe_database_url}: {current or 'empty'} — {state}", file=out)
    finally:
        await app.aclose()
    return EXIT_OK


def parse_received_at(text: str, timezone: ZoneInfo) -> datetime:
    """Parse an ISO date or date-time; a time without an offset is local to ``timezone``.

    Raises:
        ConfigurationError: the text is not an ISO date or date-time.
    """
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigurationError(
            f"RECEIVED_AT: {text!r} is not an ISO date-time; write e.g. 2026-12-23T10:00"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone)


def _deadlines(settings: Settings, received_at: str, *, as_json: bool, out: TextIO) -> int:
    from core.deadlines import DeadlineRules  # noqa: PLC0415  # no database needed here

    calendar = settings.calendar.build()
    moment = parse_received_at(received_at, calendar.timezone)
    summary = DeadlineRules(calendar, settings.timescales).summary(moment)
    if as_json:
        print(json.dumps(summary.model_dump(mode="json")), file=out)
        return EXIT_OK
    print(f"A complaint received at {moment.isoformat(timespec='minutes')}:", file=out)
    for field, label in _SUMMARY_LABELS.items():
        print(f"  {label:<66} {long_date(getattr(summary, field))}", file=out)
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
