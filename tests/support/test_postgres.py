"""Tests for the private PostgreSQL cluster helper."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from pathlib import Path

import asyncpg
import pytest

from tests.support.postgres import PG_BIN_ENV, PostgresServer, find_pg_bin


@pytest.fixture(scope="module")
def pg_bin() -> Path:
    bin_dir = find_pg_bin()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries not found; CI must install postgresql")
        pytest.skip("PostgreSQL binaries not found")
    return bin_dir


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_find_pg_bin_honours_env_var(
    pg_bin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PG_BIN_ENV, str(pg_bin))
    assert find_pg_bin() == pg_bin
    monkeypatch.setenv(PG_BIN_ENV, str(tmp_path))
    assert find_pg_bin() is None


async def test_server_lifecycle(pg_bin: Path) -> None:
    server = PostgresServer(pg_bin)
    started = time.monotonic()
    with server:
        startup = time.monotonic() - started
        assert server.data_dir is not None
        data_dir = server.data_dir
        assert _port_open(server.port)
        assert server.url() == f"postgresql+asyncpg://postgres@127.0.0.1:{server.port}/postgres"
        assert (
            server.url("x", driver="postgresql")
            == f"postgresql://postgres@127.0.0.1:{server.port}/x"
        )

        conn = await asyncpg.connect(host=server.host, port=server.port, user="postgres")
        try:
            assert await conn.fetchval("SELECT 1") == 1
            assert await conn.fetchval("SHOW max_connections") == "200"
        finally:
            await conn.close()

        await server.create_database("tpl")
        conn = await asyncpg.connect(server.url("tpl", driver="postgresql"))
        try:
            await conn.execute(
                "CREATE TABLE things (id int PRIMARY KEY); INSERT INTO things VALUES (7)"
            )
        finally:
            await conn.close()

        url = await server.create_database("copy", template="tpl")
        assert url == server.url("copy")
        conn = await asyncpg.connect(server.url("copy", driver="postgresql"))
        try:
            assert await conn.fetchval("SELECT id FROM things") == 7
        finally:
            await conn.close()

        # Dropping works even while someone is still connected.
        lingering = await asyncpg.connect(server.url("copy", driver="postgresql"))
        await server.drop_database("copy")
        await lingering.close()
        await server.drop_database("copy")  # IF EXISTS: no error the second time
        conn = await asyncpg.connect(host=server.host, port=server.port, user="postgres")
        try:
            names = {r["datname"] for r in await conn.fetch("SELECT datname FROM pg_database")}
        finally:
            await conn.close()
        assert "copy" not in names
        assert "tpl" in names

        port = server.port
        started = time.monotonic()
    shutdown = time.monotonic() - started
    print(f"start {startup:.2f}s, stop {shutdown:.2f}s")  # noqa: T201 - visible with -s
    assert not _port_open(port)
    assert not data_dir.exists()
    server.stop()  # idempotent


def test_start_failure_reports_output() -> None:
    # Not under tmp_path: as root the tools run as ``nobody``, who cannot read pytest's tmp dirs.
    fake = Path(tempfile.mkdtemp(prefix="cbpg-fake-"))
    fake.chmod(0o755)
    try:
        for tool in ("initdb", "pg_ctl"):
            script = fake / tool
            script.write_text("#!/bin/sh\necho 'boom: no cluster for you' >&2\nexit 1\n")
            script.chmod(0o755)
        server = PostgresServer(fake)
        with pytest.raises(RuntimeError, match="boom: no cluster for you"):
            server.start()
        assert server.data_dir is not None
        assert not server.data_dir.exists()
        server.stop()
    finally:
        shutil.rmtree(fake)


def test_start_retries_when_port_is_taken(pg_bin: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support import postgres

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        ports = iter([taken])
        real_free_port = postgres._free_port
        monkeypatch.setattr(postgres, "_free_port", lambda: next(ports, None) or real_free_port())
        with PostgresServer(pg_bin) as server:
            assert server.port != taken
            assert _port_open(server.port)
