"""Every word the bot says, from templates a landlord can override.

The defaults live in ``conversations/templates``: one Jinja2 file per message (``help.txt``,
``acknowledgement.txt``, …) and ``labels.toml`` for button words and short phrases. A landlord
sets ``COMPLAINTS_TEMPLATES_DIR`` to a directory holding any of these files with the same names;
theirs win, file by file and label by label. Templates render plain text; channels escape it
for their medium. An unknown variable in a template is an error, not a blank.
"""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Any, Final

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

from conversations.envelopes import Choice
from core.calendar import long_date
from core.errors import ConfigurationError
from core.settings import LandlordSettings, OmbudsmanSettings

DEFAULT_DIRECTORY: Final = Path(__file__).with_name("templates")


class Wording:
    """Renders messages and labels.

    Args:
        landlord: the landlord's details, available to every template as ``landlord``.
        ombudsman: the Ombudsman's details, available as ``ombudsman``.
        override_directory: the landlord's own templates, if any.
    """

    def __init__(
        self,
        *,
        landlord: LandlordSettings,
        ombudsman: OmbudsmanSettings,
        override_directory: Path | None = None,
    ) -> None:
        directories = [DEFAULT_DIRECTORY]
        if override_directory is not None:
            if not override_directory.is_dir():
                raise ConfigurationError(
                    f"COMPLAINTS_TEMPLATES_DIR: {override_directory} is not a directory"
                )
            directories.insert(0, override_directory)
        self._env = Environment(
            loader=ChoiceLoader([FileSystemLoader(d) for d in directories]),
            autoescape=False,  # plain text; each channel escapes for its medium
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        self._env.filters["long_date"] = long_date
        self._globals = {"landlord": landlord, "ombudsman": ombudsman}
        self._labels = _load_labels(DEFAULT_DIRECTORY / "labels.toml")
        if override_directory is not None and (override_directory / "labels.toml").is_file():
            for key, value in _load_labels(override_directory / "labels.toml").items():
                if isinstance(value, dict) and isinstance(self._labels.get(key), dict):
                    self._labels[key] = {**self._labels[key], **value}
                else:
                    self._labels[key] = value

    def render(self, template: str, /, **context: Any) -> str:
        """Render ``template`` (its file name without ``.txt``) with ``context``."""
        text = self._env.get_template(f"{template}.txt").render(**self._globals, **context)
        # Templates are written for readability; collapse the blank lines they leave behind.
        lines = [line.rstrip() for line in text.strip().splitlines()]
        cleaned: list[str] = []
        for line in lines:
            if line or (cleaned and cleaned[-1]):
                cleaned.append(line)
        return "\n".join(cleaned)

    def label(self, key: str, section: str | None = None, **values: str) -> str:
        """Return the label ``key`` (from ``[section]`` if given), with ``{name}`` filled in."""
        table: Any = self._labels if section is None else self._labels[section]
        text = str(table[key])
        return text.format(**values) if values else text

    def choice(self, choice_id: str, **values: str) -> Choice:
        """Return an option whose id is ``choice_id`` and whose label is that label."""
        label_key = choice_id.split(":", 1)[0]
        return Choice(id=choice_id, label=self.label(label_key, **values))

    def next_step(self, key: str, day: date | None = None) -> str:
        """Return the "what to expect next" sentence ``key`` for ``day``."""
        text = self.label(key, "next")
        return text.format(date=long_date(day)) if day is not None else text

    def labels(self, section: str) -> dict[str, str]:
        """Return every label of ``[section]``, the landlord's own winning over the defaults."""
        return {str(k): str(v) for k, v in self._labels[section].items()}

    @property
    def template_names(self) -> list[str]:
        """Every template the bot can render."""
        return sorted(p.stem for p in DEFAULT_DIRECTORY.glob("*.txt"))


def default_labels(section: str) -> dict[str, str]:
    """Return the default labels of ``[section]`` (before any landlord's overrides)."""
    return {
        str(k): str(v) for k, v in _load_labels(DEFAULT_DIRECTORY / "labels.toml")[section].items()
    }


def _load_labels(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(f"{path}: not valid TOML: {error}") from None
