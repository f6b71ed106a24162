"""The faster ``tidy``, ``expand_street_words`` and ``split_lines`` give what their first, plainer
definitions (kept here as the reference) gave, on any text: the features they feed are compared
byte for byte between builds."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from business_index.clean.addresses import STREET_WORDS, expand_street_words, split_lines, tidy

_APOSTROPHE = re.compile(r"(?<=\w)['\u2019](?=\w)")
_NOT_ADDRESS_CHARACTER = re.compile(r"[^\w/\-;]")
_SPACES = re.compile(r"\s+")


def reference_tidy(text: str) -> str:
    text = text.upper().replace("&", " AND ")
    text = _APOSTROPHE.sub("", text)
    text = _NOT_ADDRESS_CHARACTER.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def reference_expand(text: str) -> str:
    words = text.split(" ")
    return " ".join(STREET_WORDS.get(w, w) if i > 0 else w for i, w in enumerate(words))


def reference_split_lines(lines: list[str | None]) -> list[str]:
    out: list[str] = []
    for line in lines:
        if line:
            out.extend(part for part in line.split(",") if part.strip())
    return out


# address-like characters, with the awkward ones (apostrophes, odd spaces, accents, commas) made common
_ALPHABET = st.sampled_from(list("ab1 2,;'&/-.\u2019\u00a0\t\n\u2003\u00e9\u00df\u0130\u1e9e_()")) | st.characters()
_TEXT = st.text(_ALPHABET, max_size=40)
_WORDS = st.lists(st.sampled_from([*STREET_WORDS, "MARE", "12A", "", " ", "ST.", "flat"]) | st.text(_ALPHABET, max_size=6),
                  max_size=6).map(" ".join)


@settings(max_examples=500)
@given(_TEXT)
def test_tidy_as_first_defined(text: str) -> None:
    assert tidy(text) == reference_tidy(text)


@settings(max_examples=500)
@given(_WORDS | _TEXT)
def test_expand_street_words_as_first_defined(text: str) -> None:
    assert expand_street_words(text) == reference_expand(text)


@settings(max_examples=300)
@given(st.lists(st.none() | _TEXT, max_size=5))
def test_split_lines_as_first_defined(lines: list[str | None]) -> None:
    assert split_lines(lines) == reference_split_lines(lines)
