"""Case references residents can read aloud, type on a phone and get right.

A reference looks like ``C-7K3Q-9XFD``: a kind letter (``C`` complaint, ``R`` service request),
then seven random characters and one check character, in two groups of four.

* **Readable and unambiguous**: Crockford's base-32 alphabet (no I, L, O or U). When a resident
  types a reference we read ``O`` as ``0`` and ``I``/``L`` as ``1``, ignore case, spaces and
  hyphens.
* **Not guessable**: the seven characters come from :mod:`secrets` (31 symbols, 31**7, about
  27 billion per kind), so one reference says nothing about any other.
* **Self-checking**: the last character makes a weighted sum of all nine symbols (weights 1 to
  9) divisible by 31, a prime. Because every symbol but ``Z`` has a value below 31 and the
  weights differ, this catches every single mistyped character and every swap of two adjacent
  different characters, so a typo is reported as a typo instead of matching someone else's
  case. ``Z`` is never used, so a ``Z`` anywhere is itself a typo.
"""

from __future__ import annotations

import re
import secrets
from enum import StrEnum
from typing import Final

from core.errors import InvalidReferenceError

ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXY"
"""Crockford's base-32 symbols without Z: 31 symbols, so every value is below the modulus."""
_MODULUS: Final = 31
_VALUE: Final = {ch: i for i, ch in enumerate(ALPHABET)}
_CHECK_WEIGHT: Final = 9
_CHECK_INVERSE: Final = pow(_CHECK_WEIGHT, -1, _MODULUS)
_RANDOM_LENGTH: Final = 7
_TYPO_MAP: Final = str.maketrans({"O": "0", "I": "1", "L": "1"})
# Finds a candidate reference inside free text: kind letter, optional separator, 8 symbols with
# optional separators between the two groups.
_IN_TEXT: Final = re.compile(
    r"\b([CR])[\s-]?([0-9A-Za-z]{4})[\s-]?([0-9A-Za-z]{4})\b", flags=re.IGNORECASE
)


class ReferenceKind(StrEnum):
    """What a reference identifies."""

    COMPLAINT = "C"
    SERVICE_REQUEST = "R"


def _check_character(payload: str) -> str:
    """Return the symbol that makes the weighted sum of ``payload`` + it divisible by 31.

    ``payload`` is the kind letter and the seven random symbols; weights run 1 to 8 over it and
    9 on the check symbol.
    """
    total = sum(weight * _VALUE[ch] for weight, ch in enumerate(payload, start=1))
    return ALPHABET[(-total * _CHECK_INVERSE) % _MODULUS]


def _format(kind: ReferenceKind, body: str) -> str:
    return f"{kind.value}-{body[:4]}-{body[4:]}"


def new_reference(kind: ReferenceKind) -> str:
    """Return a fresh random reference of ``kind``, e.g. ``C-7K3Q-9XFD``."""
    payload = "".join(secrets.choice(ALPHABET) for _ in range(_RANDOM_LENGTH))
    return _format(kind, payload + _check_character(kind.value + payload))


def normalise(text: str) -> str:
    """Return the canonical form of a typed reference, or raise if it is not one.

    Raises:
        InvalidReferenceError: wrong length, a character outside the alphabet, an unknown kind
            letter, or a check character that does not match (a typo).
    """
    compact = re.sub(r"[\s-]", "", text).upper()
    if len(compact) != 1 + _RANDOM_LENGTH + 1:
        raise InvalidReferenceError(f"{text!r} is not a reference: wrong length")
    kind_letter, body = compact[0], compact[1:].translate(_TYPO_MAP)
    try:
        kind = ReferenceKind(kind_letter)
    except ValueError:
        raise InvalidReferenceError(f"{text!r} is not a reference: unknown kind") from None
    if any(ch not in _VALUE for ch in body):
        raise InvalidReferenceError(f"{text!r} is not a reference: unexpected character")
    if _check_character(kind.value + body[:-1]) != body[-1]:
        raise InvalidReferenceError(f"{text!r} does not check out: probably mistyped")
    return _format(kind, body)


def is_valid(text: str) -> bool:
    """Return whether ``text`` is a well-formed reference with a matching check character."""
    try:
        normalise(text)
    except InvalidReferenceError:
        return False
    return True


def find_references(text: str) -> list[str]:
    """Return the valid references mentioned in free text, canonical, in order, without repeats."""
    found: list[str] = []
    for match in _IN_TEXT.finditer(text):
        candidate = "".join(match.groups())
        if is_valid(candidate):
            ref = normalise(candidate)
            if ref not in found:
                found.append(ref)
    return found
