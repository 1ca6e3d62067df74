"""Imports run one way: ``bot → channels → conversations → core``.

``core`` is the Complaint Handling Code and its records; ``conversations`` is what the bot says,
channel-neutral; ``channels`` adapts Telegram and email; ``bot`` builds and runs it all. A
package may import only the packages to its right, so the engine can be used, tested and
reasoned about without a chat library, a network client or the process around it.

Two guards (like httpx's ``tests/test_exported_members.py``): importing every module of ``core``
and ``conversations`` in a fresh interpreter loads no channel library and no outer package; and
no source file imports against the direction of the arrow, even inside a function.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["core", "conversations", "channels", "bot"]
"""Innermost first: each package may import only the ones before it."""

CHANNEL_LIBRARIES = ["aiogram", "aioimaplib", "aiosmtplib", "aiohttp", "aiosmtpd"]

IMPORT_EVERYTHING = """
import importlib, json, pkgutil, sys

imported = []
for name in ("core", "conversations"):
    package = importlib.import_module(name)
    imported.append(name)
    for module in pkgutil.walk_packages(package.__path__, prefix=name + "."):
        if module.name.startswith("core.db.migrations"):
            continue  # Alembic scripts, run by Alembic, not importable on their own
        importlib.import_module(module.name)
        imported.append(module.name)
print(json.dumps({
    "imported": imported,
    "loaded": sorted({m.partition(".")[0] for m in sys.modules}),
}))
"""


def test_the_engine_loads_no_channel_library_or_outer_package() -> None:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERYTHING],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    # The walk really happened: a module from deep inside each package was imported.
    assert "core.db.store" in report["imported"]
    assert "core.references" in report["imported"]
    assert "conversations" in report["imported"]
    assert not any(m.startswith("core.db.migrations") for m in report["imported"])

    loaded = set(report["loaded"])
    assert "core" in loaded
    forbidden = {*CHANNEL_LIBRARIES, "channels", "bot"}
    assert sorted(loaded & forbidden) == []


def imports_in(source: str, module: str, *, is_package: bool) -> list[tuple[int, str]]:
    """Return ``(line, absolute module name)`` for every import in ``source``, wherever it is.

    Args:
        source: Python source code.
        module: the dotted name of the module the source belongs to.
        is_package: whether the source is a package's ``__init__.py``.
    """
    package = module.split(".") if is_package else module.split(".")[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                found.append((node.lineno, node.module or ""))
            else:  # from . import x, from ..y import z
                base = package[: len(package) - (node.level - 1)]
                found.append((node.lineno, ".".join([*base, *filter(None, [node.module])])))
    return found


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Return ``(line, absolute module name)`` for every import in the file at ``path``."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return imports_in(path.read_text(encoding="utf-8"), ".".join(parts), is_package=is_package)


def python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", LAYERS)
def test_imports_only_point_inwards(package: str) -> None:
    outer = LAYERS[LAYERS.index(package) + 1 :]
    forbidden = set(outer)
    if package in {"core", "conversations"}:
        forbidden |= set(CHANNEL_LIBRARIES)
    files = python_files(package)
    assert files, f"no source files under {package}/"
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in files
        for line, module in imported_modules(path)
        if module.partition(".")[0] in forbidden
    ]
    assert wrong == []


IMPORTS_OF_EVERY_KIND = """
import os
import sqlalchemy.orm, aiogram as tg
from core.errors import ConfigurationError
from . import sibling
from .models import Complaint
from .. import errors
from ..db.store import Store

def later():
    from bot import app
"""


@pytest.mark.parametrize(
    ("module", "is_package", "expected"),
    [
        (
            "core.complaints.service",
            False,
            [
                "os",
                "sqlalchemy.orm",
                "aiogram",
                "core.errors",
                "core.complaints",
                "core.complaints.models",
                "core",
                "core.db.store",
                "bot",
            ],
        ),
        (
            "core.complaints",
            True,
            [
                "os",
                "sqlalchemy.orm",
                "aiogram",
                "core.errors",
                "core.complaints",
                "core.complaints.models",
                "core",
                "core.db.store",
                "bot",
            ],
        ),
        (
            "conversations.flows.start",
            False,
            [
                "os",
                "sqlalchemy.orm",
                "aiogram",
                "core.errors",
                "conversations.flows",
                "conversations.flows.models",
                "conversations",
                "conversations.db.store",
                "bot",
            ],
        ),
    ],
)
def test_the_static_check_sees_every_kind_of_import(
    module: str, is_package: bool, expected: list[str]
) -> None:
    """The checker itself: plain, from-, relative and function-local imports are all seen."""
    found = imports_in(IMPORTS_OF_EVERY_KIND, module, is_package=is_package)
    assert sorted(name for _, name in found) == sorted(expected)


def test_the_static_check_reads_the_real_tree() -> None:
    cli = {name for _, name in imported_modules(ROOT / "bot" / "cli.py")}
    assert "core.db.engine" in cli  # imported inside a function
    assert "bot.app" in cli
