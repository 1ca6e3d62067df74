"""``complaints-bot staff …``: the complaints team's commands, and the same in the staff chat.

One argparse definition (:func:`configure`) serves both front ends. On the command line it is
the ``staff`` command of ``complaints-bot``; in the staff Telegram chat :class:`StaffChat`
parses a posted command (``/staff show C-…`` or the short ``/show C-…``) with the very same
parser and replies with the rendered result. Both call :class:`~conversations.casework.Casework`,
so a command does exactly the same thing wherever it is typed.

Exit status on the command line: 0 done, 1 refused or failed (unknown reference, a rule of the
Code, the database), 2 bad usage (bad date, missing reason, no acting staff member).
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys
import tomllib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NoReturn, TextIO

from pydantic import ValidationError

from conversations.casework import (
    ActionEntry,
    ActionResult,
    CaseFile,
    CaseList,
    Casework,
    DecisionEntry,
    RemedyEntry,
    ResponseFile,
)
from conversations.notify import Notifier
from core.complaints.enums import Outcome, RemedyType
from core.errors import ComplaintsBotError, ConfigurationError

if TYPE_CHECKING:
    from bot.app import Application
    from core.settings import Settings

log = logging.getLogger(__name__)

EXIT_OK: Final = 0
EXIT_FAILURE: Final = 1
EXIT_USAGE: Final = 2
CHAT_REFUSED: Final = frozenset({"export"})
"""Commands the staff chat does not run: they write files on the server."""
Result = ActionResult | CaseFile | CaseList


class UsageError(ConfigurationError):
    """The command was given wrongly; the message says how (exit status 2)."""


# ====================================================================== argument types


def iso_date(text: str) -> date:
    """Parse ``YYYY-MM-DD`` for argparse; anything else is a usage error."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date; write it as YYYY-MM-DD, e.g. 2027-01-18"
        ) from None


def stage_number(text: str) -> int:
    """Parse a stage: 1 or 2 (there is no stage 0 or 3, CHC-5.2, CHC-6.20)."""
    if text.strip() not in {"1", "2"}:
        raise argparse.ArgumentTypeError(f"{text!r} is not a stage; the Code has stages 1 and 2")
    return int(text)


