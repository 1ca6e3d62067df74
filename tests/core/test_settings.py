"""Settings from the environment and a TOML file, checked against the Code and kept secret."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import time
from pathlib import Path

import pytest
from pydantic import BaseModel
from sqlalchemy.engine import make_url

from core.errors import ConfigurationError
from core.settings import ENV_PREFIX, Settings, load_settings

SECRET_TOKEN = "123456:secret-token-value"
SECRET_PASSWORD = "hunter2-db-password"


@pytest.fixture(autouse=True)
def _no_stray_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every test without COMPLAINTS_* variables from the developer's shell or CI."""
    for name in list(os.environ):
        if name.upper().startswith("COMPLAINTS_"):
            monkeypatch.delenv(name)


def write_toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "complaints.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- defaults and sources --------------------------------------------------------------------


def test_defaults() -> None:
    settings = load_settings()
    assert isinstance(settings, Settings)
    assert settings.data_dir == Path("data")
    assert settings.database_url is None
    url = make_url(settings.effective_database_url)
    assert url.get_backend_name() == "sqlite"
    assert url.get_driver_name() == "aiosqlite"
    assert Path(str(url.database)) == Path("data") / "complaints.sqlite3"
    assert settings.ombudsman.phone == "0300 111 3000"
    assert settings.ombudsman.website == "www.housing-ombudsman.org.uk"
    assert settings.calendar.subdivision == "ENG"
    assert settings.calendar.timezone == "Europe/London"
    assert settings.calendar.cutoff is None
    assert settings.log_level == "INFO"
    assert (
        settings.timescales.stage1_acknowledge,
        settings.timescales.stage1_response,
        settings.timescales.stage1_extension,
        settings.timescales.stage2_acknowledge,
        settings.timescales.stage2_response,
        settings.timescales.stage2_extension,
    ) == (5, 10, 10, 5, 20, 20)
    assert not settings.telegram_configured
    assert not settings.email_configured


def test_the_sqlite_database_lives_under_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("COMPLAINTS_DATA_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.data_dir == tmp_path
    database = make_url(settings.effective_database_url).database
    assert Path(str(database)) == tmp_path / "complaints.sqlite3"


def test_database_url_wins_over_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COMPLAINTS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COMPLAINTS_DATABASE_URL", "postgresql+asyncpg://u@db.example/complaints")
    assert load_settings().effective_database_url == "postgresql+asyncpg://u@db.example/complaints"


@pytest.mark.parametrize(
    ("name", "value", "read"),
    [
        ("COMPLAINTS_LANDLORD__NAME", "Riverside Homes", lambda s: s.landlord.name),
        ("COMPLAINTS_OMBUDSMAN__PHONE", "0300 000 0000", lambda s: s.ombudsman.phone),
        ("COMPLAINTS_TIMESCALES__STAGE1_RESPONSE", "7", lambda s: s.timescales.stage1_response),
        ("COMPLAINTS_CALENDAR__CUTOFF", "17:00", lambda s: s.calendar.cutoff),
        ("COMPLAINTS_SCHEDULER__INTERVAL_SECONDS", "0.2", lambda s: s.scheduler.interval_seconds),
        ("COMPLAINTS_LOG_LEVEL", "DEBUG", lambda s: s.log_level),
        ("complaints_landlord__name", "Lower Case Homes", lambda s: s.landlord.name),
    ],
)
def test_nested_environment_variables(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, read
) -> None:
    monkeypatch.setenv(name, value)
    expected = {"7": 7, "17:00": time(17, 0), "0.2": 0.2}.get(value, value)
    assert read(load_settings()) == expected


def test_toml_file(tmp_path: Path) -> None:
    path = write_toml(
        tmp_path,
        """
data_dir = "/srv/complaints"

[landlord]
name = "Riverside Homes"
complaints_phone = "0161 000 0000"

[timescales]
stage1_response = 8
stage2_extension = 15

[calendar]
closure_days = [2026-12-29, 2026-12-30]
""",
    )
    settings = load_settings(path)
    assert settings.data_dir == Path("/srv/complaints")
    assert settings.landlord.name == "Riverside Homes"
    assert settings.landlord.complaints_phone == "0161 000 0000"
    assert settings.timescales.stage1_response == 8
    assert settings.timescales.stage2_extension == 15
    assert settings.timescales.stage2_response == 20  # not in the file: the Code's maximum
    assert [d.isoformat() for d in settings.calendar.closure_days] == [
        "2026-12-29",
        "2026-12-30",
    ]


def test_environment_overrides_the_toml_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = write_toml(
        tmp_path,
        """
[landlord]
name = "From The File"
complaints_phone = "0161 000 0000"

[timescales]
stage1_response = 8
""",
    )
    monkeypatch.setenv("COMPLAINTS_LANDLORD__NAME", "From The Environment")
    monkeypatch.setenv("COMPLAINTS_TIMESCALES__STAGE1_RESPONSE", "6")
    settings = load_settings(path)
    assert settings.landlord.name == "From The Environment"
    assert settings.timescales.stage1_response == 6
    # Overriding one field of a table keeps the file's other fields.
    assert settings.landlord.complaints_phone == "0161 000 0000"


def test_the_toml_file_is_read_only_when_named(tmp_path: Path) -> None:
    write_toml(tmp_path, '[landlord]\nname = "Not Read"\n')
    assert load_settings().landlord.name == "Your Landlord"


def test_overrides_win_over_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPLAINTS_LOG_LEVEL", "ERROR")
    assert load_settings(log_level="DEBUG").log_level == "DEBUG"


def test_a_missing_config_file_names_the_option(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigurationError, match="--config") as raised:
        load_settings(missing)
    assert str(missing) in str(raised.value)


def test_a_directory_is_not_a_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="--config"):
        load_settings(tmp_path)


