"""Case references: shape, randomness, forgiving input and the check character."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import InvalidReferenceError
from core.references import (
    ALPHABET,
    ReferenceKind,
    find_references,
    is_valid,
    new_reference,
    normalise,
)

CANONICAL = re.compile(r"^[CR]-[0-9A-HJKMNP-TV-Y]{4}-[0-9A-HJKMNP-TV-Y]{4}$")
# Crockford's base-32 symbols without Z (31 symbols, so the mod-31 check sees every change).
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXY"
TYPEABLE = CROCKFORD + "Z"  # what a resident might type: Z is never issued, so it is a typo
FILLER = "5"


def complete(kind: str, body: list[str], hole: int) -> str:
    """Return the one reference that fills ``body[hole]`` so the check character matches.

    Found by trying every symbol through the public API, so the tests do not share the
    product's check-character arithmetic.
    """
    fits = []
    for symbol in CROCKFORD:
        candidate = body.copy()
        candidate[hole] = symbol
        text = f"{kind}-{''.join(candidate[:4])}-{''.join(candidate[4:])}"
        if is_valid(text):
            fits.append(text)
    assert len(fits) == 1, f"exactly one symbol should complete {body} at {hole}: {fits}"
    return fits[0]


def body_of(reference: str) -> str:
    return reference.replace("-", "")[1:]


def with_body(kind: str, body: str) -> str:
    return f"{kind}-{body[:4]}-{body[4:]}"


# Fixed references, so a failure names the same case on every run.
SAMPLES = [
    complete("C", list("7K3Q9XF?"), 7),
    complete("R", list("0000000?"), 7),
    complete("C", list("YYYYYYY?"), 7),
    complete("R", list("M4N8P2W?"), 7),
]


def test_the_alphabet_is_crockford_base32_without_z() -> None:
    assert ALPHABET == CROCKFORD
    assert not set("ILOUZ") & set(ALPHABET)


# --- new references ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(ReferenceKind))
def test_a_new_reference_has_the_canonical_shape_and_kind(kind: ReferenceKind) -> None:
    for _ in range(200):
        reference = new_reference(kind)
        assert CANONICAL.match(reference), reference
        assert reference[0] == kind.value
        assert is_valid(reference)


def test_reference_kinds_are_c_and_r() -> None:
    assert {k.value for k in ReferenceKind} == {"C", "R"}
    assert ReferenceKind.COMPLAINT.value == "C"
    assert ReferenceKind.SERVICE_REQUEST.value == "R"


@pytest.mark.parametrize("kind", list(ReferenceKind))
def test_new_references_do_not_repeat(kind: ReferenceKind) -> None:
    references = [new_reference(kind) for _ in range(2000)]
    assert len(set(references)) == len(references)
    # Not just distinct: the random part uses the whole alphabet in every position.
    for position in range(7):
        assert len({body_of(r)[position] for r in references}) == len(CROCKFORD)


# --- normalise: forgiving input --------------------------------------------------------------


@pytest.mark.parametrize("reference", SAMPLES)
@pytest.mark.parametrize(
    "typed",
    [
        lambda r: r,
        lambda r: r.lower(),
        lambda r: r.replace("-", ""),
        lambda r: r.replace("-", " "),
        lambda r: r.replace("-", " - "),
        lambda r: f"  {r}  ",
        lambda r: "-".join(r.replace("-", "")),
        lambda r: " ".join(r.replace("-", "")).lower(),
        lambda r: r[:6] + "--" + r[6:],
        lambda r: r.replace("-", "\t"),
    ],
    ids=[
        "as-is",
        "lower",
        "no-hyphens",
        "spaces",
        "spaced-hyphens",
        "padded",
        "hyphen-everywhere",
        "space-everywhere-lower",
        "double-hyphen",
        "tabs",
    ],
)
def test_normalise_accepts_how_people_type_it(reference: str, typed) -> None:
    assert normalise(typed(reference)) == reference


@pytest.mark.parametrize(
    ("body", "typo", "meaning"),
    [
        ("0000000", "O", "0"),
        ("0000000", "o", "0"),
        ("1111111", "I", "1"),
        ("1111111", "i", "1"),
        ("1111111", "L", "1"),
        ("1111111", "l", "1"),
    ],
)
def test_normalise_reads_o_as_zero_and_i_l_as_one(body: str, typo: str, meaning: str) -> None:
    reference = complete("C", [*body, "?"], 7)
    typed = "C" + body_of(reference).replace(meaning, typo)
    assert typo.upper() in typed.upper()
    assert normalise(typed) == reference


@pytest.mark.parametrize(("check", "typo"), [("0", "o"), ("0", "O"), ("1", "I"), ("1", "l")])
def test_the_check_character_may_itself_be_typed_as_a_look_alike(check: str, typo: str) -> None:
    reference = complete("R", ["?", *"234567", check], 0)
    assert reference.endswith(check)
    assert normalise(reference[:-1] + typo) == reference


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "wrong length"),
        ("C", "wrong length"),
        ("C-7K3Q-9XF", "wrong length"),
        ("C-7K3Q-9XFDD", "wrong length"),
        ("C-7K3Q9-XFDD1", "wrong length"),
        ("X-7K3Q-9XFD", "unknown kind"),
        ("0-7K3Q-9XFD", "unknown kind"),
        ("S-7K3Q-9XFD", "unknown kind"),
        ("C-7K3Q-9XF!", "unexpected character"),
        ("C-7K3Q-9XFU", "unexpected character"),
        ("C-7K3Q-9XFZ", "unexpected character"),
        ("C-Z000-0000", "unexpected character"),
        ("C-7K3Q-9X_D", "unexpected character"),
        ("C-7K3Q-9XFé", "unexpected character"),
    ],
)
def test_malformed_references_are_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidReferenceError, match=reason) as raised:
        normalise(text)
    assert repr(text) in str(raised.value), "the message should quote what was typed"
    assert not is_valid(text)


def test_a_wrong_check_character_is_called_a_typo() -> None:
    reference = SAMPLES[0]
    last = reference[-1]
    wrong = reference[:-1] + next(s for s in CROCKFORD if s != last)
    with pytest.raises(InvalidReferenceError, match="mistyped"):
        normalise(wrong)


# --- the check character ---------------------------------------------------------------------


@pytest.mark.parametrize("reference", SAMPLES)
def test_every_single_character_substitution_is_rejected(reference: str) -> None:
    compact = reference.replace("-", "")
    accepted = []
    for position, symbol in itertools.product(range(len(compact)), TYPEABLE):
        if compact[position] == symbol:
            continue
        typo = compact[:position] + symbol + compact[position + 1 :]
        if is_valid(typo):
            accepted.append(typo)
    assert accepted == []


@pytest.mark.parametrize("reference", SAMPLES)
def test_the_other_kind_letter_is_rejected(reference: str) -> None:
    other = "R" if reference[0] == "C" else "C"
    with pytest.raises(InvalidReferenceError, match="mistyped"):
        normalise(other + reference[1:])


@pytest.mark.parametrize("reference", SAMPLES)
def test_every_adjacent_transposition_in_a_reference_is_rejected(reference: str) -> None:
    body = body_of(reference)
    accepted = []
    for i in range(len(body) - 1):
        if body[i] == body[i + 1]:
            continue
        swapped = body[:i] + body[i + 1] + body[i] + body[i + 2 :]
        if is_valid(reference[0] + swapped):
            accepted.append(swapped)
    assert accepted == []


def _swaps_accepted(position: int, pairs) -> list[str]:
    """Return the references whose symbols at ``position`` and ``position + 1`` can be swapped
    without the check character noticing, over the given symbol pairs."""
    accepted = []
    for first, second in pairs:
        body = [FILLER] * 8
        body[position], body[position + 1] = first, second
        # Fill a position outside the pair so the reference is valid.
        hole = 7 if position < 6 else 0
        reference = complete("C", body, hole)
        valid = body_of(reference)
        swapped = valid[:position] + second + first + valid[position + 2 :]
        if is_valid("C" + swapped):
            accepted.append(with_body("C", swapped))
    return accepted


ALL_PAIRS = list(itertools.permutations(CROCKFORD, 2))


@pytest.mark.parametrize("position", range(7))
def test_every_adjacent_transposition_of_different_symbols_is_rejected(position: int) -> None:
    """Exhaustive over the 31 x 30 ordered pairs at each of the seven adjacent positions,
    including 0 and Y, the smallest and largest values (the case Luhn mod N misses)."""
    assert _swaps_accepted(position, ALL_PAIRS) == []


# --- find_references -------------------------------------------------------------------------


def test_find_references_in_free_text() -> None:
    ref = SAMPLES[0]
    typed = f"{ref[:6].lower()} {ref[7:].lower()}"  # c-7k3q 9xf?
    assert find_references(f"about my complaint {typed} please") == [ref]


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{a}", ["a"]),
        ("Re: {a} and {b}", ["a", "b"]),
        ("{b}, then {a}", ["b", "a"]),
        ("{a} again {a_lower} and {a_compact}", ["a"]),
        ("({a}).", ["a"]),
        ("ref:{a_compact}!", ["a"]),
        ("nothing here at all", []),
        ("call 0300 111 3000", []),
        ("{a_typo} is wrong", []),
        ("x{a_compact}", []),
        ("{a_compact}x", []),
    ],
)
def test_find_references_cases(template: str, expected: list[str]) -> None:
    a, b = SAMPLES[0], SAMPLES[3]
    a_typo = a[:-1] + ("0" if a[-1] != "0" else "1")
    text = template.format(
        a=a,
        b=b,
        a_lower=a.lower(),
        a_compact=a.replace("-", ""),
        a_typo=a_typo,
    )
    assert find_references(text) == [{"a": a, "b": b}[name] for name in expected]


def test_find_references_reads_look_alikes() -> None:
    reference = complete("C", list("1010101?"), 7)
    typed = reference.replace("1", "l").replace("0", "O").lower()
    assert find_references(f"my ref is {typed} thanks") == [reference]


# --- properties ------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(kind=st.sampled_from(list(ReferenceKind)))
def test_property_a_new_reference_is_already_canonical(kind: ReferenceKind) -> None:
    reference = new_reference(kind)
    assert normalise(reference) == reference
    assert find_references(f"see {reference}.") == [reference]


SEPARATORS = st.sampled_from(["", "", "-", " ", "  ", "- "])


@settings(max_examples=200, deadline=None)
@given(
    kind=st.sampled_from("CR"),
    payload=st.text(alphabet=CROCKFORD, min_size=7, max_size=7),
    separators=st.lists(SEPARATORS, min_size=10, max_size=10),
    lower=st.lists(st.booleans(), min_size=9, max_size=9),
    look_alikes=st.lists(st.sampled_from(["keep", "O/I", "O/L"]), min_size=8, max_size=8),
)
def test_property_normalise_is_idempotent_and_forgiving(
    kind: str,
    payload: str,
    separators: list[str],
    lower: list[bool],
    look_alikes: list[str],
) -> None:
    reference = complete(kind, [*payload, "?"], 7)
    assert CANONICAL.match(reference)
    compact = reference.replace("-", "")
    typed_chars = []
    for i, ch in enumerate(compact):
        typed = ch
        if i > 0 and look_alikes[i - 1] != "keep":
            zero, one = look_alikes[i - 1].split("/")
            typed = {"0": zero, "1": one}.get(ch, ch)
        typed_chars.append(typed.lower() if lower[i] else typed)
    typed_text = separators[0] + "".join(
        c + s for c, s in zip(typed_chars, separators[1:], strict=True)
    )
    assert normalise(typed_text) == reference
    assert normalise(normalise(typed_text)) == normalise(typed_text)
