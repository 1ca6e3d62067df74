"""Settings: environment variables ``COMPLAINTS_*`` (``__`` for nesting) or a TOML file.

Environment variables win over the file; the file wins over the defaults. Every problem is
reported with the name of the setting as the operator would write it, and why. Secrets are
``SecretStr`` and print as ``**********``.
"""

from __future__ import annotations

from datetime import date, time
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from core.calendar import WorkingDayCalendar
from core.db.engine import sqlite_url
from core.deadlines import Timescales
from core.errors import ConfigurationError

ENV_PREFIX = "COMPLAINTS_"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LandlordSettings(_Section):
    """Who runs the bot and how residents reach them."""

    name: str = "Your Landlord"
    complaints_email: str | None = None
    complaints_phone: str | None = None
    complaints_web: str | None = None
    repairs_phone: str | None = None
    repairs_web: str | None = None
    emergency_repairs_phone: str = "the emergency repairs number on your tenancy documents"
    gas_emergency_phone: str = "0800 111 999"
    """The National Gas Emergency Service, for a gas smell or carbon monoxide."""


class OmbudsmanSettings(_Section):
    """The Housing Ombudsman's contact details (defaults from CODE.md)."""

    name: str = "Housing Ombudsman Service"
    phone: str = "0300 111 3000"
    website: str = "www.housing-ombudsman.org.uk"
    online_form: str = "https://www.housing-ombudsman.org.uk/residents/make-a-complaint/"
    postal_address: str = "PO Box 1484, Unit D, Preston, PR2 0ET"
    email: str | None = None
    """Left empty by default: the Ombudsman has moved new cases to its web form."""


class CalendarSettings(_Section):
    """How working days are counted."""

    country: str = "GB"
    subdivision: str | None = "ENG"
    closure_days: tuple[date, ...] = ()
    """Days the landlord is closed on top of bank holidays (e.g. a Christmas shutdown)."""
    cutoff: time | None = None
    """Messages at or after this local time count as received the next working day."""
    timezone: str = "Europe/London"

    def build(self) -> WorkingDayCalendar:
        """Return the working-day calendar these settings describe."""
        return WorkingDayCalendar(
            country=self.country,
            subdivision=self.subdivision,
            closure_days=self.closure_days,
            cutoff=self.cutoff,
            timezone=self.timezone,
        )


class TelegramSettings(_Section):
    """The Telegram channel; it starts when a token is set."""

    token: SecretStr | None = None
    api_url: str = "https://api.telegram.org"
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(default=8081, ge=0, le=65535)
    """Port the webhook server listens on (0: any free port, for tests)."""
    staff_chat_id: int | None = None
    staff_user_ids: tuple[int, ...] = ()
    messages_per_second: float = Field(default=25.0, gt=0, le=1000)
    """Overall sending rate; Telegram allows a bot about 30 a second unless raised for it."""

    @field_validator("token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            raw = value.get_secret_value()
            head, _, tail = raw.partition(":")
            if not head.isdigit() or not tail:
                raise ValueError("a bot token looks like 123456:ABC... (digits, colon, text)")
        return value


class ImapSettings(_Section):
    """The complaints mailbox, read over IMAP."""

    host: str | None = None
    port: int = Field(default=993, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    ssl: bool = True
    mailbox: str = "INBOX"


class SmtpSettings(_Section):
    """The server that sends the bot's email."""

    host: str | None = None
    port: int = Field(default=587, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = True
    ssl: bool = False


class EmailSettings(_Section):
    """The complaints mailbox's own address (From and Reply-To)."""

    address: str | None = None


class StaffSettings(_Section):
    """Where staff handover notices go by email."""

    email: str | None = None


class SchedulerSettings(_Section):
    """The deadline scheduler inside ``complaints-bot run``."""

    interval_seconds: float = Field(default=60.0, gt=0)


class Settings(BaseSettings):
    """Everything the bot can be told. See ``.env.example`` for each setting."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    data_dir: Path = Path("data")
    database_url: SecretStr | None = None
    """Secret because a PostgreSQL URL usually carries a password."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = False
    templates_dir: Path | None = None
    landlord: LandlordSettings = LandlordSettings()
    ombudsman: OmbudsmanSettings = OmbudsmanSettings()
    calendar: CalendarSettings = CalendarSettings()
    timescales: Timescales = Timescales()
    telegram: TelegramSettings = TelegramSettings()
    imap: ImapSettings = ImapSettings()
    smtp: SmtpSettings = SmtpSettings()
    email: EmailSettings = EmailSettings()
    staff: StaffSettings = StaffSettings()
    scheduler: SchedulerSettings = SchedulerSettings()

    _toml_file: ClassVar[Path | None] = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Environment first, then the TOML file named by ``--config``, then defaults."""
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if cls._toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=cls._toml_file))
        return tuple(sources)

    @field_validator("database_url")
    @classmethod
    def _database_url_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                backend = make_url(value.get_secret_value()).get_backend_name()
            except ArgumentError:
                raise ValueError(
                    "not a database URL; use sqlite+aiosqlite:///PATH or postgresql+asyncpg://…"
                ) from None
            if backend not in {"sqlite", "postgresql"}:
                raise ValueError("use sqlite+aiosqlite:///PATH or postgresql+asyncpg://…")
        return value

    @property
    def effective_database_url(self) -> str:
        """The database to use: ``database_url``, or SQLite under ``data_dir``."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return sqlite_url(self.data_dir / "complaints.sqlite3")

    @property
    def safe_database_url(self) -> str:
        """The database URL with any password hidden, for logs and messages."""
        return make_url(self.effective_database_url).render_as_string(hide_password=True)

    @property
    def telegram_configured(self) -> bool:
        """Whether the Telegram channel has what it needs to start."""
        return self.telegram.token is not None

    @property
    def email_configured(self) -> bool:
        """Whether the email channel has what it needs to start (IMAP, SMTP and an address)."""
        return bool(self.imap.host and self.smtp.host and self.email.address)


def setting_name(location: tuple[int | str, ...]) -> str:
    """Return the environment variable name for a pydantic error location."""
    parts = [str(p) for p in location if not isinstance(p, int)]
    return ENV_PREFIX + "__".join(parts).upper()


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Read and validate the settings.

    Args:
        config_file: a TOML file (``--config``); its tables mirror the nesting, e.g.
            ``[landlord] name = "…"``.
        **overrides: values that win over everything (used by tests and the CLI).

    Raises:
        ConfigurationError: naming each bad setting and why, one per line.
    """
    if config_file is not None and not config_file.is_file():
        raise ConfigurationError(f"--config: no such file: {config_file}")

    class _Loaded(Settings):
        _toml_file: ClassVar[Path | None] = config_file

    try:
        loaded = _Loaded(**overrides)
    except ValidationError as error:
        lines = [f"{setting_name(e['loc'])}: {_reason(e)}" for e in error.errors()]
        raise ConfigurationError("invalid settings:\n  " + "\n  ".join(lines)) from None
    return loaded


def _reason(error: Any) -> str:
    message = str(error["msg"])
    return message.removeprefix("Value error, ")