# --- timescales are maximums -----------------------------------------------------------------

CODE_TIMESCALES = [
    # field, the Code's maximum, the rule (CODE.md)
    ("stage1_acknowledge", 5, "CHC-6.2"),
    ("stage1_response", 10, "CHC-6.3"),
    ("stage1_extension", 10, "CHC-6.4"),
    ("stage2_acknowledge", 5, "CHC-6.11"),
    ("stage2_response", 20, "CHC-6.14"),
    ("stage2_extension", 20, "CHC-6.15"),
]


def assert_names_the_limit(message: str, field: str, maximum: int, rule: str) -> None:
    assert f"COMPLAINTS_TIMESCALES__{field.upper()}" in message
    assert f"maximum of {maximum} " in message
    assert f"({rule})" in message


@pytest.mark.parametrize(("field", "maximum", "rule"), CODE_TIMESCALES)
def test_a_timescale_longer_than_the_code_is_refused_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, field: str, maximum: int, rule: str
) -> None:
    monkeypatch.setenv(f"COMPLAINTS_TIMESCALES__{field.upper()}", str(maximum + 1))
    with pytest.raises(ConfigurationError) as raised:
        load_settings()
    assert_names_the_limit(str(raised.value), field, maximum, rule)


@pytest.mark.parametrize(("field", "maximum", "rule"), CODE_TIMESCALES)
def test_a_timescale_longer_than_the_code_is_refused_from_the_toml_file(
    tmp_path: Path, field: str, maximum: int, rule: str
) -> None:
    path = write_toml(tmp_path, f"[timescales]\n{field} = {maximum + 1}\n")
    with pytest.raises(ConfigurationError) as raised:
        load_settings(path)
    assert_names_the_limit(str(raised.value), field, maximum, rule)


