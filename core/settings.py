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
    manager_chat_id: int | None = None
    """The chat that gets overdue alerts; the staff chat when empty."""
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
    idle: bool = True
    """Use IDLE (push) when the server offers it; false polls instead (for broken IDLE)."""


class SmtpSettings(_Section):
    """The server that sends the bot's email."""

    host: str | None = None
    port: int = Field(default=587, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = True
    ssl: bool = False
    messages_per_second: float = Field(default=5.0, gt=0, le=1000)
    """Overall sending rate; many providers limit it (Microsoft 365: 30 a minute)."""


class EmailSettings(_Section):
    """The complaints mailbox: its own address (From and Reply-To) and how it is read."""

    address: str | None = None
    max_attachment_bytes: int = Field(default=10 * 1024 * 1024, ge=0)
    """Most bytes of attachments kept from one email; larger ones are explained to the sender."""
    poll_interval_seconds: float = Field(default=60.0, gt=0)
    """How often the mailbox is checked when the IMAP server has no IDLE."""
    batch_size: int = Field(default=50, ge=1, le=1000)
    """Messages fetched in one IMAP command when working through a backlog."""
    max_replies_per_hour: int = Field(default=20, ge=1)
    """Most replies to one address in an hour; beyond it replies are held for staff (a loop)."""

    @field_validator("address")
    @classmethod
    def _address_shape(cls, value: str | None) -> str | None:
        if value is not None and (value.count("@") != 1 or value.startswith("@")):
            raise ValueError("an email address looks like complaints@example.org")
        return value


class StaffSettings(_Section):
    """Where staff handover notices go by email, and who runs ``complaints-bot staff``."""

    email: str | None = None
    id: str | None = None
    """The acting staff member for ``complaints-bot staff`` when ``--by`` is not given."""
    manager_email: str | None = None
    """Where overdue alerts go by email; the staff address when empty."""


class SchedulerSettings(_Section):
    """The deadline scheduler inside ``complaints-bot run``."""

    interval_seconds: float = Field(default=60.0, gt=0)
    remind_days_before: int = Field(default=2, ge=0, le=10)
    """Staff are reminded this many working days before each deadline, and again on the day."""
    update_interval_working_days: int = Field(default=5, ge=1, le=20)
    """Working days between regular updates to a resident who agreed none (CHC-5.9)."""
    auto_close_after_days: int = Field(default=28, ge=1, le=365)
    """Calendar days after a stage 1 response with no escalation before the complaint is
    closed; a later escalation request is still considered (CHC-6.10)."""
    work_starts_at: time = time(9, 0)
    """Local time from which each working day's reminders, alerts, updates and closures go."""
    digest_at: time = time(9, 0)
    """Local time of the complaints team's daily digest, on working days."""

    @field_validator("work_starts_at", "digest_at")
    @classmethod
    def _local_time(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("a local time of day without a time zone, e.g. 09:00")
        return value


class HealthSettings(_Section):
    """The health and metrics endpoint of ``complaints-bot run``."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8090, ge=0, le=65535)
    """0 binds any free port (tests); the bound port is shown in the start-up banner."""


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
    health: HealthSettings = HealthSettings()

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
