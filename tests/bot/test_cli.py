"""The ``complaints-bot`` command line, in process and as a real process.

``main()`` calls :func:`asyncio.run`, so every test here is a plain function.
"""

from __future__ import annotations

import io
import json
import logging
import os
import queue
import re
import signal
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path
from typing import IO

import pytest

from bot.cli import main
from bot.logs import RedactSecrets

ROOT = Path(__file__).resolve().parents[2]
DB_FILE = "complaints.sqlite3"
SUMMARY_KEYS = [
    "received_on",
    "acknowledge_by",
    "stage1_response_by",
    "stage1_response_by_latest",
    "stage1_extended_by",
    "stage2_acknowledge_by",
    "stage2_response_by",
    "stage2_extended_by",
]
NOISY = ("aiosqlite", "asyncio", "alembic.runtime.migration")


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No COMPLAINTS_* variables from outside; undo main()'s logging set-up afterwards."""
    for name in list(os.environ):
        if name.upper().startswith("COMPLAINTS_"):
            monkeypatch.delenv(name)
    levels = {name: logging.getLogger(name).level for name in ("", *NOISY)}
    yield
    root = logging.getLogger()
    for handler in list(root.handlers):
        if any(isinstance(f, RedactSecrets) for f in handler.filters):
            root.removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def run_cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(list(argv), out=out)
    return status, out.getvalue()


def deadlines_json(received_at: str, *extra: str) -> dict[str, str]:
    status, out = run_cli(*extra, "deadlines", received_at, "--json")
    assert status == 0
    lines = out.splitlines()
    assert len(lines) == 1, out
    summary = json.loads(lines[0])
    assert isinstance(summary, dict)
    return summary


