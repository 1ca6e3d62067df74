"""``complaints-bot report``: every format carries the same figures and their definitions."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest

from bot.cli import main
from bot.logs import RedactSecrets
from core.db.engine import sqlite_url
from core.db.store import Store
from tests.support.history import PERIOD, History, expected, generate_history
from tests.support.history import insert_history as insert

NOISY = ("aiosqlite", "asyncio", "alembic.runtime.migration")
FROM, TO = (d.isoformat() for d in PERIOD)


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


@pytest.fixture
def history(tmp_path: Path) -> History:
    """300 complaints in the database the command reads."""
    generated = generate_history(300, seed=3, service_requests=40)

    async def go() -> None:
        data = tmp_path / "data"
        data.mkdir(exist_ok=True)
        store = Store.from_url(sqlite_url(data / "complaints.sqlite3"))
        try:
            await store.migrate()
            await insert(store, generated)
        finally:
            await store.close()

    asyncio.run(go())
    return generated


def report(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(["report", *argv], out=out)
    return status, out.getvalue()


def test_json_has_every_figure_with_its_definition(history: History) -> None:
    status, text = report("--from", FROM, "--to", TO, "--format", "json")
    assert status == 0
    data = json.loads(text)
    want = expected(history, *PERIOD)
    by_id = {f["id"]: f for f in data["figures"]}
    assert all(f["definition"] for f in data["figures"])
    timeliness = {row[0]: row for row in by_id["timeliness"]["rows"]}
    assert [timeliness[k][1] for k in timeliness] == [
        want["timeliness", k, "responses"] for k in timeliness
    ]
    assert set(timeliness) == {
        "stage 1",
        "stage 1 (with extension)",
        "stage 2",
        "stage 2 (with extension)",
    }


def test_csv_rows_match_the_known_answers(history: History) -> None:
    status, text = report("--from", FROM, "--to", TO, "--format", "csv")
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(text)))
    cells = {(r["figure"], r["row"], r["column"]): r["value"] for r in rows}
    for key, value in expected(history, *PERIOD).items():
        if isinstance(value, int | float):
            assert float(cells[key]) == value, key
        else:
            assert cells[key] == ("" if value is None else value), key
    assert all(r["definition"] for r in rows)


def test_html_is_one_self_contained_page_with_charts(history: History, tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    status, text = report("--from", FROM, "--to", TO, "--format", "html", "--out", str(target))
    assert status == 0
    assert str(target) in text
    page = target.read_text(encoding="utf-8")
    assert page.count("<svg") == 2
    assert "<title" in page and "<desc" in page  # the charts are described for screen readers
    # Nothing is fetched: no scripts, no external style sheets, images or fonts.
    assert not re.search(r"<script|<link|<img|src=|@import|url\(", page)
    assert "Definition" in page
    for svg in re.findall(r"<svg.*?</svg>", page, re.DOTALL):
        chart = ElementTree.fromstring(svg)  # well-formed XML, so browsers draw it as SVG
        assert chart.get("role") == "img"


def test_markdown_states_each_definition(history: History) -> None:
    status, text = report("--from", FROM, "--to", TO)
    assert status == 0
    assert text.startswith("# Complaints performance report")
    assert text.count("*Definition") == text.count("\n## ")


def test_self_assessment_answers_the_measurable_questions(history: History) -> None:
    status, text = report("self-assessment", "--year", "2025", "--format", "json")
    assert status == 0
    data = json.loads(text)
    assert data["period_start"] == "2025-04-01"
    assert data["period_end"] == "2026-03-31"
    form = {row[0]: row[1] for row in data["figures"][0]["rows"]}
    want = expected(history, *PERIOD)
    assert form["How many cases did we refuse to escalate?"] == want["refusals", "total", "stage 2"]
    stage1 = form["What proportion of complaint responses are sent within Code timescales? Stage 1"]
    assert stage1.startswith(
        f"{want['timeliness', 'stage 1', 'within timescale']} out of "
        f"{want['timeliness', 'stage 1', 'responses']}"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ("--from", "2026-03-01", "--to", "2026-01-01"),
        ("--to", "2026-01-01"),
    ],
)
def test_bad_periods_are_usage_errors(argv: tuple[str, ...]) -> None:
    assert report(*argv)[0] == 2


def test_a_date_that_is_not_a_date_is_refused() -> None:
    with pytest.raises(SystemExit) as raised:
        report("--from", "1 April", "--to", TO)
    assert raised.value.code == 2
