"""The store: one engine, and units of work that commit all their changes together."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.db import engine as engines
from core.db.repositories import (
    ComplaintRepository,
    ConversationRepository,
    DeadLetterRepository,
    EventRepository,
    InboxRepository,
    OutboxRepository,
    ReceiptRepository,
    ReportRepository,
    ResidentRepository,
    ServiceRequestRepository,
)
from core.errors import DuplicateError, StorageError


@dataclass(frozen=True, slots=True)
class UnitOfWork:
    """The repositories of one transaction. Everything done through them commits together."""

    session: AsyncSession
    residents: ResidentRepository
    complaints: ComplaintRepository
    service_requests: ServiceRequestRepository
    events: EventRepository
    outbox: OutboxRepository
    receipts: ReceiptRepository
    dead_letters: DeadLetterRepository
    conversations: ConversationRepository
    inbox: InboxRepository
    reports: ReportRepository

    @classmethod
    def over(cls, session: AsyncSession) -> UnitOfWork:
        """Build the repositories over one session."""
        return cls(
            session=session,
            residents=ResidentRepository(session),
            complaints=ComplaintRepository(session),
            service_requests=ServiceRequestRepository(session),
            events=EventRepository(session),
            outbox=OutboxRepository(session),
            receipts=ReceiptRepository(session),
            dead_letters=DeadLetterRepository(session),
            conversations=ConversationRepository(session),
            inbox=InboxRepository(session),
            reports=ReportRepository(session),
        )


class Store:
    """Owns the engine; hands out units of work.

    Args:
        engine: an engine made by :func:`core.db.engine.create_engine`.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        # SQLite has one writer at a time. Writers of this process queue here, in order,
        # instead of in SQLite's busy handler, which sleeps in growing steps while it waits.
        self._sqlite_writer = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    @classmethod
    def from_url(cls, url: str) -> Store:
        """Create a store for the database at ``url``."""
        return cls(engines.create_engine(url))

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        """Open a transaction; commit when the block ends, roll back if it raises.

        Database errors leave as :class:`~core.errors.StorageError` (our own errors pass
        through unchanged), so callers never handle SQLAlchemy's types.
        """
        try:
            async with AsyncExitStack() as stack:
                if self._sqlite_writer is not None:
                    await self._wait_for_writer(stack, self._sqlite_writer)
                session = await stack.enter_async_context(self._sessions())
                await stack.enter_async_context(session.begin())
                yield UnitOfWork.over(session)
        except IntegrityError as error:
            # A unique fact recorded twice, typically by two concurrent transactions; the
            # caller may retry (the second attempt finds the first one's row).
            raise DuplicateError(f"already recorded: {error.orig!r}") from error
        except DBAPIError as error:
            raise StorageError(f"database error: {error.orig!r}") from error
        except SQLAlchemyError as error:
            raise StorageError(f"database error: {error}") from error

    @staticmethod
    async def _wait_for_writer(stack: AsyncExitStack, lock: asyncio.Lock) -> None:
        """Take the process's SQLite write turn, as long as SQLite itself would wait."""
        try:
            async with asyncio.timeout(engines.SQLITE_BUSY_TIMEOUT_MS / 1000):
                await lock.acquire()
        except TimeoutError:
            raise StorageError("database error: the database is locked (busy)") from None
        stack.callback(lock.release)

    async def migrate(self) -> tuple[str | None, str | None]:
        """Bring the schema up to date; return the revisions before and after."""
        try:
            return await engines.upgrade(self.engine)
        except (DBAPIError, OSError) as error:
            raise StorageError(f"could not migrate the database: {error}") from error

    async def close(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
