"""``complaints-bot staff …`` in process: help, usage errors, JSON output and every action.

The commands run against a SQLite file under a temporary ``COMPLAINTS_DATA_DIR`` with the
system clock, as a member of staff would run them; :mod:`tests.conversations.test_casework`
covers the same operations on both databases with a frozen clock.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import staff_cli
from bot.cli import main
from bot.logs import RedactSecrets
from core.calendar import WorkingDayCalendar
from core.clock import SystemClock
from core.complaints.models import Actor
from core.complaints.service import ComplaintService
from core.db.engine import sqlite_url
from core.db.store import Store
from core.deadlines import DeadlineRules, Timescales
from core.references import ReferenceKind, new_reference
from core.residents.models import Identity, Resident

ACTIONS = [
    "list",
    "show",
    "assign",
    "note",
    "message",
    "extend",
    "respond",
    "escalate",
    "escalation",
    "refuse",
    "remedy",
    "action",
    "restrict",
    "unrestrict",
    "adjust",
    "close",
    "withdraw",
    "export",
]
LIST_KEYS = {
    "reference",
    "stage",
    "status",
    "received_at",
    "acknowledge_by",
    "response_by",
    "handler",
    "overdue",
}
NOISY = ("aiosqlite", "asyncio", "alembic.runtime.migration")


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """A fresh data directory, no COMPLAINTS_* from outside; undo main()'s logging set-up."""
    for name in list(os.environ):
        if name.upper().startswith("COMPLAINTS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("COMPLAINTS_DATA_DIR", str(tmp_path / "data"))
    levels = {name: logging.getLogger(name).level for name in ("", *NOISY)}
    yield
    root = logging.getLogger()
    for handler in list(root.handlers):
        if any(isinstance(f, RedactSecrets) for f in handler.filters):
            root.removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def staff(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(["staff", *argv], out=out)
    return status, out.getvalue()


def seed(tmp_path: Path, *, identities: tuple[Identity, ...] | None = None) -> str:
    """Log and acknowledge a complaint (today, by the system clock); return its reference."""

    async def go() -> str:
        data = tmp_path / "data"
        data.mkdir(exist_ok=True)
        store = Store.from_url(sqlite_url(data / "complaints.sqlite3"))
        await store.migrate()
        clock = SystemClock()
        complaints = ComplaintService(
            clock=clock, rules=DeadlineRules(WorkingDayCalendar(), Timescales())
        )
        try:
            async with store.unit_of_work() as uow:
                count = await uow.complaints.count()
                resident = await uow.residents.add(
                    Resident(
                        identities=identities
                        or (Identity(channel="telegram", address=str(5000 + count)),),
                        created_at=clock.now(),
                    )
                )
                complaint = await complaints.log(
                    uow,
                    resident_id=resident.id or 0,
                    channel="telegram",
                    received_at=clock.now(),
                    elements=["The boiler repair was missed", "Nobody called back"],
                    outcomes_sought=["Fix the boiler"],
                    actor=Actor.resident(resident.id or 0),
                )
                await complaints.acknowledge(
                    uow, reference=complaint.reference, actor=Actor.system()
                )
        finally:
            await store.close()
        return complaint.reference

    return asyncio.run(go())


def show_json(reference: str) -> dict[str, Any]:
    status, out = staff("show", reference, "--json")
    assert status == 0
    data = json.loads(out)
    assert isinstance(data, dict)
    return data


# --------------------------------------------------------------------------- help


def test_staff_is_a_command_and_lists_every_action(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    assert re.search(r"^\s+staff\s+\S", capsys.readouterr().out, flags=re.MULTILINE)
    with pytest.raises(SystemExit) as exited:
        main(["staff", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for action in ACTIONS:
        assert re.search(rf"^\s+{action}\s+\S", out, flags=re.MULTILINE), action


@pytest.mark.parametrize("action", ACTIONS)
def test_every_action_has_help(capsys: pytest.CaptureFixture[str], action: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["staff", action, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: complaints-bot staff {action}")
    if action not in {"list", "remedy", "action"}:
        assert "--by ID" in out or "REF" in out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["remedy", "C-X", "add"], "--due DATE"),
        (["remedy", "C-X", "done"], "REMEDY_ID"),
        (["action", "C-X", "add"], "--what TEXT"),
        (["action", "C-X", "done"], "ACTION_ID"),
    ],
)
def test_remedy_and_action_sub_actions_have_help(
    capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["staff", *argv, "--help"])
    assert exited.value.code == 0
    assert expected in capsys.readouterr().out


# --------------------------------------------------------------------------- usage errors


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["extend", "C-X", "--working-days", "3"], "--reason"),  # missing reason
        (["extend", "C-X", "--until", "2027-13-01", "--reason", "x"], "not a date"),
        (["extend", "C-X", "--until", "18/01/2027", "--reason", "x"], "YYYY-MM-DD"),
        (["extend", "C-X", "--reason", "x"], "--working-days"),
        (["extend", "C-X", "--working-days", "0", "--reason", "x"], "at least 1"),
        (["extend", "C-X", "--working-days", "2", "--reason", "  "], "may not be empty"),
        (["refuse", "C-X"], "--reason"),
        (["list", "--due-by", "tomorrow"], "not a date"),
        (["list", "--stage", "3"], "stages 1 and 2"),
        (["assign", "C-X", "--stage", "0", "--handler", "kim"], "stages 1 and 2"),
        (["escalation", "C-X"], "--accept"),
        (["remedy", "C-X", "add", "--type", "cake", "--what", "x", "--due", "2027-01-01"], "cake"),
        (
            [
                "remedy",
                "C-X",
                "add",
                "--type",
                "financial",
                "--what",
                "x",
                "--due",
                "2027-01-01",
                "--amount",
                "lots",
            ],
            "amount in pounds",
        ),
        (["restrict", "C-X", "--reason", "x", "--review-on", "soon"], "not a date"),
        (["export", "C-X"], "--out"),
    ],
)
def test_bad_input_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["staff", *argv])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_acting_without_a_staff_id_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    reference = seed(tmp_path)
    status, out = staff("note", reference, "hello")
    assert (status, out) == (2, "")
    assert "--by ID or set COMPLAINTS_STAFF__ID" in capsys.readouterr().err


