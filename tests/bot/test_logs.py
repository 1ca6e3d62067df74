"""Logging: secrets never written, JSON lines for collectors, and the process-wide set-up."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.logs import REDACTED, JsonFormatter, RedactSecrets, TextFormatter, configure_logging

SECRET = "123456:secret-token-value"
TAIL = "secret-token-value"
PASSWORD = "hunter2-db-password"
NOISY = ("aiosqlite", "asyncio", "alembic.runtime.migration")


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Undo what configure_logging does to the root logger, so other tests are not affected."""
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", *NOISY)}
    yield
    for handler in list(root.handlers):
        if any(isinstance(f, RedactSecrets) for f in handler.filters):
            root.removeHandler(handler)
            handler.close()
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


class Collecting(logging.Handler):
    """Keeps the records it is given (after its filters ran)."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def isolated_logger() -> logging.Logger:
    logger = logging.getLogger(f"tests.logs.{uuid.uuid4().hex}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger


@pytest.fixture
def collected() -> Iterator[tuple[logging.Logger, Collecting]]:
    """A logger whose handler redacts SECRET, TAIL and PASSWORD and keeps the records."""
    logger = isolated_logger()
    handler = Collecting()
    handler.addFilter(RedactSecrets([SECRET, TAIL, PASSWORD]))
    logger.addHandler(handler)
    yield logger, handler
    logger.removeHandler(handler)


def fail_with_secret() -> None:
    try:
        raise ValueError(f"inner problem with {PASSWORD}")
    except ValueError as inner:
        raise RuntimeError(f"could not connect with {SECRET}") from inner


def no_secrets_in(text: str) -> None:
    for secret in (SECRET, TAIL, PASSWORD, "hunter2"):
        assert secret not in text


# --- RedactSecrets ---------------------------------------------------------------------------


def test_redacts_the_message(collected: tuple[logging.Logger, Collecting]) -> None:
    logger, handler = collected
    logger.warning(f"calling https://api.telegram.org/bot{SECRET}/getMe")
    (record,) = handler.records
    assert record.getMessage() == f"calling https://api.telegram.org/bot{REDACTED}/getMe"


@pytest.mark.parametrize(
    ("message", "args"),
    [
        ("token %s", (SECRET,)),
        ("token %r then %s", (SECRET, PASSWORD)),
        ("settings %s", ({"token": SECRET},)),
        ("%(token)s at %(url)s", ({"token": TAIL, "url": f"postgresql://u:{PASSWORD}@h/db"},)),
    ],
)
def test_redacts_percent_args(
    collected: tuple[logging.Logger, Collecting], message: str, args: tuple[object, ...]
) -> None:
    logger, handler = collected
    logger.info(message, *args)
    (record,) = handler.records
    text = record.getMessage()
    no_secrets_in(text)
    assert REDACTED in text
    assert record.args is None  # nothing left to format the secret back in


def test_redacts_string_extra_fields(collected: tuple[logging.Logger, Collecting]) -> None:
    logger, handler = collected
    logger.info(
        "connecting",
        extra={"url": f"postgresql://complaints:{PASSWORD}@db/complaints", "attempt": 3},
    )
    (record,) = handler.records
    assert record.__dict__["url"] == f"postgresql://complaints:{REDACTED}@db/complaints"
    assert record.__dict__["attempt"] == 3
    assert record.getMessage() == "connecting"


def test_redacts_the_traceback(collected: tuple[logging.Logger, Collecting]) -> None:
    logger, handler = collected
    try:
        fail_with_secret()
    except RuntimeError:
        logger.exception("start-up failed")
    (record,) = handler.records
    assert record.exc_info is None  # the raw exception, which holds the secret, is dropped
    assert record.exc_text is not None
    assert "Traceback" in record.exc_text
    assert "RuntimeError: could not connect with " + REDACTED in record.exc_text
    assert "ValueError: inner problem with " + REDACTED in record.exc_text
    no_secrets_in(record.exc_text)
    for formatter in (TextFormatter(), JsonFormatter()):
        written = formatter.format(record)
        assert "RuntimeError" in written
        no_secrets_in(written)


def test_the_longest_secret_is_redacted_first() -> None:
    # The token's tail is a secret too; replacing it first would leave "123456:" + REDACTED.
    redact = RedactSecrets([TAIL, SECRET])
    assert redact.redact(f"a {SECRET} b {TAIL} c") == f"a {REDACTED} b {REDACTED} c"


def test_without_secrets_records_pass_unchanged() -> None:
    logger = isolated_logger()
    handler = Collecting()
    handler.addFilter(RedactSecrets([]))
    logger.addHandler(handler)
    logger.info("count %d", 3, extra={"note": "plain"})
    (record,) = handler.records
    assert record.getMessage() == "count 3"
    assert record.__dict__["note"] == "plain"


@pytest.mark.parametrize("formatter", [JsonFormatter(), TextFormatter()], ids=["json", "text"])
def test_redacts_non_string_extra_fields(
    collected: tuple[logging.Logger, Collecting], formatter: logging.Formatter
) -> None:
    logger, handler = collected
    logger.error("tick failed", extra={"error": RuntimeError(f"bad token {SECRET}")})
    (record,) = handler.records
    no_secrets_in(formatter.format(record))


def test_a_bad_format_string_does_not_raise_into_the_caller() -> None:
    logger = isolated_logger()
    handler = logging.StreamHandler(io.StringIO())
    handler.addFilter(RedactSecrets([SECRET]))
    logger.addHandler(handler)
    # Without the filter, logging reports this on stderr ("--- Logging error ---") and the
    # program goes on; a mistake in a log call must not crash the bot.
    logger.info("%d complaints", "many")
    logger.info("still logging")
    assert "still logging" in handler.stream.getvalue()


# --- JsonFormatter ---------------------------------------------------------------------------


def test_json_formatter_writes_one_object_per_line() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = isolated_logger()
    logger.addHandler(handler)
    logger.info("complaint %s received", "C-7K3Q-9XFD", extra={"channel": "telegram"})
    logger.warning("two\nlines", extra={"due_on": datetime(2027, 1, 4, tzinfo=UTC)})
    try:
        raise KeyError("missing")
    except KeyError:
        logger.exception("failed", extra={"path": Path("/srv/data")})

    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    first, second, third = (json.loads(line) for line in lines)

    assert first["message"] == "complaint C-7K3Q-9XFD received"
    assert first["level"] == "INFO"
    assert first["logger"] == logger.name
    assert first["channel"] == "telegram"
    stamp = datetime.fromisoformat(first["time"])
    assert stamp.utcoffset() is not None
    assert abs((datetime.now(UTC) - stamp).total_seconds()) < 60

    assert second["message"] == "two\nlines"
    assert second["level"] == "WARNING"
    assert second["due_on"] == "2027-01-04 00:00:00+00:00"

    assert third["path"] == "/srv/data"
    assert third["exception"].startswith("Traceback")
    assert "KeyError: 'missing'" in third["exception"]


def test_json_formatter_leaves_out_the_standard_attributes() -> None:
    logger = isolated_logger()
    handler = Collecting()
    logger.addHandler(handler)
    logger.info("hello", extra={"reference": "C-7K3Q-9XFD"})
    entry = json.loads(JsonFormatter().format(handler.records[0]))
    assert set(entry) == {"time", "level", "logger", "message", "reference"}


def test_text_formatter_appends_extras() -> None:
    logger = isolated_logger()
    handler = Collecting()
    logger.addHandler(handler)
    logger.info("started", extra={"database": "sqlite"})
    line = TextFormatter().format(handler.records[0])
    assert line.endswith(f"INFO    {logger.name}: started database=sqlite")


# --- configure_logging -----------------------------------------------------------------------


@pytest.mark.parametrize("json_lines", [True, False], ids=["json", "text"])
def test_configure_logging_writes_no_secret_to_stderr(
    capsys: pytest.CaptureFixture[str], json_lines: bool
) -> None:
    configure_logging(level="INFO", json_lines=json_lines, secrets=[SECRET, TAIL, PASSWORD])
    log = logging.getLogger("tests.configure")
    log.info("token %s", SECRET)
    log.info(f"tail {TAIL}")
    log.warning("database", extra={"url": f"postgresql://u:{PASSWORD}@db/x"})
    try:
        fail_with_secret()
    except RuntimeError:
        log.exception("crashed")

    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err
    no_secrets_in(err)
    assert err.count(REDACTED) >= 5
    assert "RuntimeError" in err
    if json_lines:
        entries = [json.loads(line) for line in err.splitlines()]
        assert [e["message"] for e in entries] == [
            f"token {REDACTED}",
            f"tail {REDACTED}",
            "database",
            "crashed",
        ]
        assert entries[2]["url"] == f"postgresql://u:{REDACTED}@db/x"


def test_configure_logging_sets_the_level_and_replaces_handlers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(level="WARNING", json_lines=True)
    configure_logging(level="WARNING", json_lines=True)  # again: still one handler
    log = logging.getLogger("tests.configure")
    log.info("not shown")
    log.warning("shown")
    lines = capsys.readouterr().err.splitlines()
    assert [json.loads(line)["message"] for line in lines] == ["shown"]
    assert len(logging.getLogger().handlers) == 1
    for name in NOISY:
        assert logging.getLogger(name).level == logging.WARNING
