"""Is a word a well-formed Vietnamese syllable? Used to score encoding guesses."""
from __future__ import annotations

import re
import unicodedata

TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
INITIALS = frozenset(
    "b c ch d đ g gh gi h k kh l m n ng ngh nh p ph qu r s t th tr v x".split()) | {""}
FINALS = frozenset("c ch m n ng nh p t".split()) | {""}
NUCLEI = frozenset((
    "a ă â e ê i o ô ơ u ư y "
    "ai ao au âu ay ây eo êu ia iê iu oa oă oe oi ôi ơi oo ua uâ uê ui uô uơ ưa ưi ươ ưu uy "
    "ya yê iêu oai oao oay oeo uây uôi uya uyê uyu ươi ươu yêu").split())
# Nuclei ending in a glide close the syllable; short vowels need a final consonant.
OPEN_NUCLEI = frozenset(
    "ai ao au âu ay ây eo êu iu oi ôi ơi ui ưi ưu ươi ươu iêu yêu oai oao oay oeo uây uôi "
    "uyu".split())
CLOSED_NUCLEI = frozenset("ă â oă uâ oo".split())
_SHAPE = re.compile(r"^([bcdđghklmnpqrstvx]*)([aăâeêioôơuưy]+)([cghmnpt]*)$")


def strip_tones(word: str) -> str:
    """The word without its tone mark (hats, breves and horns stay), NFC."""
    parts = unicodedata.normalize("NFD", word)
    return unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONE_MARKS))


def tone_count(word: str) -> int:
    return sum(1 for c in unicodedata.normalize("NFD", word) if c in TONE_MARKS)


def is_vietnamese_syllable(word: str) -> bool:
    """True for an initial + vowel nucleus + final with at most one tone ("Nẵng", "khuyến")."""
    if tone_count(word) > 1:
        return False
    match = _SHAPE.match(strip_tones(word).lower())
    if not match:
        return False
    initial, nucleus, final = match.groups()
    # "qu" and "gi" take their u / i from what looks like the nucleus.
    if initial == "q" and nucleus.startswith("u") and len(nucleus) > 1:
        initial, nucleus = "qu", nucleus[1:]
    elif initial == "g" and nucleus.startswith("i") and len(nucleus) > 1:
        initial, nucleus = "gi", nucleus[1:]
    if final and nucleus in OPEN_NUCLEI or not final and nucleus in CLOSED_NUCLEI:
        return False
    return initial in INITIALS and nucleus in NUCLEI and final in FINALS