def positive_int(text: str) -> int:
    """Parse a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def pounds(text: str) -> int:
    """Parse an amount in pounds (``125`` or ``125.50``) into pence."""
    try:
        amount = Decimal(text.strip().lstrip("£"))
    except InvalidOperation:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an amount in pounds, e.g. 125.50"
        ) from None
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount in pounds, e.g. 125.50")
    return int(amount * 100)


def text_argument(text: str) -> str:
    """A reason or description: it may not be blank."""
    if not text.strip():
        raise argparse.ArgumentTypeError("may not be empty")
    return text.strip()


# ====================================================================== the parser


def configure(staff: argparse.ArgumentParser) -> None:
    """Add every staff command to ``staff`` (the CLI's ``staff`` parser or the chat's)."""
    builder = _Builder(staff)
    builder.reading()
    builder.handling()
    builder.escalation()
    builder.remedies()
    builder.resident()
    builder.ending()


class _Builder:
    """Adds the staff commands in groups; each has ``--help`` and (where acting) ``--by``."""

    def __init__(self, staff: argparse.ArgumentParser) -> None:
        self.commands = staff.add_subparsers(dest="staff_command", metavar="ACTION", required=True)
        self.actor = argparse.ArgumentParser(add_help=False)
        self.actor.add_argument(
            "--by",
            metavar="ID",
            help="the acting staff member (default: COMPLAINTS_STAFF__ID); recorded in the record",
        )
        self.actor.add_argument("--json", action="store_true", help="print the result as JSON")
        self.reader = argparse.ArgumentParser(add_help=False)
        self.reader.add_argument(
            "--json", action="store_true", help="print JSON (stable keys, see the README)"
        )

    def add(
        self, name: str, help_text: str, description: str, *, reads: bool = False
    ) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = self.commands.add_parser(
            name,
            help=help_text,
            description=description,
            parents=[self.reader if reads else self.actor],
        )
        return parser

    def reading(self) -> None:
        """List and show."""
        listing = self.add(
            "list",
            "the work list: open complaints, most pressing first",
            "Complaints a person still has to act on, ordered by their next deadline.",
            reads=True,
        )
        listing.add_argument("--overdue", action="store_true", help="only those past a deadline")
        listing.add_argument(
            "--due-by", type=iso_date, metavar="DATE", help="next deadline by DATE"
        )
        listing.add_argument(
            "--stage", type=stage_number, metavar="N", help="only stage N (1 or 2)"
        )
        listing.add_argument("--handler", metavar="ID", help="only those handled by ID now")
        listing.add_argument(
            "--all", action="store_true", help="also closed, refused and withdrawn complaints"
        )

        show = self.add(
            "show",
            "the full record of one complaint",
            "Definition, outcomes sought, every event and every message both ways, evidence, "
            "deadlines, extensions and remedies (CHC-5.12).",
            reads=True,
        )
        show.add_argument("reference", metavar="REF")

    def handling(self) -> None:
        """assign, note, message, extend and respond."""
        assign = self.add(
            "assign",
            "name who handles a stage",
            "Name the handler of stage 1 or 2. A stage 2 handler who handled stage 1 is refused "
            "(CHC-6.13).",
        )
        assign.add_argument("reference", metavar="REF")
        assign.add_argument("--stage", type=stage_number, metavar="N", required=True)
        assign.add_argument("--handler", type=text_argument, metavar="ID", required=True)

        note = self.add(
            "note", "add an internal note (never sent)", "Add an internal note to the record."
        )
        note.add_argument("reference", metavar="REF")
        note.add_argument("text", nargs="+", metavar="TEXT")

        message = self.add(
            "message",
            "write to the resident as the complaints team",
            "Send TEXT to the resident on their channel, from the complaints team (no staff "
            "names), and record it.",
        )
        message.add_argument("reference", metavar="REF")
        message.add_argument("text", nargs="+", metavar="TEXT")

        extend = self.add(
            "extend",
            "give a later response date, and tell the resident why",
            "Extend the response date at the current stage. At most 10 working days in all at "
            "stage 1 and 20 at stage 2 (CHC-6.4, CHC-6.15) unless --good-reason is recorded. The "
            "resident is told the reason, the new date and the Ombudsman's contact details "
            "(CHC-6.5, CHC-6.16); tell them before the current date passes.",
        )
        extend.add_argument("reference", metavar="REF")
        how_long = extend.add_mutually_exclusive_group(required=True)
        how_long.add_argument("--working-days", type=positive_int, metavar="N")
        how_long.add_argument("--until", type=iso_date, metavar="DATE")
        extend.add_argument("--reason", type=text_argument, metavar="TEXT", required=True)
        extend.add_argument(
            "--good-reason",
            type=text_argument,
            metavar="TEXT",
            help="needed to go beyond the Code's limit; recorded and told to the resident",
        )

        respond = self.add(
            "respond",
            "record and send the stage 1 or final response",
            "Record the response at the current stage from a TOML or JSON file (see --schema), or "
            "by answering questions in a terminal. Refused if any point lacks a decision with "
            "reasons, or a remedy lacks what or by when (CHC-6.7, 6.9, 6.19, 7.3).",
        )
        respond.add_argument("reference", metavar="REF", nargs="?")
        respond.add_argument("--file", type=Path, metavar="RESPONSE", help="a .toml or .json file")
        respond.add_argument(
            "--schema", action="store_true", help="print the response file's JSON schema and stop"
        )

    def escalation(self) -> None:
        """escalate, escalation and refuse."""
        escalate = self.add(
            "escalate",
            "ask for stage 2 on the resident's behalf",
            "Record the resident's request for stage 2; no reason is needed (CHC-6.12). Accept it "
            "with `staff escalation REF --accept` within 5 working days (CHC-6.11).",
        )
        escalate.add_argument("reference", metavar="REF")
        escalate.add_argument("--reason", type=text_argument, metavar="TEXT")

        escalation = self.add(
            "escalation",
            "accept or refuse a stage 2 request",
            "--accept acknowledges stage 2 and sends the stage 2 definition and final response "
            "date (CHC-5.6, 6.11, 6.14); with no stage 2 handler named you become it (CHC-6.13). "
            "--refuse explains why and gives the right to go to the Ombudsman (CHC-2.4).",
        )
        escalation.add_argument("reference", metavar="REF")
        decide = escalation.add_mutually_exclusive_group(required=True)
        decide.add_argument("--accept", action="store_true")
        decide.add_argument("--refuse", action="store_true")
        escalation.add_argument("--reason", type=text_argument, metavar="TEXT")

        refuse = self.add(
            "refuse",
            "do not accept a complaint (a person's decision)",
            "Refuse the complaint with a written explanation and the right to go to the "
            "Ombudsman (CHC-2.1 to 2.4). Exclusions the bot flagged are shown by `staff show`; "
            "only a person decides.",
        )
        refuse.add_argument("reference", metavar="REF")
        refuse.add_argument("--reason", type=text_argument, metavar="TEXT", required=True)

    def remedies(self) -> None:
        """Remedy add|done and action add|done."""
        remedy = self.commands.add_parser(
            "remedy",
            help="add a remedy, or record one as done",
            description="Remedies are tracked to completion and the resident hears when each is "
            "done (CHC-7.1, 7.3, 5.13).",
        )
        remedy.add_argument("reference", metavar="REF")
        remedy_commands = remedy.add_subparsers(
            dest="remedy_command", metavar="add|done", required=True
        )
        remedy_add = remedy_commands.add_parser(
            "add", help="offer a remedy: what, by when", parents=[self.actor]
        )
        remedy_add.add_argument(
            "--type", dest="remedy_type", choices=[t.value for t in RemedyType], required=True
        )
        remedy_add.add_argument("--what", type=text_argument, metavar="TEXT", required=True)
        remedy_add.add_argument("--due", type=iso_date, metavar="DATE", required=True)
        remedy_add.add_argument("--amount", type=pounds, metavar="POUNDS", help="for a payment")
        remedy_done = remedy_commands.add_parser(
            "done", help="record that a remedy was carried out", parents=[self.actor]
        )
        remedy_done.add_argument("remedy_id", type=positive_int, metavar="REMEDY_ID")

        action = self.commands.add_parser(
            "action",
            help="add an outstanding action, or record one as done",
            description="Work still to be done after a response is tracked to completion and "
            "the resident hears when each is done (CHC-6.6).",
        )
        action.add_argument("reference", metavar="REF")
        action_commands = action.add_subparsers(
            dest="action_command", metavar="add|done", required=True
        )
        action_add = action_commands.add_parser(
            "add", help="record work still to be done: what, by when", parents=[self.actor]
        )
        action_add.add_argument("--what", type=text_argument, metavar="TEXT", required=True)
        action_add.add_argument("--due", type=iso_date, metavar="DATE", required=True)
        action_done = action_commands.add_parser(
            "done", help="record that an outstanding action was done", parents=[self.actor]
        )
        action_done.add_argument("action_id", type=positive_int, metavar="ACTION_ID")

    def resident(self) -> None:
        """restrict, unrestrict and adjust."""
        restrict = self.add(
            "restrict",
            "restrict contact with a resident (CHC-5.14)",
            "Set a contact restriction with its reason and review date. TARGET is a complaint "
            "reference, a resident id (17 or resident:17) or CHANNEL:ADDRESS. It never stops "
            "the resident complaining; they are told in writing.",
        )
        restrict.add_argument("target", metavar="REF|RESIDENT")
        restrict.add_argument("--reason", type=text_argument, metavar="TEXT", required=True)
        restrict.add_argument("--review-on", type=iso_date, metavar="DATE", required=True)
        restrict.add_argument(
            "--channel",
            action="append",
            default=[],
            metavar="CHANNEL",
            help="a channel contact stays open on (repeat for several)",
        )
        restrict.add_argument("--description", type=text_argument, metavar="TEXT")

        unrestrict = self.add(
            "unrestrict", "lift a contact restriction", "Lift a contact restriction."
        )
        unrestrict.add_argument("target", metavar="REF|RESIDENT")
        unrestrict.add_argument("--id", dest="restriction_id", type=positive_int, metavar="N")

        adjust = self.add(
            "adjust",
            "record reasonable adjustments and contact preferences (CHC-5.10)",
            "Record adjustments (CHC-3.1, CHC-5.10) and how the resident wants to be contacted; "
            "every later letter honours them.",
        )
        adjust.add_argument("target", metavar="RESIDENT")
        adjust.add_argument("--add", action="append", default=[], metavar="TEXT")
        adjust.add_argument("--remove", action="append", default=[], metavar="TEXT")
        adjust.add_argument("--vulnerability", action="append", default=[], metavar="TEXT")
        adjust.add_argument("--large-print", action=argparse.BooleanOptionalAction)
        adjust.add_argument("--call-back", action=argparse.BooleanOptionalAction)
        adjust.add_argument("--channel", metavar="CHANNEL", help="the preferred channel")
        adjust.add_argument("--times", metavar="TEXT", help="when to contact them")
        adjust.add_argument("--interpreter", metavar="LANGUAGE")
        adjust.add_argument(
            "--update-every",
            type=positive_int,
            metavar="N",
            help="agreed update interval (CHC-5.9)",
        )

    def ending(self) -> None:
        """close, withdraw and export."""
        close = self.add(
            "close", "close a complaint", "Close after a response; the resident is told."
        )
        close.add_argument("reference", metavar="REF")

        withdraw = self.add(
            "withdraw", "withdraw on the resident's behalf", "Withdraw; the resident is told."
        )
        withdraw.add_argument("reference", metavar="REF")

        export = self.add(
            "export",
            "write the whole case file for an Ombudsman evidence request",
            "Write DIR/case.html (readable, self-contained), DIR/case.json and DIR/evidence/.",
        )
        export.add_argument("reference", metavar="REF")
        export.add_argument("--out", type=Path, metavar="DIR", required=True)


def add_to(commands: Any) -> None:
    """Add ``staff`` to the ``complaints-bot`` sub-commands."""
    staff = commands.add_parser(
        "staff",
        help="the complaints team's commands (list, show, respond, extend, …)",
        description=(
            "Act on complaints as a member of the complaints team. Each action is recorded "
            "with who did it, and the resident gets the right letter on their channel."
        ),
    )
    configure(staff)


# ====================================================================== doing it


@dataclass(frozen=True, slots=True)
class Request:
    """A parsed staff command, from either front end."""

    args: argparse.Namespace
    by: str | None
    request_id: str | None = None
    response: ResponseFile | None = None


async def perform(casework: Casework, request: Request) -> Result:
    """Run one parsed staff command through ``casework``.

    Raises:
        UsageError: an acting command without a staff member, or a missing part.
        ComplaintsBotError: whatever the casework refuses, with its reason.
    """
    args = request.args
    command: str = args.staff_command
    if command == "list":
        return await casework.list_cases(
            overdue=args.overdue,
            due_by=args.due_by,
            stage=args.stage,
            handler=args.handler,
            include_finished=args.all,
        )
    if command == "show":
        return await casework.show(args.reference)
    if not request.by:
        raise UsageError("who is acting? Give --by ID or set COMPLAINTS_STAFF__ID")
    return await _ACTIONS[command](casework, args, request)


Action = Callable[[Casework, argparse.Namespace, Request], Awaitable[ActionResult]]


async def _respond(casework: Casework, args: argparse.Namespace, req: Request) -> ActionResult:
    if req.response is None:
        raise UsageError("give the response: --file RESPONSE")
    return await casework.respond(
        args.reference, response=req.response, by=_by(req), request_id=req.request_id
    )


async def _escalation(casework: Casework, args: argparse.Namespace, req: Request) -> ActionResult:
    if args.accept:
        return await casework.accept_escalation(
            args.reference, by=_by(req), request_id=req.request_id
        )
    if not args.reason:
        raise UsageError("--refuse needs --reason TEXT: a refusal explains itself (CHC-2.4)")
    return await casework.refuse_escalation(
        args.reference, reason=args.reason, by=_by(req), request_id=req.request_id
    )


async def _remedy(casework: Casework, args: argparse.Namespace, req: Request) -> ActionResult:
    if args.remedy_command == "add":
        return await casework.add_remedy(
            args.reference,
            remedy_type=RemedyType(args.remedy_type),
            what=args.what,
            due_on=args.due,
            amount_pence=args.amount,
            by=_by(req),
            request_id=req.request_id,
        )
    return await casework.complete_remedy(
        args.reference, remedy_id=args.remedy_id, by=_by(req), request_id=req.request_id
    )


async def _action(casework: Casework, args: argparse.Namespace, req: Request) -> ActionResult:
    if args.action_command == "add":
        return await casework.add_action(
            args.reference,
            what=args.what,
            due_on=args.due,
            by=_by(req),
            request_id=req.request_id,
        )
    return await casework.complete_action(
        args.reference, action_id=args.action_id, by=_by(req), request_id=req.request_id
    )


async def _adjust(casework: Casework, args: argparse.Namespace, req: Request) -> ActionResult:
    return await casework.adjust(
        args.target,
        add=args.add,
        remove=args.remove,
        vulnerabilities=args.vulnerability,
        large_print=args.large_print,
        call_back=args.call_back,
        channel=args.channel,
        times=args.times,
        interpreter=args.interpreter,
        update_every=args.update_every,
        by=_by(req),
        request_id=req.request_id,
    )


def _by(request: Request) -> str:
    assert request.by is not None  # checked by perform()
    return request.by


_ACTIONS: Final[dict[str, Action]] = {
    "assign": lambda c, a, r: c.assign(
        a.reference, stage=a.stage, handler=a.handler, by=_by(r), request_id=r.request_id
    ),
    "note": lambda c, a, r: c.note(
        a.reference, text=" ".join(a.text), by=_by(r), request_id=r.request_id
    ),
    "message": lambda c, a, r: c.message(
        a.reference, text=" ".join(a.text), by=_by(r), request_id=r.request_id
    ),
    "extend": lambda c, a, r: c.extend(
        a.reference,
        working_days=a.working_days,
        until=a.until,
        reason=a.reason,
        good_reason=a.good_reason,
        by=_by(r),
        request_id=r.request_id,
    ),
    "respond": _respond,
    "escalate": lambda c, a, r: c.escalate(
        a.reference, reason=a.reason, by=_by(r), request_id=r.request_id
    ),
    "escalation": _escalation,
    "refuse": lambda c, a, r: c.refuse(
        a.reference, reason=a.reason, by=_by(r), request_id=r.request_id
    ),
    "remedy": _remedy,
    "action": _action,
    "restrict": lambda c, a, r: c.restrict(
        a.target,
        reason=a.reason,
        review_on=a.review_on,
        channels=a.channel,
        description=a.description,
        by=_by(r),
        request_id=r.request_id,
    ),
    "unrestrict": lambda c, a, r: c.unrestrict(
        a.target, restriction_id=a.restriction_id, by=_by(r), request_id=r.request_id
    ),
    "adjust": _adjust,
    "close": lambda c, a, r: c.close(a.reference, by=_by(r), request_id=r.request_id),
    "withdraw": lambda c, a, r: c.withdraw(a.reference, by=_by(r), request_id=r.request_id),
    "export": lambda c, a, r: c.export(a.reference, out=a.out, by=_by(r)),
}
"""Every acting command, by name: each calls one casework operation."""


def build_casework(app: Application) -> Casework:
    """The casework service over the application's database, clock and wording."""
    return Casework(
        store=app.store,
        clock=app.clock,
        rules=app.rules,
        complaints=app.complaints,
        residents=app.residents,
        notifier=Notifier(outbox=app.outbox, wording=app.wording, clock=app.clock),
        wording=app.wording,
        data_dir=app.settings.data_dir,
    )


