"""Alembic environment: runs on a connection handed in by ``core.db.engine.upgrade``.

It also works from the ``alembic`` command line with ``-x url=...`` for maintainers writing a
new migration (``alembic -c /dev/null`` is not needed: see CONTRIBUTING.md).
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

from core.db.engine import create_engine
from core.db.tables import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("give the database with: -x url=sqlite+aiosqlite:///path")
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    given = config.attributes.get("connection")
    if given is not None:
        _run(given)
    else:
        asyncio.run(_run_online())
