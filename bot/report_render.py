"""Render a :class:`~core.reports.figures.Report` as Markdown, HTML, CSV or JSON.

The HTML report is one self-contained page: its styles are inline and its two charts
(complaints per month, responses within the Code's timescales per stage) are inline SVG drawn
here. Inline SVG was chosen over a plotting library because it is:

- **accessible**: each chart has a ``<title>`` and ``<desc>``, every bar carries its value as
  text, and the same numbers are in a table beside it, so screen readers lose nothing;
- **printable**: vector graphics print sharply and the page needs no script to draw them;
- **dependency-free**: no JavaScript charting library fetched from a network (board packs are
  often read offline or behind strict proxies) and no new package such as matplotlib, whose
  PNGs would be heavier, blurry when printed, and opaque to screen readers.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from html import escape
from typing import Final

from core.reports.figures import Cell, Figure, Report

FORMATS: Final = ("md", "html", "csv", "json")

_BAR_COLOUR: Final = "#1d5fa8"
_LATE_COLOUR: Final = "#c9d6e6"


def render(report: Report, fmt: str) -> str:
    """Return ``report`` rendered in ``fmt`` (one of :data:`FORMATS`).

    Raises:
        ValueError: an unknown format.
    """
    if fmt == "md":
        return to_markdown(report)
    if fmt == "html":
        return to_html(report)
    if fmt == "csv":
        return to_csv(report)
    if fmt == "json":
        return to_json(report)
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def _text(cell: Cell) -> str:
    if cell is None:
        return "–"
    return str(cell)


def _period(report: Report) -> str:
    return (
        f"Complaints received from {report.period_start.isoformat()} to "
        f"{report.period_end.isoformat()}; produced on {report.as_of.isoformat()}."
    )


# ====================================================================== Markdown


def to_markdown(report: Report) -> str:
    """Return the report as Markdown: one heading, definition and table per figure."""
    lines = [f"# {report.title}", "", _period(report), "", report.population, ""]
    for figure in report.figures:
        rule = f" ({figure.rule})" if figure.rule else ""
        lines += [f"## {figure.title}", "", f"*Definition{rule}:* {figure.definition}", ""]
        lines.append("| " + " | ".join(_md(c) for c in figure.columns) + " |")
        lines.append("|" + "|".join("---" for _ in figure.columns) + "|")
        lines += ["| " + " | ".join(_md(_text(c)) for c in row) + " |" for row in figure.rows]
        lines.append("")
    return "\n".join(lines)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# ====================================================================== CSV and JSON


def to_csv(report: Report) -> str:
    """Return every figure as long-format CSV: figure, row key, column, value, definition."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["figure", "row", "column", "value", "definition"])
    for figure in report.figures:
        for row in figure.rows:
            for column, cell in zip(figure.columns[1:], row[1:], strict=True):
                writer.writerow(
                    [figure.id, row[0], column, "" if cell is None else cell, figure.definition]
                )
    return buffer.getvalue()


def to_json(report: Report) -> str:
    """Return the report as one JSON object, definitions included."""
    return json.dumps(report.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"


# ====================================================================== HTML and SVG

_STYLE: Final = """
body{font-family:system-ui,-apple-system,"Segoe UI",Arial,sans-serif;max-width:60rem;
margin:2rem auto;padding:0 1rem;color:#1b1b1b;line-height:1.45}
h1{font-size:1.8rem}h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5rem 0 1rem}th,td{border:1px solid #bbb;
padding:.25rem .6rem;text-align:right}th:first-child,td:first-child{text-align:left}
th{background:#eef2f7}.definition{color:#333;font-size:.95rem}
figure{margin:1rem 0}svg text{font-family:inherit;font-size:12px;fill:#1b1b1b}
@media print{h2{break-after:avoid}table,figure{break-inside:avoid}}
"""


def to_html(report: Report) -> str:
    """Return the report as one self-contained HTML page with inline SVG charts."""
    parts = [
        "<!doctype html>",
        '<html lang="en-GB"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width,initial-scale=1">',
        f"<title>{escape(report.title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(report.title)}</h1>",
        f"<p>{escape(_period(report))}</p>",
        f'<p class="definition">{escape(report.population)}</p>',
    ]
    for figure in report.figures:
        parts.append(f'<section id="{escape(figure.id)}"><h2>{escape(figure.title)}</h2>')
        rule = f" ({escape(figure.rule)})" if figure.rule else ""
        parts.append(
            f'<p class="definition"><strong>Definition{rule}:</strong> '
            f"{escape(figure.definition)}</p>"
        )
        chart = _chart_for(figure)
        if chart:
            parts.append(f"<figure>{chart}</figure>")
        parts.append(_table(figure))
        parts.append("</section>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _table(figure: Figure) -> str:
    head = "".join(f'<th scope="col">{escape(c)}</th>' for c in figure.columns)
    body = "".join(
        "<tr>"
        + "".join(
            (
                f'<th scope="row">{escape(_text(c))}</th>'
                if i == 0
                else f"<td>{escape(_text(c))}</td>"
            )
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in figure.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _chart_for(figure: Figure) -> str | None:
    if figure.id == "received_by_month":
        rows = [r for r in figure.rows if r[0] != "total"]
        return bar_chart(
            chart_id="chart-month",
            title="Complaints received per month",
            labels=[str(r[0]) for r in rows],
            values=[float(r[1] or 0) for r in rows],
            unit="",
        )
    if figure.id == "timeliness":
        return bar_chart(
            chart_id="chart-timeliness",
            title="Responses within the Code's timescales (%)",
            labels=[str(r[0]) for r in figure.rows],
            values=[float(r[3] or 0) for r in figure.rows],
            unit="%",
            maximum=100.0,
        )
    return None


def bar_chart(
    *,
    chart_id: str,
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    unit: str,
    maximum: float | None = None,
) -> str:
    """Return a horizontal bar chart as an accessible inline ``<svg>`` element.

    Horizontal bars leave room for long labels (months, "stage 2 (with extension)") and read
    well on a phone and on paper. Each bar's value is printed beside it.
    """
    label_width, bar_width, row_height, pad = 190, 360, 22, 6
    top = maximum or max(values, default=0.0) or 1.0
    height = pad * 2 + row_height * len(values)
    width = label_width + bar_width + 70
    description = "; ".join(
        f"{label}: {_number(v)}{unit}" for label, v in zip(labels, values, strict=True)
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d">',
        f'<title id="{chart_id}-t">{escape(title)}</title>'
        f'<desc id="{chart_id}-d">{escape(description)}</desc>',
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = pad + i * row_height
        length = bar_width * value / top
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{bar_width}" height="{row_height - 6}" '
            f'fill="{_LATE_COLOUR}"/>'
            f'<rect x="{label_width}" y="{y + 3}" width="{length:.1f}" '
            f'height="{row_height - 6}" fill="{_BAR_COLOUR}"/>'
            f'<text x="{label_width + bar_width + 6}" y="{y + 15}">{_number(value)}{unit}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:.1f}"