# ====================================================================== the command line


def load_response(path: Path) -> ResponseFile:
    """Read a response file (``.toml`` or ``.json``; other names are tried as both).

    Raises:
        UsageError: the file is missing, not TOML/JSON, or does not fit the schema.
    """
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"--file: cannot read {path}: {error.strerror or error}") from None
    return parse_response(raw, name=str(path), prefer_json=path.suffix.lower() == ".json")


def parse_response(raw: str, *, name: str, prefer_json: bool = False) -> ResponseFile:
    """Parse a response given as TOML or JSON text.

    Raises:
        UsageError: not TOML/JSON, or does not fit the schema.
    """
    data: Any = None
    errors: list[str] = []
    parsers: list[tuple[str, Callable[[str], Any]]] = [
        ("JSON", json.loads),
        ("TOML", tomllib.loads),
    ]
    for kind, parse in parsers if prefer_json else parsers[::-1]:
        try:
            data = parse(raw)
            break
        except (ValueError, tomllib.TOMLDecodeError) as error:
            errors.append(f"not {kind} ({error})")
    else:
        raise UsageError(f"{name}: " + "; ".join(errors))
    try:
        return ResponseFile.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in error.errors()
        )
        raise UsageError(f"{name}: {problems} (see --schema)") from None


def prompt_response(case: CaseFile, ask: Callable[[str], str], out: TextIO) -> ResponseFile:
    """Ask, point by point, for the response (when ``--file`` is omitted in a terminal)."""
    outcomes = {o.value[0]: o for o in Outcome}  # u, p, n
    out.write(f"Response to {case.reference} at stage {case.stage}.\n")
    decisions = []
    for element in case.elements:
        out.write(f"\nPoint {element.position}: {element.text}\n")
        answer = ""
        while answer[:1] not in outcomes:
            answer = ask("  Decision — upheld, partly upheld or not upheld [u/p/n]: ").lower()
        reasons = ""
        while not reasons.strip():
            reasons = ask("  Reasons (CHC-6.7): ")
        decisions.append(
            DecisionEntry(point=element.position, decision=outcomes[answer[0]], reasons=reasons)
        )
    remedies = []
    kinds = ", ".join(t.value for t in RemedyType)
    while True:
        kind = ask(f"\nRemedy type ({kinds}), or Enter for none/no more: ").strip()
        if not kind:
            break
        if kind not in {t.value for t in RemedyType}:
            out.write("  Not a remedy type.\n")
            continue
        what = ask("  What will be done: ")
        due = _ask_date(ask, "  By when (YYYY-MM-DD): ", out)
        amount = None
        if kind == RemedyType.FINANCIAL.value:
            amount = _ask_amount(ask, out)
        remedies.append(RemedyEntry(type=RemedyType(kind), what=what, by=due, amount_pence=amount))
    actions = []
    while True:
        what = ask("\nOutstanding action still to be done, or Enter for none/no more: ").strip()
        if not what:
            break
        actions.append(ActionEntry(what=what, by=_ask_date(ask, "  By when (YYYY-MM-DD): ", out)))
    summary = ask("\nAn opening paragraph for the letter (optional): ").strip() or None
    return ResponseFile(
        stage=case.stage, summary=summary, decisions=decisions, remedies=remedies, actions=actions
    )