# --- help and version ------------------------------------------------------------------------


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: complaints-bot")
    for command in ("run", "db", "deadlines"):
        assert re.search(rf"^\s+{command}\s+\S", out, flags=re.MULTILINE), command
    assert "--config" in out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["db", "--help"], ["upgrade", "current"]),
        (["deadlines", "--help"], ["RECEIVED_AT", "--json"]),
    ],
)
def test_sub_command_help(
    capsys: pytest.CaptureFixture[str], argv: list[str], expected: list[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for word in expected:
        assert word in out


@pytest.mark.parametrize("argv", [[], ["db"], ["deadlines"], ["fly"]])
def test_a_missing_or_unknown_command_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert "usage: complaints-bot" in capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"complaints-bot {version('complaints-bot')}"


def test_the_console_script_is_installed() -> None:
    script = Path(sysconfig.get_path("scripts")) / "complaints-bot"
    assert script.is_file()
    done = subprocess.run(
        [str(script), "--version"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={k: v for k, v in os.environ.items() if not k.upper().startswith("COMPLAINTS_")},
    )
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"complaints-bot \d+\.\d+\.\d+\S*\n", done.stdout), done.stdout


# --- deadlines -------------------------------------------------------------------------------


def test_deadlines_json_for_the_worked_example() -> None:
    summary = deadlines_json("2026-12-23T10:00")
    assert list(summary) == SUMMARY_KEYS
    # Bank holidays: Fri 25 Dec 2026, Mon 28 Dec 2026 (Boxing Day substitute), Fri 1 Jan 2027.
    assert summary == {
        "received_on": "2026-12-23",
        "acknowledge_by": "2027-01-04",  # 5 working days: 24, 29, 30, 31 Dec, 4 Jan
        "stage1_response_by": "2027-01-11",  # 10 working days from 23 Dec
        "stage1_response_by_latest": "2027-01-18",  # 10 working days from 4 Jan
        "stage1_extended_by": "2027-02-01",  # 10 working days from 18 Jan
        "stage2_acknowledge_by": "2027-01-04",
        "stage2_response_by": "2027-01-25",  # 20 working days from 23 Dec
        "stage2_extended_by": "2027-02-22",  # 20 working days from 25 Jan
    }


@pytest.mark.parametrize(
    ("received_at", "received_on", "acknowledge_by"),
    [
        ("2027-01-09T12:00", "2027-01-09", "2027-01-15"),  # Saturday: day 0 is the Saturday
        ("2027-01-10T09:00", "2027-01-10", "2027-01-15"),  # Sunday
        ("2027-01-09", "2027-01-09", "2027-01-15"),  # a date alone is midnight
        ("2026-12-25T10:00", "2026-12-25", "2027-01-05"),  # Christmas Day
        ("2026-12-22T23:30-05:00", "2026-12-23", "2027-01-04"),  # 04:30 in London
        ("2027-06-30T23:30+00:00", "2027-07-01", "2027-07-08"),  # 00:30 BST, Thursday
        ("2027-06-30T23:30", "2027-06-30", "2027-07-07"),  # local time: still Wednesday
    ],
)
def test_deadlines_day_of_receipt(received_at: str, received_on: str, acknowledge_by: str) -> None:
    summary = deadlines_json(received_at)
    assert (summary["received_on"], summary["acknowledge_by"]) == (received_on, acknowledge_by)


def test_deadlines_in_words() -> None:
    status, out = run_cli("deadlines", "2026-12-23T10:00")
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "A complaint received at 2026-12-23T10:00+00:00:"
    expected = [
        ("Counts as received on", "Wednesday 23 December 2026"),
        ("Acknowledge by (CHC-6.2)", "Monday 4 January 2027"),
        ("Stage 1 response by, if acknowledged on receipt (CHC-6.3)", "Monday 11 January 2027"),
        ("Stage 1 response by, if acknowledged on the last day", "Monday 18 January 2027"),
        ("(CHC-6.4)", "Monday 1 February 2027"),
        ("(CHC-6.11)", "Monday 4 January 2027"),
        ("(CHC-6.14)", "Monday 25 January 2027"),
        ("(CHC-6.15)", "Monday 22 February 2027"),
    ]
    assert len(lines) == 1 + len(expected)
    for line, (label, when) in zip(lines[1:], expected, strict=True):
        assert label in line
        assert line.endswith(" " + when), line


@pytest.mark.parametrize(
    ("received_at", "cutoff", "received_on"),
    [
        ("2026-12-22T17:30", "17:00", "2026-12-23"),  # Tuesday evening → Wednesday
        ("2026-12-22T17:00", "17:00", "2026-12-23"),  # at the cut-off counts as after it
        ("2026-12-22T16:59", "17:00", "2026-12-22"),
        ("2026-12-24T17:30", "17:00", "2026-12-29"),  # Christmas Eve → after the holidays
        ("2027-01-08T17:30", "17:00", "2027-01-11"),  # Friday → Monday
        ("2026-12-22T17:30", None, "2026-12-22"),  # no cut-off: the calendar date
    ],
)
def test_a_cutoff_moves_late_receipts_to_the_next_working_day(
    monkeypatch: pytest.MonkeyPatch, received_at: str, cutoff: str | None, received_on: str
) -> None:
    if cutoff is not None:
        monkeypatch.setenv("COMPLAINTS_CALENDAR__CUTOFF", cutoff)
    assert deadlines_json(received_at)["received_on"] == received_on


def test_shorter_timescales_and_closure_days_from_a_config_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "complaints.toml"
    config.write_text(
        "[calendar]\nclosure_days = [2026-12-24, 2026-12-29, 2026-12-30, 2026-12-31]\n",
        encoding="utf-8",
    )
    # Closed until 4 January: five working days are 4-8 January.
    with_config = ("--config", str(config))
    assert deadlines_json("2026-12-23T10:00", *with_config)["acknowledge_by"] == "2027-01-08"

    monkeypatch.setenv("COMPLAINTS_TIMESCALES__STAGE1_ACKNOWLEDGE", "3")
    assert deadlines_json("2026-12-23T10:00", *with_config)["acknowledge_by"] == "2027-01-06"

    monkeypatch.delenv("COMPLAINTS_TIMESCALES__STAGE1_ACKNOWLEDGE")
    monkeypatch.setenv("COMPLAINTS_TIMESCALES__STAGE2_RESPONSE", "15")
    # 15 working days from 23 December with the closure: 4-22 January.
    assert deadlines_json("2026-12-23T10:00", *with_config)["stage2_response_by"] == "2027-01-22"


@pytest.mark.parametrize("received_at", ["nonsense", "2026-13-01T10:00", "23/12/2026", " "])
def test_a_bad_received_at_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], received_at: str
) -> None:
    status, out = run_cli("deadlines", received_at)
    assert status == 2
    assert out == ""
    err = capsys.readouterr().err
    assert err.startswith("complaints-bot: RECEIVED_AT:")
    assert "2026-12-23T10:00" in err  # an example of what to write


def test_received_at_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["deadlines", "--json"])
    assert exited.value.code == 2
    assert "RECEIVED_AT" in capsys.readouterr().err


