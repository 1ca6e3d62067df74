"""The health and metrics endpoint of ``complaints-bot run``, over a real HTTP client."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import Application
from core.errors import ConfigurationError
from core.settings import Settings, load_settings
from tests.support.fake_telegram import FakeTelegram

RESIDENT = 5001
BOUND = 20.0  # seconds any one test may take
SAMPLE = re.compile(r'^([a-z_]+)(\{channel="[a-z_]+"\})? (\d+)$')
"""One sample line: ``name{labels} value`` (the only label this bot uses is ``channel``)."""


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


def settings_for(
    database_url: str, tmp_path: Path, *, health: dict[str, Any] | None = None, **extra: Any
) -> Settings:
    return load_settings(
        database_url=database_url,
        data_dir=tmp_path,
        scheduler={"interval_seconds": 0.5},
        health={"port": 0, **(health or {})},
        **extra,
    )


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[tuple[Application, str]]:
    """Run the bot as ``complaints-bot run`` does; yield it and its health endpoint's URL."""
    app = Application(settings)
    stop = asyncio.Event()
    out = io.StringIO()
    task = asyncio.create_task(app.run(stop, out=out))
    try:
        while app.health is None or app.health.port is None:
            assert not task.done(), out.getvalue()
            await asyncio.sleep(0.01)
        url = app.health.url
        assert f"{url}/healthz" in out.getvalue()  # the banner names it
        yield app, url
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)
        await app.aclose()


async def get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, response.headers["Content-Type"], await response.text()


def samples(text: str) -> dict[str, int]:
    """Parse the Prometheus text format strictly: every line a comment or a sample."""
    assert text.endswith("\n")
    found: dict[str, int] = {}
    typed: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            name, kind = line.split()[2:]
            assert kind in {"counter", "gauge"}
            typed.add(name)
            continue
        if line.startswith("# HELP "):
            continue
        match = SAMPLE.match(line)
        assert match is not None, f"not a sample: {line!r}"
        assert match[1] in typed, f"{match[1]} has no # TYPE before it"
        found[match[1] + (match[2] or "")] = int(match[3])
    return found


async def test_healthz_reports_the_database_and_channels(
    fake: FakeTelegram, database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(
        database_url, tmp_path, telegram={"token": fake.token, "api_url": fake.base_url}
    )
    async with asyncio.timeout(BOUND), running(settings) as (app, url):
        await fake.wait_for(lambda: app.channel_states.get("telegram") == "running", timeout=5)
        status, content_type, body = await get(f"{url}/healthz")
    assert status == 200
    assert content_type.startswith("application/json")
    assert body == '{"status": "ok", "database": "ok", "channels": {"telegram": "running"}}'


async def test_metrics_count_messages_and_read_gauges_from_the_database(
    fake: FakeTelegram, database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(
        database_url, tmp_path, telegram={"token": fake.token, "api_url": fake.base_url}
    )
    async with asyncio.timeout(BOUND), running(settings) as (app, url):
        status, content_type, body = await get(f"{url}/metrics")
        assert status == 200
        assert content_type == "text/plain; version=0.0.4; charset=utf-8"
        before = samples(body)
        assert before == {
            'complaints_messages_in_total{channel="telegram"}': 0,
            'complaints_messages_out_total{channel="telegram"}': 0,
            'complaints_send_failures_total{channel="telegram"}': 0,
            "complaints_database_up": 1,
            "complaints_outbox_depth": 0,
            "complaints_dead_letters": 0,
            "complaints_overdue_complaints": 0,
        }

        fake.user_message(chat_id=RESIDENT, text="the repair man never came, third time now")
        await fake.wait_for(lambda: len(fake.sent_messages(RESIDENT)) >= 1, timeout=10)
        async with app.store.unit_of_work() as uow:  # for a channel nobody runs: it waits
            await app.outbox.enqueue(
                uow,
                channel="email",
                address="alex@example.org",
                kind="reply",
                payload={},
                idempotency_key="health-test-1",
            )
        after = samples((await get(f"{url}/metrics"))[2])
    assert after['complaints_messages_in_total{channel="telegram"}'] == 1
    assert after['complaints_messages_out_total{channel="telegram"}'] >= 1
    assert after['complaints_send_failures_total{channel="telegram"}'] == 0
    assert after["complaints_outbox_depth"] == 1


async def test_healthz_is_503_when_the_database_is_gone(tmp_path: Path) -> None:
    path = tmp_path / "complaints.sqlite3"
    settings = settings_for(f"sqlite+aiosqlite:///{path}", tmp_path)
    async with asyncio.timeout(BOUND), running(settings) as (app, url):
        assert (await get(f"{url}/healthz"))[0] == 200
        await app.store.close()  # drop the pooled connections, so the next one opens the file
        path.write_bytes(b"this is not a database" * 100)
        status, _, body = await get(f"{url}/healthz")
        metrics = samples((await get(f"{url}/metrics"))[2])
    assert status == 503
    assert body == '{"status": "unavailable", "database": "unavailable", "channels": {}}'
    assert metrics["complaints_database_up"] == 0
    assert "complaints_outbox_depth" not in metrics


async def test_a_port_in_use_is_a_settings_error(tmp_path: Path) -> None:
    blocker = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = blocker.sockets[0].getsockname()[1]
    path = tmp_path / "complaints.sqlite3"
    app = Application(settings_for(f"sqlite+aiosqlite:///{path}", tmp_path, health={"port": port}))
    try:
        with pytest.raises(ConfigurationError, match="COMPLAINTS_HEALTH__PORT"):
            await asyncio.wait_for(app.run(asyncio.Event(), out=io.StringIO()), timeout=BOUND)
    finally:
        blocker.close()
        await blocker.wait_closed()
        await app.aclose()


async def test_the_endpoint_can_be_turned_off(tmp_path: Path) -> None:
    path = tmp_path / "complaints.sqlite3"
    app = Application(
        settings_for(f"sqlite+aiosqlite:///{path}", tmp_path, health={"enabled": False})
    )
    stop = asyncio.Event()
    out = io.StringIO()
    task = asyncio.create_task(app.run(stop, out=out))
    try:
        while "Running." not in out.getvalue():
            await asyncio.sleep(0.01)
        assert app.health is None
        assert "health" not in out.getvalue()
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)
        await app.aclose()