def test_the_staff_id_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    reference = seed(tmp_path)
    monkeypatch.setenv("COMPLAINTS_STAFF__ID", "officer-7")
    assert staff("note", reference, "called", "the", "resident")[0] == 0
    assert staff("note", reference, "second", "--by", "officer-8")[0] == 0
    events = show_json(reference)["events"]
    notes = [(e["actor"], e["summary"]) for e in events if e["type"] == "note"]
    assert notes == [("staff:officer-7", "called the resident"), ("staff:officer-8", "second")]


def test_unknown_reference_fails_naming_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    seed(tmp_path)
    unknown = new_reference(ReferenceKind.COMPLAINT)
    status, out = staff("show", unknown)
    assert (status, out) == (1, "")
    assert f"no complaint {unknown}" in capsys.readouterr().err
    status, _ = staff("close", unknown, "--by", "officer-1")
    assert status == 1
    assert f"no complaint {unknown}" in capsys.readouterr().err


def test_a_mistyped_reference_fails(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    seed(tmp_path)
    status, _ = staff("show", "C-0000-0000")
    assert status == 1
    assert "probably mistyped" in capsys.readouterr().err


# --------------------------------------------------------------------------- list and show


def test_list_and_show_json(tmp_path: Path) -> None:
    first = seed(tmp_path)
    second = seed(tmp_path)
    status, out = staff("list", "--json")
    assert status == 0
    rows = json.loads(out)
    assert {row["reference"] for row in rows} == {first, second}
    for row in rows:
        assert set(row) >= LIST_KEYS
        assert row["stage"] == 1 and row["status"] == "acknowledged"
    assert json.loads(staff("list", "--stage", "2", "--json")[1]) == []
    assert json.loads(staff("list", "--overdue", "--json")[1]) == []
    data = show_json(first)
    assert set(data) >= LIST_KEYS | {"elements", "outcomes_sought", "extensions", "remedies"}
    assert data["elements"] == [
        {
            "position": 1,
            "text": "The boiler repair was missed",
            "stage_added": 1,
            "decision": None,
            "reasons": None,
            "decisions": [],
        },
        {
            "position": 2,
            "text": "Nobody called back",
            "stage_added": 1,
            "decision": None,
            "reasons": None,
            "decisions": [],
        },
    ]
    status, text = staff("list")
    assert status == 0 and first in text and "stage 1" in text


# --------------------------------------------------------------------------- respond


def test_respond_schema_is_printed(tmp_path: Path) -> None:
    status, out = staff("respond", "--schema")
    assert status == 0
    schema = json.loads(out)
    assert set(schema["properties"]) >= {"decisions", "remedies", "actions"}


def test_respond_refuses_an_incomplete_file_listing_what_is_missing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    reference = seed(tmp_path)
    path = tmp_path / "response.toml"
    path.write_text('[[decisions]]\npoint = 1\ndecision = "upheld"\nreasons = "We missed it"\n')
    status, _ = staff("respond", reference, "--file", str(path), "--by", "officer-1")
    assert status == 1
    err = capsys.readouterr().err
    assert "CHC-6.9" in err
    assert "point 2 (Nobody called back): no decision" in err
    assert "point 2 (Nobody called back): no reasons" in err
    assert "point 1" not in err
    assert show_json(reference)["status"] == "acknowledged"


def test_respond_with_a_json_file(tmp_path: Path) -> None:
    reference = seed(tmp_path)
    path = tmp_path / "response.json"
    path.write_text(
        json.dumps(
            {
                "decisions": [
                    {"point": 1, "decision": "upheld", "reasons": "We missed it"},
                    {"point": 2, "decision": "partly_upheld", "reasons": "One call missed"},
                ],
                "remedies": [{"type": "apology", "what": "We apologise", "by": "2030-01-10"}],
            }
        )
    )
    status, out = staff("respond", reference, "--file", str(path), "--by", "officer-1", "--json")
    assert status == 0
    result = json.loads(out)
    assert result["status"] == "responded"
    assert result["told"] == ["telegram"]
    data = show_json(reference)
    assert data["elements"][1]["decision"] == "partly_upheld"
    assert data["remedies"][0]["description"] == "We apologise"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("decisions = [", "not TOML"),
        ('[[decisions]]\npoint = "one"\n', "decisions.0.point"),
        ('[[decisions]]\npoint = 1\ndecision = "maybe"\n', "decisions.0.decision"),
        ('surprise = "field"\n', "surprise"),
    ],
)
def test_a_malformed_response_file_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str, message: str
) -> None:
    reference = seed(tmp_path)
    path = tmp_path / "response.toml"
    path.write_text(content)
    status, _ = staff("respond", reference, "--file", str(path), "--by", "officer-1")
    assert status == 2
    assert message in capsys.readouterr().err