def test_the_worked_examples_of_over_long_timescales(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("COMPLAINTS_TIMESCALES__STAGE1_RESPONSE", "11")
    path = write_toml(tmp_path, "[timescales]\nstage2_extension = 21\n")
    with pytest.raises(ConfigurationError) as raised:
        load_settings(path)
    message = str(raised.value)
    # Both problems are reported at once, one per line.
    assert_names_the_limit(message, "stage1_response", 10, "CHC-6.3")
    assert_names_the_limit(message, "stage2_extension", 20, "CHC-6.15")
    assert len(message.splitlines()) == 3


@pytest.mark.parametrize(("field", "maximum", "rule"), CODE_TIMESCALES)
@pytest.mark.parametrize("offset", [0, -1])
def test_timescales_up_to_the_code_are_accepted(
    monkeypatch: pytest.MonkeyPatch, field: str, maximum: int, rule: str, offset: int
) -> None:
    monkeypatch.setenv(f"COMPLAINTS_TIMESCALES__{field.upper()}", str(maximum + offset))
    assert getattr(load_settings().timescales, field) == maximum + offset


@pytest.mark.parametrize("value", ["0", "-3", "ten", "2.5"])
def test_a_timescale_must_be_a_positive_whole_number(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("COMPLAINTS_TIMESCALES__STAGE1_ACKNOWLEDGE", value)
    with pytest.raises(ConfigurationError, match="COMPLAINTS_TIMESCALES__STAGE1_ACKNOWLEDGE"):
        load_settings()


def test_an_unknown_setting_is_refused(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "[timescales]\nstage3_response = 5\n")
    with pytest.raises(ConfigurationError, match="COMPLAINTS_TIMESCALES__STAGE3_RESPONSE"):
        load_settings(path)


# --- other validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token", ["not-a-token", "abc:def", "123456:", ":ABCdef", "123456ABCdef", "12a4:xyz"]
)
def test_a_malformed_telegram_token_is_refused(monkeypatch: pytest.MonkeyPatch, token: str) -> None:
    monkeypatch.setenv("COMPLAINTS_TELEGRAM__TOKEN", token)
    with pytest.raises(ConfigurationError, match="COMPLAINTS_TELEGRAM__TOKEN") as raised:
        load_settings()
    assert "123456:ABC" in str(raised.value), "the message should show the expected shape"


@pytest.mark.parametrize(
    "url",
    [
        "mysql://user@db.example/complaints",
        "mysql+aiomysql://user@db.example/complaints",
        "mssql+pyodbc://user@db.example/complaints",
        "oracle://user@db.example/complaints",
    ],
)
def test_an_unsupported_database_is_refused(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("COMPLAINTS_DATABASE_URL", url)
    with pytest.raises(ConfigurationError, match="COMPLAINTS_DATABASE_URL") as raised:
        load_settings()
    assert "sqlite" in str(raised.value)
    assert "postgresql" in str(raised.value)


def test_an_unparsable_database_url_is_refused_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COMPLAINTS_DATABASE_URL", "not a url")
    with pytest.raises(ConfigurationError, match="COMPLAINTS_DATABASE_URL"):
        load_settings()


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:////var/lib/complaints/db.sqlite3",
        "sqlite+aiosqlite:///:memory:",
        "postgresql+asyncpg://complaints:pw@db.example:5432/complaints",
        "postgresql://complaints@db.example/complaints",
    ],
)
def test_sqlite_and_postgresql_are_accepted(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("COMPLAINTS_DATABASE_URL", url)
    assert load_settings().effective_database_url == url


# --- secrets ---------------------------------------------------------------------------------


def secret_settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("COMPLAINTS_TELEGRAM__TOKEN", SECRET_TOKEN)
    monkeypatch.setenv("COMPLAINTS_TELEGRAM__WEBHOOK_SECRET", "webhook-secret-value")
    monkeypatch.setenv("COMPLAINTS_IMAP__PASSWORD", "imap-password-value")
    monkeypatch.setenv("COMPLAINTS_SMTP__PASSWORD", "smtp-password-value")
    return load_settings()


@pytest.mark.parametrize("render", [str, repr], ids=["str", "repr"])
def test_str_and_repr_hide_secret_values(monkeypatch: pytest.MonkeyPatch, render) -> None:
    settings = secret_settings(monkeypatch)
    text = render(settings)
    assert "telegram" in text  # the settings were rendered at all
    for secret in (
        SECRET_TOKEN,
        "secret-token-value",
        "webhook-secret-value",
        "imap-password-value",
        "smtp-password-value",
    ):
        assert secret not in text
    # ...while the values are still there for the code that needs them.
    assert settings.telegram.token is not None
    assert settings.telegram.token.get_secret_value() == SECRET_TOKEN
    assert settings.imap.password is not None
    assert settings.imap.password.get_secret_value() == "imap-password-value"


@pytest.mark.parametrize("render", [str, repr], ids=["str", "repr"])
def test_str_and_repr_hide_the_database_password(monkeypatch: pytest.MonkeyPatch, render) -> None:
    monkeypatch.setenv(
        "COMPLAINTS_DATABASE_URL",
        f"postgresql+asyncpg://complaints:{SECRET_PASSWORD}@db.example/complaints",
    )
    assert SECRET_PASSWORD not in render(load_settings())


def test_a_settings_error_does_not_echo_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPLAINTS_TELEGRAM__TOKEN", "999:" + "x" * 4 + "-leaky-token")
    monkeypatch.setenv("COMPLAINTS_TELEGRAM__MODE", "carrier-pigeon")
    with pytest.raises(ConfigurationError, match="COMPLAINTS_TELEGRAM__MODE") as raised:
        load_settings()
    assert "leaky-token" not in str(raised.value)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            f"postgresql+asyncpg://complaints:{SECRET_PASSWORD}@db.example:5432/complaints",
            "postgresql+asyncpg://complaints:***@db.example:5432/complaints",
        ),
        (
            "postgresql+asyncpg://complaints@db.example/complaints",
            "postgresql+asyncpg://complaints@db.example/complaints",
        ),
        (
            "sqlite+aiosqlite:////var/lib/complaints/db.sqlite3",
            "sqlite+aiosqlite:////var/lib/complaints/db.sqlite3",
        ),
    ],
)
def test_safe_database_url_hides_the_password(
    monkeypatch: pytest.MonkeyPatch, url: str, expected: str
) -> None:
    monkeypatch.setenv("COMPLAINTS_DATABASE_URL", url)
    settings = load_settings()
    assert settings.safe_database_url == expected
    assert SECRET_PASSWORD not in settings.safe_database_url
    assert settings.effective_database_url == url  # the real URL is kept for connecting


