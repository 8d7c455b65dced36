"""Vietnamese tone-mark placement ("Hòa" old style / "Hoà" new style) for search and matching.

The two styles differ only in open syllables ending in oa, oe or uy (not after q): the old
style marks the first vowel (hòa, khỏe, thúy), the new style the second (hoà, khoẻ, thuý).
"""
from __future__ import annotations

import re
import unicodedata

TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
STYLES = ("old", "new")
_PAIRS = {("o", "a"), ("o", "e"), ("u", "y")}
_WORD = re.compile(r"\w+")


def _clusters(word: str) -> list[list[str]]:
    out: list[list[str]] = []
    for ch in unicodedata.normalize("NFD", word):
        if unicodedata.combining(ch) and out:
            out[-1].append(ch)
        else:
            out.append([ch])
    return out


def _place(match: re.Match, style: str) -> str:
    word = match.group(0)
    clusters = _clusters(word)
    if len(clusters) < 2:
        return word
    first, second = clusters[-2], clusters[-1]
    pair = (first[0].lower(), second[0].lower())
    if pair not in _PAIRS or (pair == ("u", "y") and len(clusters) > 2
                              and clusters[-3][0].lower() == "q"):
        return word
    if any(m not in TONE_MARKS for m in first[1:] + second[1:]):
        return word  # a hat, breve or horn makes it another vowel (oă, uê…)
    tones = [m for m in first[1:] + second[1:] if m in TONE_MARKS]
    if len(tones) != 1:
        return word
    first[1:], second[1:] = ([tones[0]], []) if style == "old" else ([], [tones[0]])
    return unicodedata.normalize("NFC", "".join("".join(c) for c in clusters))


def normalize_tone_placement(text: str, style: str = "new") -> str:
    """Rewrite every word of `text` (NFC) with tone marks placed in one style."""
    if style not in STYLES:
        raise ValueError(f"tone style {style!r} is not one of {', '.join(STYLES)}")
    return _WORD.sub(lambda m: _place(m, style), unicodedata.normalize("NFC", text))


def search_key(text: str) -> str:
    """A case- and tone-placement-insensitive form of `text` for matching names."""
    return normalize_tone_placement(text, "new").casefold()
