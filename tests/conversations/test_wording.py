"""Wording: every template renders, a landlord's own templates and labels win, mistakes show."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from jinja2 import UndefinedError

from conversations.state import Draft
from conversations.wording import DEFAULT_DIRECTORY, Wording
from core.errors import ConfigurationError
from core.settings import LandlordSettings, OmbudsmanSettings

LANDLORD = LandlordSettings(name="Riverside Homes", complaints_phone="0161 000 0000")


def wording(directory: Path | None = None) -> Wording:
    return Wording(landlord=LANDLORD, ombudsman=OmbudsmanSettings(), override_directory=directory)


def test_dates_read_the_way_residents_read_them() -> None:
    text = wording().render("info_added", reference="C-1", stage=1, due=date(2027, 1, 8))
    assert "Friday 8 January 2027" in text


def test_staff_names_never_appear_in_the_defaults() -> None:  # 2020 CHC-3.17
    for path in DEFAULT_DIRECTORY.glob("*.txt"):
        if path.stem.startswith("staff_"):
            continue
        assert "handler" not in path.read_text(), path.name


def test_the_ombudsman_is_in_help_acknowledgement_and_escalation() -> None:  # CHC-3.7
    for name in ("help.txt", "acknowledgement.txt", "escalated.txt"):
        assert "ombudsman.phone" in (DEFAULT_DIRECTORY / name).read_text(), name


def test_every_label_key_used_by_choices_exists() -> None:
    words = wording()
    for key in ("yes_complain", "no_thanks", "repair", "complain", "myself", "someone_else"):
        assert words.choice(key).label
    assert words.choice("more_info", reference="C-1").label == "More about C-1"
    assert words.label("responded", "complaint_status")
    assert "Friday 8 January 2027" in words.next_step("stage1_response", date(2027, 1, 8))


def test_a_landlord_overrides_one_template_and_one_label(tmp_path: Path) -> None:
    (tmp_path / "help.txt").write_text("Welcome to {{ landlord.name }}'s complaints line.")
    (tmp_path / "labels.toml").write_text('complain = "Tell us what went wrong"\n')
    words = wording(tmp_path)
    assert words.render("help") == "Welcome to Riverside Homes's complaints line."
    assert words.choice("complain").label == "Tell us what went wrong"
    assert words.choice("repair").label == "Report a repair"  # others keep the default
    assert "Here is what I understood" in words.render("confirm", draft=Draft(points=["x"]))


def test_an_unknown_variable_is_an_error_not_a_blank(tmp_path: Path) -> None:
    (tmp_path / "help.txt").write_text("Call {{ landlord.fax }}")
    with pytest.raises(UndefinedError):
        wording(tmp_path).render("help")


def test_a_missing_override_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="COMPLAINTS_TEMPLATES_DIR"):
        wording(tmp_path / "nope")


def test_blank_lines_left_by_template_logic_are_collapsed() -> None:
    text = wording().render("person", by=date(2026, 12, 24))
    assert "\n\n\n" not in text
    assert "0161 000 0000" in text


def test_channel_and_staff_wording_lives_in_the_templates_too(tmp_path: Path) -> None:
    words = wording()
    assert list(words.labels("telegram_commands")) == [
        "start",
        "new",
        "status",
        "help",
        "person",
        "cancel",
    ]
    dead = words.render(
        "staff_dead_letter", reference="C-1", outbox_id=7, kind="reply", channel="sms", reason="x"
    )
    assert dead.splitlines()[1] == "Outbox message 7: reply on sms about C-1."
    (tmp_path / "labels.toml").write_text('[telegram]\nunsupported = "Words only, please."\n')
    overridden = wording(tmp_path).labels("telegram")
    assert overridden["unsupported"] == "Words only, please."
    assert overridden["too_large"].startswith("Sorry")  # the rest keep their defaults