# --- what is configured ----------------------------------------------------------------------

EMAIL = {
    "COMPLAINTS_IMAP__HOST": "imap.example.org",
    "COMPLAINTS_SMTP__HOST": "smtp.example.org",
    "COMPLAINTS_EMAIL__ADDRESS": "complaints@example.org",
}


@pytest.mark.parametrize(
    ("env", "telegram", "email"),
    [
        ({}, False, False),
        ({"COMPLAINTS_TELEGRAM__TOKEN": SECRET_TOKEN}, True, False),
        (EMAIL, False, True),
        ({**EMAIL, "COMPLAINTS_TELEGRAM__TOKEN": SECRET_TOKEN}, True, True),
        ({k: v for k, v in EMAIL.items() if k != "COMPLAINTS_IMAP__HOST"}, False, False),
        ({k: v for k, v in EMAIL.items() if k != "COMPLAINTS_SMTP__HOST"}, False, False),
        ({k: v for k, v in EMAIL.items() if k != "COMPLAINTS_EMAIL__ADDRESS"}, False, False),
        ({**EMAIL, "COMPLAINTS_IMAP__HOST": ""}, False, False),
        ({"COMPLAINTS_TELEGRAM__WEBHOOK_SECRET": "webhook-secret-value"}, False, False),
    ],
    ids=[
        "nothing",
        "telegram",
        "email",
        "both",
        "no-imap",
        "no-smtp",
        "no-address",
        "empty-imap",
        "webhook-secret-only",
    ],
)
def test_which_channels_are_configured(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], telegram: bool, email: bool
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.telegram_configured is telegram
    assert settings.email_configured is email


def _setting_names(model: type[BaseModel], prefix: str) -> Iterator[str]:
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from _setting_names(annotation, f"{prefix}{name.upper()}__")
        else:
            yield f"{prefix}{name.upper()}"


def test_every_setting_is_documented_in_env_example() -> None:
    """An operator finds every setting, with its default, in .env.example."""
    documented = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    names = list(_setting_names(Settings, ENV_PREFIX))
    assert "COMPLAINTS_IMAP__IDLE" in names  # the walk reaches nested sections
    missing = [n for n in names if f"{n}=" not in documented]
    assert missing == []


@pytest.mark.parametrize("address", ["complaints", "@riverside.example", "a@b@c"])
def test_a_malformed_complaints_address_is_refused(address: str) -> None:
    with pytest.raises(ConfigurationError, match="COMPLAINTS_EMAIL__ADDRESS"):
        load_settings(email={"address": address})
