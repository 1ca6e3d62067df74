"""The project's one error hierarchy.

Adapters translate library errors (aiogram, aiosmtplib, aioimaplib, SQLAlchemy) into these, so
the engine and the CLI only ever handle our own types::

    ComplaintsBotError
    ├── ConfigurationError            settings are invalid (names the setting and why)
    │   └── TimescaleTooLongError     a configured timescale exceeds the Code's maximum
    ├── DomainError                   a request the Complaint Handling Code does not allow
    │   ├── IllegalTransitionError    a lifecycle step not in the transition table
    │   ├── HandlerConflictError      stage 2 handler is the stage 1 handler (CHC-6.13)
    │   ├── ExtensionRefusedError     an extension beyond the Code's limit, or too late (CHC-6.4)
    │   └── IncompleteResponseError   a response missing a part the Code requires (CHC-6.9/6.19)
    ├── InvalidReferenceError         a reference that is malformed or fails its check character
    ├── NotFoundError                 no such complaint, resident or record
    ├── StorageError                  the database refused or could not be reached
    │   ├── ConcurrencyError          someone else changed the record first; retry
    │   └── DuplicateError            a unique fact recorded twice (e.g. a redelivered message)
    └── ChannelError                  a channel could not deliver or receive
        ├── TemporaryChannelError     worth retrying later (rate limit, timeout, server down)
        └── PermanentChannelError     retrying will not help (bad address, blocked by the user)
            └── RecipientUnreachableError  this person cannot be reached on this channel
"""

from __future__ import annotations


class ComplaintsBotError(Exception):
    """Base class of every error the project raises on purpose."""


class ConfigurationError(ComplaintsBotError):
    """The settings are invalid; the message names the setting and what is wrong."""


class TimescaleTooLongError(ConfigurationError):
    """A configured timescale is longer than the Code's maximum (CHC-3.12 of 2020)."""


class DomainError(ComplaintsBotError):
    """A request the Complaint Handling Code, or the lifecycle, does not allow."""


class IllegalTransitionError(DomainError):
    """A lifecycle step that is not in the transition table."""


class HandlerConflictError(DomainError):
    """The stage 2 handler would be the person who handled stage 1 (CHC-6.13)."""


class ExtensionRefusedError(DomainError):
    """An extension beyond the Code's limit without a recorded good reason, or too late."""


class IncompleteResponseError(DomainError):
    """A stage 1 or final response lacks a part the Code requires (CHC-6.9, CHC-6.19)."""


class InvalidReferenceError(ComplaintsBotError):
    """A reference that is malformed or whose check character does not match."""


class NotFoundError(ComplaintsBotError):
    """No record matches what was asked for."""


class StorageError(ComplaintsBotError):
    """The database refused an operation or could not be reached."""


class ConcurrencyError(StorageError):
    """The record changed since it was read; reload and try again."""


class DuplicateError(StorageError):
    """A fact that must be unique was recorded twice."""


class ChannelError(ComplaintsBotError):
    """A channel could not deliver or receive a message."""


class TemporaryChannelError(ChannelError):
    """A failure worth retrying later (rate limit, timeout, server unavailable)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentChannelError(ChannelError):
    """A failure that retrying will not cure (bad address, user blocked the bot)."""


class RecipientUnreachableError(PermanentChannelError):
    """The recipient cannot be reached on this channel (blocked the bot, never started it).

    The message is not lost: the dispatcher tries the resident's other channels and tells staff.
    """