# --- settings errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    [
        ("COMPLAINTS_TIMESCALES__STAGE1_RESPONSE", "12", ["maximum of 10", "CHC-6.3"]),
        ("COMPLAINTS_TIMESCALES__STAGE2_RESPONSE", "25", ["maximum of 20", "CHC-6.14"]),
        ("COMPLAINTS_TELEGRAM__TOKEN", "nonsense", ["123456:ABC"]),
        ("COMPLAINTS_DATABASE_URL", "mysql://u@h/db", ["postgresql"]),
        ("COMPLAINTS_CALENDAR__CUTOFF", "teatime", []),
    ],
)
@pytest.mark.parametrize("command", [["deadlines", "2026-12-23T10:00"], ["db", "current"]])
def test_a_settings_error_is_a_usage_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    case: tuple[str, str, list[str]],
    command: list[str],
) -> None:
    name, value, expected = case
    monkeypatch.setenv("COMPLAINTS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(name, value)
    status, out = run_cli(*command)
    assert status == 2
    assert out == ""
    err = capsys.readouterr().err
    assert err.startswith("complaints-bot: ")
    assert name in err
    for text in expected:
        assert text in err
    assert "Traceback" not in err
    assert not (tmp_path / DB_FILE).exists()


def test_a_missing_config_file_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status, _ = run_cli("--config", str(tmp_path / "missing.toml"), "deadlines", "2027-01-09")
    assert status == 2
    assert "--config" in capsys.readouterr().err


# --- db --------------------------------------------------------------------------------------


def test_db_upgrade_and_current(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COMPLAINTS_DATA_DIR", str(tmp_path))
    database = tmp_path / DB_FILE

    status, out = run_cli("db", "current")
    assert status == 0
    assert "empty" in out
    assert "behind" in out
    assert "up to date" not in out

    status, out = run_cli("db", "upgrade")
    assert status == 0
    assert str(database) in out
    assert re.search(r": empty → \w+$", out.strip()), out
    assert database.is_file()
    head = out.strip().rsplit(" ", 1)[-1]

    status, out = run_cli("db", "current")
    assert status == 0
    assert out.strip().endswith(f"{head} — up to date")

    status, out = run_cli("db", "upgrade")
    assert status == 0
    assert out.strip().endswith(f"is up to date at {head}")


# --- run, as a real process ------------------------------------------------------------------

SECRET_TAIL = "secret-token-value"


def bot_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("COMPLAINTS_")}
    env["COMPLAINTS_DATA_DIR"] = str(tmp_path)
    env["COMPLAINTS_SCHEDULER__INTERVAL_SECONDS"] = "0.2"
    env["PYTHONIOENCODING"] = "utf-8"
    env["COMPLAINTS_HEALTH__PORT"] = "0"  # bots started side by side never share a port
    env.update(settings)
    return env


class BotProcess:
    """``python -m bot run`` with its output read on threads, so a pipe never fills."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        assert proc.stdout is not None
        assert proc.stderr is not None
        self._threads = [
            threading.Thread(target=self._pump, args=(proc.stdout, self.stdout, True)),
            threading.Thread(target=self._pump, args=(proc.stderr, self.stderr, False)),
        ]
        for thread in self._threads:
            thread.daemon = True
            thread.start()

    def _pump(self, stream: IO[str], into: list[str], announce: bool) -> None:
        for line in stream:
            into.append(line)
            if announce:
                self._lines.put(line)
        if announce:
            self._lines.put(None)

    def wait_for_line(self, text: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"no {text!r} within {timeout} s; stdout: {self.stdout}")
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                self.proc.wait(timeout=5)
                self.join()
                pytest.fail(
                    f"exited ({self.proc.returncode}) before {text!r}; "
                    f"stdout: {''.join(self.stdout)}\nstderr: {''.join(self.stderr)}"
                )
            if text in line:
                return

    def stop(self, signum: int, timeout: float = 15.0) -> int:
        self.proc.send_signal(signum)
        status = self.proc.wait(timeout=timeout)
        self.join()
        return status

    def join(self) -> None:
        for thread in self._threads:
            thread.join(timeout=5)

    @property
    def out(self) -> str:
        return "".join(self.stdout)

    @property
    def err(self) -> str:
        return "".join(self.stderr)


StartBot = Callable[[dict[str, str]], BotProcess]


@pytest.fixture
def start_bot() -> Iterator[StartBot]:
    """Start ``python -m bot run`` with an environment; always killed at the end."""
    processes: list[subprocess.Popen[str]] = []

    def start(env: dict[str, str]) -> BotProcess:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        processes.append(proc)
        return BotProcess(proc)

    try:
        yield start
    finally:
        for proc in processes:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=15)
            for stream in (proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()


def banner_line(out: str, name: str) -> str:
    lines = [line for line in out.splitlines() if line.strip().startswith(name + " ")]
    assert len(lines) == 1, out
    return lines[0]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_run_starts_and_stops_cleanly_on_a_signal(
    start_bot: StartBot,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    signum: signal.Signals,
) -> None:
    bot = start_bot(bot_env(tmp_path))
    bot.wait_for_line("Running.")

    out = bot.out
    assert out.startswith("complaints-bot for Your Landlord\n")
    database = banner_line(out, "database")
    assert str(tmp_path / DB_FILE) in database
    assert "(created, " in database
    telegram = banner_line(out, "telegram")
    assert "off" in telegram
    assert "COMPLAINTS_TELEGRAM__TOKEN" in telegram
    email = banner_line(out, "email")
    assert "off" in email
    for name in ("COMPLAINTS_IMAP__HOST", "COMPLAINTS_SMTP__HOST", "COMPLAINTS_EMAIL__ADDRESS"):
        assert name in email
    assert "every 0.2 s" in banner_line(out, "scheduler")

    time.sleep(0.5)  # let the scheduler tick a couple of times
    assert bot.stop(signum) == 0, bot.err
    assert bot.out.rstrip().endswith("Stopped cleanly.")
    assert "Traceback" not in bot.err
    assert (tmp_path / DB_FILE).is_file()

    # The process left the database migrated.
    monkeypatch.setenv("COMPLAINTS_DATA_DIR", str(tmp_path))
    status, current = run_cli("db", "current")
    assert status == 0
    assert current.strip().endswith("up to date")


def test_run_on_an_existing_database(start_bot: StartBot, tmp_path: Path) -> None:
    bot = start_bot(bot_env(tmp_path, COMPLAINTS_LANDLORD__NAME="Riverside Homes"))
    bot.wait_for_line("Running.")
    assert bot.stop(signal.SIGINT) == 0, bot.err

    again = start_bot(bot_env(tmp_path, COMPLAINTS_LANDLORD__NAME="Riverside Homes"))
    again.wait_for_line("Running.")
    assert again.out.startswith("complaints-bot for Riverside Homes\n")
    assert "(up to date, " in banner_line(again.out, "database")
    assert again.stop(signal.SIGTERM) == 0, again.err
    assert "Stopped cleanly." in again.out


def test_run_with_a_telegram_token_never_shows_it(start_bot: StartBot, tmp_path: Path) -> None:
    bot = start_bot(
        bot_env(
            tmp_path,
            COMPLAINTS_TELEGRAM__TOKEN=f"123:{SECRET_TAIL}",
            COMPLAINTS_LOG_LEVEL="DEBUG",
            COMPLAINTS_LOG_JSON="true",
        )
    )
    bot.wait_for_line("Running.")
    telegram = banner_line(bot.out, "telegram")
    assert "configured" in telegram
    assert "off" not in telegram
    assert "polling via https://api.telegram.org" in telegram
    assert "off" in banner_line(bot.out, "email")

    assert bot.stop(signal.SIGINT) == 0, bot.err
    assert "Stopped cleanly." in bot.out
    assert bot.err, "the process should have logged something"
    for line in bot.err.splitlines():
        json.loads(line)
    assert SECRET_TAIL not in bot.out
    assert SECRET_TAIL not in bot.err


# --- chat ------------------------------------------------------------------------------------


def chat_process(tmp_path: Path, lines: list[str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *argv],
        input="".join(f"{line}\n" for line in lines),
        capture_output=True,
        text=True,
        env=bot_env(tmp_path),
        timeout=60,
        check=False,
    )


def test_chat_with_piped_input_logs_a_complaint(tmp_path: Path) -> None:
    done = chat_process(
        tmp_path,
        [
            "the repair man never came, third time I have reported this",
            "1",  # Yes, make a complaint
            "Flat 2, Rowan Court",
            "since September",
            "I want the boiler fixed",
            "for myself",  # an option's words work as well as its number
            "1",  # Nothing needed
            "Yes, that's right",
        ],
        "chat",
        "--as",
        "alex",
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("Bot: I'm sorry to hear that.")
    assert "  1. Yes, make a complaint\n  2. No, thanks\n" in out
    assert "Here is what I understood:" in out
    assert "Your reference is C-" in out
    assert "[staff notice] New complaint C-" in done.stderr  # the handover, shown as a preview
    assert "INFO" not in done.stderr  # the chat is not drowned in logs


def test_chat_as_two_residents_on_one_database(tmp_path: Path) -> None:
    first = chat_process(
        tmp_path,
        ["I want to complain", "Bins not collected", "Elm Road", "1", "Collect them"]
        + ["1", "1", "1"],
        "chat",
        "--as",
        "alex",
    )
    assert "Your reference is C-" in first.stdout, first.stdout + first.stderr
    again = chat_process(tmp_path, ["status"], "chat", "--as", "alex")
    assert "Bins not collected" in again.stdout
    other = chat_process(tmp_path, ["status"], "chat", "--as", "bob")
    assert "no complaints" in other.stdout
    assert "Bins" not in other.stdout


def test_run_with_chat_stops_when_the_chat_ends(tmp_path: Path) -> None:
    done = chat_process(tmp_path, ["hello", "/quit"], "run", "--chat", "--as", "alex")
    assert done.returncode == 0, done.stderr
    assert "terminal   chatting as alex" in done.stdout
    assert "Bot: Hello." in done.stdout
    assert "Stopped cleanly." in done.stdout
