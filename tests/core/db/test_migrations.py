"""Migrations: they build exactly the schema the models describe, and re-running is harmless."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from core.db.engine import current_revision, head_revision
from core.db.store import Store
from core.db.tables import Base


async def test_database_is_at_head(store: Store) -> None:
    assert await current_revision(store.engine) == head_revision()


async def test_migrations_match_the_models(store: Store) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with store.engine.connect() as connection:
        diff = await connection.run_sync(differences)
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


async def test_upgrade_twice_changes_nothing(store: Store) -> None:
    before, after = await store.migrate()
    assert before == after == head_revision()
