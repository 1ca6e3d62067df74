"""Shared fixtures: a clock, the deadline rules, and a store on SQLite and on PostgreSQL.

PostgreSQL runs as a private cluster on 127.0.0.1 started here when its binaries are installed
(CI always installs them; locally the PostgreSQL cases are skipped without them). The schema
is migrated once into a template database (or a template SQLite file) and each test gets a
fresh copy, so tests are isolated and fast.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from core.calendar import WorkingDayCalendar
from core.clock import LONDON, FrozenClock
from core.complaints.service import ComplaintService
from core.complaints.service_requests import ServiceRequestService
from core.db.engine import sqlite_url
from core.db.store import Store
from core.deadlines import DeadlineRules, Timescales
from core.outbox.service import OutboxService
from core.residents.service import ResidentService
from tests.support.postgres import PostgresServer, find_pg_bin

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]

# Every bot started by a test (in process or as a child process) serves its health endpoint on
# a free port, so bots running side by side never fight over the default 8090.
os.environ.setdefault("COMPLAINTS_HEALTH__PORT", "0")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A private PostgreSQL server for the whole run."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries not found; CI must install postgresql")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    server = PostgresServer(bin_dir)
    server.start()
    yield server
    server.stop()


async def _migrate(url: str) -> None:
    store = Store.from_url(url)
    try:
        await store.migrate()
    finally:
        await store.close()


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    """A migrated database that each PostgreSQL test copies."""
    name = "complaints_template"
    url = asyncio.run(postgres_server.create_database(name))
    asyncio.run(_migrate(url))
    return name


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each SQLite test copies."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    asyncio.run(_migrate(sqlite_url(path)))
    return path


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, migrated database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "complaints.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield sqlite_url(path)
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    template: str = request.getfixturevalue("postgres_template")
    name = f"test_{uuid.uuid4().hex[:12]}"
    url = asyncio.run(server.create_database(name, template=template))
    yield url
    asyncio.run(server.drop_database(name))


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """A store over a fresh database."""
    store = Store.from_url(database_url)
    yield store
    await store.close()


START = datetime(2026, 12, 23, 10, 0, tzinfo=LONDON)
"""Wednesday 23 December 2026, the worked example of CODE.md."""


@pytest.fixture
def clock() -> FrozenClock:
    """A clock at 10:00 on Wednesday 23 December 2026 (London)."""
    return FrozenClock(START)


@pytest.fixture
def rules() -> DeadlineRules:
    """The Code's maximum timescales on England's calendar."""
    return DeadlineRules(WorkingDayCalendar(), Timescales())


@dataclass(frozen=True)
class Services:
    """The core services over one clock."""

    complaints: ComplaintService
    residents: ResidentService
    service_requests: ServiceRequestService
    outbox: OutboxService


@pytest.fixture
def services(clock: FrozenClock, rules: DeadlineRules) -> Services:
    """The core services, sharing the test clock."""
    return Services(
        complaints=ComplaintService(clock=clock, rules=rules),
        residents=ResidentService(clock=clock),
        service_requests=ServiceRequestService(clock=clock),
        outbox=OutboxService(clock=clock),
    )