def _ask_date(ask: Callable[[str], str], question: str, out: TextIO) -> date:
    while True:
        try:
            return iso_date(ask(question))
        except argparse.ArgumentTypeError as error:
            out.write(f"  {error}\n")


def _ask_amount(ask: Callable[[str], str], out: TextIO) -> int:
    while True:
        try:
            return pounds(ask("  Amount in pounds: "))
        except argparse.ArgumentTypeError as error:
            out.write(f"  {error}\n")


async def run(
    settings: Settings,
    args: argparse.Namespace,
    *,
    out: TextIO,
    err: TextIO | None = None,
    stdin: TextIO | None = None,
    app: Application | None = None,
) -> int:
    """Run ``complaints-bot staff …``; return the exit status.

    Args:
        settings: validated settings (the database, the acting staff member's id).
        args: the parsed command line.
        out: where results go.
        err: where errors go (standard error by default).
        stdin: where interactive answers come from (standard input by default).
        app: an application to use instead of building one from ``settings`` (tests).
    """
    err = err or sys.stderr
    stdin = stdin or sys.stdin
    if args.staff_command == "respond" and args.schema:
        out.write(json.dumps(ResponseFile.model_json_schema(), indent=2) + "\n")
        return EXIT_OK
    try:
        return await _run(settings, args, out=out, err=err, stdin=stdin, app=app)
    except ConfigurationError as error:
        err.write(f"complaints-bot staff: {error}\n")
        return EXIT_USAGE
    except ComplaintsBotError as error:
        err.write(f"complaints-bot staff: {error}\n")
        return EXIT_FAILURE