def test_respond_without_a_file_needs_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    reference = seed(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    status, _ = staff("respond", reference, "--by", "officer-1")
    assert status == 2
    assert "--file RESPONSE" in capsys.readouterr().err
    status, _ = staff("respond", "--by", "officer-1", "--file", "x.toml")
    assert status == 2


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_respond_asks_in_a_terminal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    reference = seed(tmp_path)
    answers = [
        "maybe",  # not a decision: asked again
        "u",
        "We missed the visits",
        "n",
        "",  # no reasons yet: asked again
        "We called on the day",
        "financial",
        "Refund the heaters",
        "soon",  # not a date: asked again
        "2030-01-15",
        "125.50",
        "",  # no more remedies
        "Replace the boiler",
        "2030-02-01",
        "",  # no more actions
        "",  # no opening paragraph
    ]
    monkeypatch.setattr("sys.stdin", _Terminal("\n".join(answers) + "\n"))
    status, out = staff("respond", reference, "--by", "officer-1")
    assert status == 0, out
    assert "Point 2: Nobody called back" in out
    assert "not a date" in out
    data = show_json(reference)
    assert [e["decision"] for e in data["elements"]] == ["upheld", "not_upheld"]
    assert data["remedies"][0]["amount_pence"] == 12550
    assert data["status"] == "responded"


# --------------------------------------------------------------------------- other actions


def test_extend_beyond_the_limit_asks_for_a_good_reason(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    reference = seed(tmp_path)
    status, _ = staff(
        "extend", reference, "--working-days", "11", "--reason", "Survey", "--by", "officer-1"
    )
    assert status == 1
    assert "--good-reason" in capsys.readouterr().err
    status, out = staff(
        "extend",
        reference,
        "--working-days",
        "11",
        "--reason",
        "Survey",
        "--good-reason",
        "The resident asked us to wait",
        "--by",
        "officer-1",
    )
    assert status == 0
    assert "beyond the Code's limit" in out
    assert show_json(reference)["extensions"][0]["beyond_code_limit"] is True


def test_the_whole_handling_through_the_command_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    reference = seed(tmp_path)
    by = ("--by", "officer-1")
    assert staff("assign", reference, "--stage", "1", "--handler", "kim", *by)[0] == 0
    status, _ = staff("assign", reference, "--stage", "2", "--handler", "KIM", *by)
    assert status == 1
    assert "CHC-6.13" in capsys.readouterr().err
    assert staff("message", reference, "An", "engineer", "is", "booked", *by)[0] == 0
    path = tmp_path / "r.toml"
    path.write_text(
        '[[decisions]]\npoint = 1\ndecision = "upheld"\nreasons = "r1"\n'
        '[[decisions]]\npoint = 2\ndecision = "upheld"\nreasons = "r2"\n'
    )
    assert staff("respond", reference, "--file", str(path), "--by", "kim")[0] == 0
    assert staff("escalate", reference, *by)[0] == 0
    status, out = staff("escalation", reference, "--accept", "--by", "lee", "--json")
    assert status == 0 and json.loads(out)["action"] == "escalation_accept"
    status, out = staff(
        "remedy",
        reference,
        "add",
        "--type",
        "financial",
        "--what",
        "Refund",
        "--due",
        "2030-01-01",
        "--amount",
        "50",
        *by,
        "--json",
    )
    assert status == 0
    remedy_id = json.loads(out)["details"]["remedy_id"]
    status, out = staff("remedy", reference, "done", str(remedy_id), *by)
    assert status == 0 and "done" in out
    status, _ = staff("remedy", reference, "done", str(remedy_id), *by)
    assert status == 1
    status, out = staff(
        "action",
        reference,
        "add",
        "--what",
        "Replace the boiler",
        "--due",
        "2030-02-01",
        *by,
        "--json",
    )
    assert status == 0
    action_id = json.loads(out)["details"]["action_id"]
    assert staff("action", reference, "done", str(action_id), *by)[0] == 0
    data = show_json(reference)
    assert data["stage"] == 2
    assert data["handler"] == "lee"
    assert data["remedies"][0]["status"] == "done"
    assert data["actions"][0]["status"] == "done"
    sent = [e for e in data["events"] if e["direction"] == "out"]
    # message, response, escalation, acceptance, remedy offered and done, action added and done
    assert len(sent) == 8


def test_refuse_withdraw_and_close(tmp_path: Path) -> None:
    refused = seed(tmp_path)
    status, out = staff("refuse", refused, "--reason", "Already considered in 2025", "--by", "o")
    assert status == 0 and "refused" in out
    withdrawn = seed(tmp_path)
    assert staff("withdraw", withdrawn, "--by", "o")[0] == 0
    assert show_json(withdrawn)["status"] == "withdrawn"
    assert staff("close", withdrawn, "--by", "o")[0] == 1  # not allowed from withdrawn


def test_restrict_adjust_and_unrestrict(tmp_path: Path) -> None:
    reference = seed(
        tmp_path,
        identities=(
            Identity(channel="telegram", address="77"),
            Identity(channel="email", address="sam@example.org"),
        ),
    )
    resident = str(show_json(reference)["resident_id"])
    status, out = staff(
        "restrict",
        reference,
        "--reason",
        "Abusive messages",
        "--review-on",
        "2099-01-01",
        "--channel",
        "email",
        "--by",
        "o",
        "--json",
    )
    assert status == 0
    assert json.loads(out)["told"] == ["email"]
    status, out = staff("adjust", f"resident:{resident}", "--large-print", "--by", "o", "--json")
    assert status == 0
    assert json.loads(out)["details"]["preferences"]["large_print"] is True
    status, out = staff("unrestrict", "email:sam@example.org", "--by", "o")
    assert status == 0 and "lifted" in out
    restrictions = show_json(reference)["resident"]["restrictions"]
    assert restrictions[0]["lifted_at"] is not None


def test_export_writes_the_bundle(tmp_path: Path) -> None:
    reference = seed(tmp_path)
    out_dir = tmp_path / "for-the-ombudsman"
    status, out = staff("export", reference, "--out", str(out_dir), "--by", "officer-1")
    assert status == 0
    assert str(out_dir) in out
    assert reference in (out_dir / "case.html").read_text()
    assert json.loads((out_dir / "case.json").read_text())["reference"] == reference


def test_export_to_a_place_that_cannot_be_written_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reference = seed(tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    status, _ = staff("export", reference, "--out", str(blocker / "bundle"), "--by", "o")
    assert status == 1
    assert "cannot write the case file" in capsys.readouterr().err


def test_the_chat_parser_is_the_command_line_parser() -> None:
    # One definition: every action of the CLI is an action of the staff chat.
    chat = staff_cli.ChatParser(prog="/staff")
    staff_cli.configure(chat)
    args = chat.parse_args(["extend", "C-X", "--until", "2027-01-18", "--reason", "Survey"])
    assert args.staff_command == "extend"
    assert str(args.until) == "2027-01-18"
    with pytest.raises(staff_cli.UsageError, match="--reason"):
        chat.parse_args(["refuse", "C-X"])