async def _run(
    settings: Settings,
    args: argparse.Namespace,
    *,
    out: TextIO,
    err: TextIO,
    stdin: TextIO,
    app: Application | None,
) -> int:
    by = getattr(args, "by", None) or settings.staff.id
    if args.staff_command not in {"list", "show"} and not by:
        raise UsageError("who is acting? Give --by ID or set COMPLAINTS_STAFF__ID")
    if args.staff_command == "respond" and not args.reference:
        raise UsageError("respond needs REF (or --schema)")
    response = None
    if args.staff_command == "respond" and args.file is not None:
        response = load_response(args.file)
    elif args.staff_command == "respond" and not stdin.isatty():
        raise UsageError("give the response with --file RESPONSE (questions need a terminal)")
    owned = app is None
    if app is None:
        # bot.app imports this module (the staff chat), so it is imported only when needed.
        from bot.app import Application  # noqa: PLC0415

        app = Application(settings)
    try:
        await app.migrate()
        casework = build_casework(app)
        if args.staff_command == "respond" and response is None:
            case = await casework.show(args.reference)
            response = prompt_response(case, _asker(stdin, out), out)
        result = await perform(casework, Request(args=args, by=by, response=response))
    finally:
        if owned:
            await app.aclose()
    if args.json:
        payload = result.to_json_array() if isinstance(result, CaseList) else result.to_json()
        out.write(json.dumps(payload, ensure_ascii=False) + "\n")
    else:
        out.write(result.text.rstrip("\n") + "\n")
    if isinstance(result, ActionResult) and result.warnings and args.json:
        for warning in result.warnings:
            err.write(f"warning: {warning.message}\n")
    return EXIT_OK


def _asker(stdin: TextIO, out: TextIO) -> Callable[[str], str]:
    def ask(question: str) -> str:
        out.write(question)
        out.flush()
        line = stdin.readline()
        if not line:
            raise UsageError("no answer (end of input)")
        return line.rstrip("\n")

    return ask


# ====================================================================== the staff chat


class _ChatOutput(Exception):  # noqa: N818 - control flow, not an error
    """argparse printed help: it becomes the reply."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class ChatParser(argparse.ArgumentParser):
    """An argparse parser that answers in the chat instead of exiting the process."""

    def _print_message(self, message: str, file: Any = None) -> None:
        if message:
            raise _ChatOutput(message)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        """Stop parsing; what would have been printed becomes the reply."""
        raise _ChatOutput(message or "")

    def error(self, message: str) -> NoReturn:
        """A usage error becomes the reply, with the usage line."""
        raise UsageError(f"{self.format_usage().strip()}\n{self.prog}: {message}")


class StaffChat:
    """Runs staff commands posted in the staff Telegram chat through the CLI's parser.

    A command is ``/staff ACTION …`` or the short ``/ACTION …`` (``/list --overdue``). The
    first line is split like a shell line; for ``respond`` the rest of the message is the
    response, as TOML or JSON. The poster acts as ``telegram:<user id>``. ``export`` and
    ``--file`` are refused here (they touch files on the server), as is ``--by``.

    Args:
        casework: the casework service.
        labels: the ``[staff_chat]`` labels: the chat's own words (refusals, errors).
    """

    def __init__(self, casework: Casework, labels: dict[str, str]) -> None:
        self._casework = casework
        self._labels = labels
        self._parser = ChatParser(prog="/staff", add_help=True)
        configure(self._parser)
        self._actions = set(self._choices())

    def _choices(self) -> list[str]:
        for action in self._parser._actions:  # noqa: SLF001 - argparse keeps them here
            if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
                return list(action.choices)
        return []  # pragma: no cover

    async def __call__(self, *, text: str, staff_id: str, request_id: str) -> str | None:
        """Run the command in ``text``; return the reply, or ``None`` if it is no command."""
        first, _, body = text.strip().partition("\n")
        try:
            argv = self._argv(first)
        except ValueError as error:
            return self._labels["unreadable"].format(error=error)
        if argv is None:
            return None
        try:
            args = self._parser.parse_args(argv)
            log.info("staff chat command", extra={"staff": staff_id, "command": argv[0]})
            refusal = self._refusal(args, body)
            if refusal is not None:
                return refusal
            response = None
            if args.staff_command == "respond":
                response = parse_response(body, name="the response")
            result = await perform(
                self._casework,
                Request(args=args, by=staff_id, request_id=request_id, response=response),
            )
        except _ChatOutput as output:
            return output.text.strip()
        except ComplaintsBotError as error:
            return self._labels["failed"].format(error=error)
        return result.text

    def _argv(self, line: str) -> list[str] | None:
        """The arguments of a command line, or ``None`` when it is not a staff command."""
        words = shlex.split(line)
        if not words or not words[0].startswith("/"):
            return None
        command = words[0][1:].split("@", 1)[0].lower()
        if command == "staff":
            return words[1:]
        if command in self._actions:
            return [command, *words[1:]]
        return None

    def _refusal(self, args: argparse.Namespace, body: str) -> str | None:
        """Why the chat will not run this command (or what it answers instead), if so."""
        refusal: str | None = None
        if args.staff_command in CHAT_REFUSED:
            refusal = self._labels["refused"].format(command=args.staff_command)
        elif getattr(args, "by", None):
            refusal = self._labels["no_by"]
        elif args.staff_command == "respond":
            if args.schema:
                refusal = json.dumps(ResponseFile.model_json_schema(), indent=2)
            elif args.file is not None:
                refusal = self._labels["no_file"]
            elif not args.reference or not body.strip():
                refusal = self._labels["respond_body"]
        return refusal
