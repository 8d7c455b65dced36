"""Legacy Vietnamese text encodings (TCVN3, VNI-Windows, Windows-1258, UTF-8) to NFC Unicode.

Input convention: the pipeline reads legacy attribute text as latin-1 (each byte becomes
U+00XX, lossless); `convert` turns those byte-characters into Unicode. The TCVN3 and VNI
tables below are the single source for both directions; tests encode every Vietnamese
letter with every tone in both cases through them and check the round trip.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from etl.syllables import is_vietnamese_syllable, strip_tones

ENCODINGS = ("utf-8", "tcvn3", "vni", "cp1258")
ALIASES = {"utf8": "utf-8", "tcvn": "tcvn3", "abc": "tcvn3", "tcvn3-abc": "tcvn3",
           "vni-windows": "vni", "windows-1258": "cp1258", "1258": "cp1258",
           "ascii": "ascii", "unicode": "unicode"}
DETECT_THRESHOLD = 0.6

# Tones in the order of the tables: none, grave (huyền), hook (hỏi), tilde (ngã),
# acute (sắc), dot below (nặng).
TONES = ("", "\u0300", "\u0309", "\u0303", "\u0301", "\u0323")
VOWELS = "aăâeêioôơuưy"
TONE_MARKS = frozenset(TONES[1:])
COMBINING = "[\u0300-\u036f\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"


def _letter(base: str, tone: int) -> str:
    return unicodedata.normalize("NFC", base + TONES[tone])


# TCVN3 (ABC): one byte per lower-case letter; capitals exist only untoned (Ă Â Ê Ô Ơ Ư Đ).
TCVN3_LOWER = {
    "a": "a\xb5\xb6\xb7\xb8\xb9", "ă": "\xa8\xbb\xbc\xbd\xbe\xc6",
    "â": "\xa9\xc7\xc8\xc9\xca\xcb", "e": "e\xcc\xce\xcf\xd0\xd1",
    "ê": "\xaa\xd2\xd3\xd4\xd5\xd6", "i": "i\xd7\xd8\xdc\xdd\xde",
    "o": "o\xdf\xe1\xe2\xe3\xe4", "ô": "\xab\xe5\xe6\xe7\xe8\xe9",
    "ơ": "\xac\xea\xeb\xec\xed\xee", "u": "u\xef\xf1\xf2\xf3\xf4",
    "ư": "\xad\xf5\xf6\xf7\xf8\xf9", "y": "y\xfa\xfb\xfc\xfd\xfe",
}
TCVN3_EXTRA = {"đ": "\xae", "Đ": "\xa7", "Ă": "\xa1", "Â": "\xa2", "Ê": "\xa3", "Ô": "\xa4",
               "Ơ": "\xa5", "Ư": "\xa6"}

# VNI-Windows: base letter + a mark byte; ơ ư đ and the toned i/ỵ are single bytes.
_VNI_PLAIN = ("", "\xf8", "\xfb", "\xf5", "\xf9", "\xef")          # ø û õ ù ï
_VNI_HAT = ("\xe2", "\xe0", "\xe5", "\xe3", "\xe1", "\xe4")        # â à å ã á ä
_VNI_BREVE = ("\xea", "\xe8", "\xfa", "\xfc", "\xe9", "\xeb")      # ê è ú ü é ë
VNI_LOWER = {
    "a": ["a" + m for m in _VNI_PLAIN], "ă": ["a" + m for m in _VNI_BREVE],
    "â": ["a" + m for m in _VNI_HAT], "e": ["e" + m for m in _VNI_PLAIN],
    "ê": ["e" + m for m in _VNI_HAT], "i": ["i", "\xec", "\xe6", "\xf3", "\xed", "\xf2"],
    "o": ["o" + m for m in _VNI_PLAIN], "ô": ["o" + m for m in _VNI_HAT],
    "ơ": ["\xf4" + m for m in _VNI_PLAIN], "u": ["u" + m for m in _VNI_PLAIN],
    "ư": ["\xf6" + m for m in _VNI_PLAIN], "y": ["y" + m for m in _VNI_PLAIN[:5]] + ["\xee"],
}
VNI_EXTRA = {"đ": "\xf1", "Đ": "\xd1"}


def _upper_vni(seq: str) -> str:
    # In VNI every mark byte's capital form is the byte 0x20 lower (ø 0xF8 -> Ø 0xD8).
    return "".join(ch.upper() if ch.isascii() else chr(ord(ch) - 0x20) for ch in seq)


def _build_tables() -> tuple[dict[str, str], dict[str, str]]:
    tcvn3 = dict(TCVN3_EXTRA)
    vni = dict(VNI_EXTRA)
    for base in VOWELS:
        for tone in range(6):
            lower = _letter(base, tone)
            tcvn3[lower] = TCVN3_LOWER[base][tone]
            vni[lower] = VNI_LOWER[base][tone]
            vni[lower.upper()] = _upper_vni(VNI_LOWER[base][tone])
    return tcvn3, vni


TCVN3_ENCODE, VNI_ENCODE = _build_tables()
TCVN3_DECODE = {v: k for k, v in TCVN3_ENCODE.items() if len(v) == 1 and not v.isascii()}
VNI_DECODE = {v: k for k, v in VNI_ENCODE.items() if not v.isascii()}
# Title-case typing in VNI pairs a capital base with a lower-case mark ("Aù" for Á).
VNI_DECODE.update({seq[0].upper() + seq[1:]: VNI_DECODE[seq].upper()
                   for seq in list(VNI_DECODE) if len(seq) == 2 and seq[0].isascii()
                   and seq[0].upper() + seq[1:] not in VNI_DECODE})
VIETNAMESE_LETTERS = frozenset(VNI_ENCODE) | {c.upper() for c in VNI_ENCODE}
_WORD = re.compile(r"\w+")
_TOKEN = re.compile(r"[^\s!-/:-@\[-`{-~]+")  # runs between whitespace and ASCII punctuation
_CP1252_EXTRA = {ch: bytes([b]) for b in range(0x80, 0xA0)
                 for ch in [bytes([b]).decode("cp1252", errors="ignore")] if ch}


class UnknownEncoding(ValueError):
    """An encoding name that is not one of ENCODINGS."""


def canonical_encoding(name: str) -> str:
    """The canonical name for an operator's or a `.cpg` file's encoding name."""
    key = name.strip().lower().replace("_", "-")
    key = ALIASES.get(key, key)
    if key in ENCODINGS or key in ("ascii", "unicode"):
        return key
    raise UnknownEncoding(f"unknown text encoding {name!r}; allowed: {', '.join(ENCODINGS)}")


def as_bytes(text: str) -> bytes:
    """The original bytes of text read as latin-1 (cp1252 readings are accepted too)."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return b"".join(_CP1252_EXTRA.get(ch) or ch.encode("latin-1") for ch in text)


_TCVN3_TABLE = str.maketrans(TCVN3_DECODE)
_VNI_SEQ = re.compile("|".join(re.escape(k) for k in sorted(VNI_DECODE, key=len, reverse=True)))
# A word with two capitals (ASCII or untoned Vietnamese) may be all-capital: check its case.
_CAPS_WORD = re.compile(r"\w*[A-ZĂÂÊÔƠƯĐ]\w*[A-ZĂÂÊÔƠƯĐ]\w*")


def _decode_tcvn3(text: str) -> str:
    decoded = text.translate(_TCVN3_TABLE)
    # "H" fonts drew capitals with the lower-case codes: restore case in all-capital words.
    return _CAPS_WORD.sub(_recase_word, decoded)


def _recase_word(match: re.Match) -> str:
    word = match.group(0)
    # Letters whose case the bytes do tell: ASCII letters and the untoned capitals.
    others = [c for c in word if c.isalpha() and (c.isascii() or c.isupper())]
    if len(others) >= 2 and all(c.isupper() for c in others):
        return word.upper()
    return word


def _decode_vni(text: str) -> str:
    return _VNI_SEQ.sub(lambda m: VNI_DECODE[m.group(0)], text)


def convert(text: str, encoding: str) -> str:
    """Legacy text read as latin-1 -> NFC Unicode. Raises UnicodeDecodeError for bad UTF-8."""
    enc = canonical_encoding(encoding)
    if enc in ("ascii", "unicode") or text.isascii():
        return unicodedata.normalize("NFC", text)
    if enc == "tcvn3":
        return unicodedata.normalize("NFC", _decode_tcvn3(text))
    if enc == "vni":
        return unicodedata.normalize("NFC", _decode_vni(text))
    return unicodedata.normalize("NFC", as_bytes(text).decode(enc))


def encode(text: str, encoding: str) -> str:
    """Unicode -> legacy bytes as latin-1 characters (tests and fixtures use this).

    TCVN3 has no toned capitals: they are written with the lower-case codes, as the
    ".VnTimeH" fonts did.
    """
    enc = canonical_encoding(encoding)
    text = unicodedata.normalize("NFC", text)
    if enc == "tcvn3":
        return "".join(TCVN3_ENCODE.get(c) or _tcvn3_lower_code(c) for c in text)
    if enc == "vni":
        return "".join(VNI_ENCODE.get(c, c) for c in text)
    if enc == "cp1258":
        return b"".join(_encode_cp1258_char(c) for c in text).decode("latin-1")
    return text.encode(enc).decode("latin-1")


def _tcvn3_lower_code(ch: str) -> str:
    return ch if ch.isascii() else TCVN3_ENCODE.get(ch.lower(), ch)


def _encode_cp1258_char(ch: str) -> bytes:
    # Windows-1258 has the letters with hats and horns precomposed; tones are combining marks.
    try:
        return ch.encode("cp1258")
    except UnicodeEncodeError:
        parts = unicodedata.normalize("NFD", ch)
        tone = "".join(c for c in parts if c in TONE_MARKS)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONE_MARKS))
        return base.encode("cp1258") + tone.encode("cp1258")


def is_valid_word(word: str) -> bool:
    """True when a token (letters, maybe digits) reads as Vietnamese syllables."""
    letters = "".join(c for c in word if not c.isdigit())
    if any(not c.isascii() and c not in VIETNAMESE_LETTERS for c in letters):
        return False
    return letters.isascii() or is_vietnamese_syllable(letters)


def _score(values: Sequence[str], encoding: str) -> tuple[float, tuple[str, ...]]:
    good = total = 0
    outputs = []
    for value in values:
        try:
            decoded = convert(value, encoding)
        except UnicodeDecodeError:
            return 0.0, ()
        outputs.append(decoded)
        for word in _TOKEN.findall(decoded):
            if word.isascii():
                continue
            total += 1
            good += is_valid_word(word)
    return (good / total if total else 0.0), tuple(outputs)


def detect(values: Sequence[str]) -> tuple[str, float]:
    """The most likely encoding of a column's values and a confidence in [0, 1].

    Values are text read as latin-1. Pure ASCII is ("ascii", 1.0); text that already holds
    characters beyond latin-1 was decoded correctly upstream: ("unicode", 1.0).
    """
    sample = [v for v in values if isinstance(v, str) and not v.isascii()][:2000]
    if not sample:
        return "ascii", 1.0
    if any(ord(c) > 0xFF and c not in _CP1252_EXTRA for v in sample for c in v):
        return "unicode", 1.0
    scored = sorted(((*_score(sample, enc), enc) for enc in ENCODINGS),
                    key=lambda s: -s[0])
    best_score, best_out, best_enc = scored[0]
    rival = max((s for s, out, _ in scored[1:] if out != best_out), default=0.0)
    confidence = best_score * (1 - 0.5 * rival / best_score) if best_score else 0.0
    return best_enc, round(confidence, 3)


def has_lost_u_horn(original: str, decoded: str) -> bool:
    """True when TCVN3 text probably lost its "ư" (0xAD, a soft hyphen tools delete).

    "Níc" decodes to "Nớc": ơ followed by c, ng or u is not a Vietnamese rhyme, "ươ…" is.
    """
    if "\xad" in original:
        return False
    for word in _WORD.findall(decoded.lower()):
        if re.search(r"(?<!ư)ơ(c|ng|u)", strip_tones(word)):
            return True
    return False


def non_ascii_values(series: Any) -> tuple[np.ndarray, pa.Array] | None:
    """Row positions and values (Arrow) of a column's non-ASCII strings; None if not text."""
    try:
        arr = pa.array(series, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed types: the slow, general way
        values = series.tolist()
        pos = [i for i, v in enumerate(values) if isinstance(v, str) and not v.isascii()]
        return np.asarray(pos, dtype=np.int64), pa.array([values[i] for i in pos], pa.string())
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return None
    mask = pc.fill_null(pc.invert(pc.string_is_ascii(arr)), False)
    pos = np.flatnonzero(mask.to_numpy(zero_copy_only=False))
    return pos, arr if pos.size == len(arr) else arr.take(pa.array(pos, pa.int64()))


def with_values(series: Any, positions: np.ndarray, values: list) -> Any:
    """A copy of `series` (object dtype) with `values` at row `positions`."""
    out = series.astype(object).copy()
    out.iloc[positions] = values
    return out


def _report_entry(enc: str, confidence: float, convert_it: bool) -> dict:
    return {"encoding": enc, "confidence": confidence, "converted": convert_it,
            "changed": 0, "lost_u_horn": []}


def decode_frame(frame: Any, encoding: str | None,
                 decided: dict[str, tuple[str, float]] | None = None) -> tuple[Any, dict]:
    """Convert every text column of a (Geo)DataFrame read as latin-1 to NFC Unicode.

    `encoding` (operator override or `.cpg`) applies to every column; None detects per
    column and converts only when the confidence reaches DETECT_THRESHOLD; "unicode" and
    text detected as Unicode are only normalised to NFC (in Arrow). ASCII values are never
    touched. The report maps each text column to {encoding, confidence, converted, changed,
    lost_u_horn (row positions)}. `decided` carries each column's detected (encoding,
    confidence) from one batch of a source to the next, so every batch converts alike.
    """
    forced = canonical_encoding(encoding) if encoding else None
    report: dict[str, dict] = {}
    out = frame.copy()
    for column in frame.columns:
        found = None if column == getattr(frame, "_geometry_column_name", None) \
            else non_ascii_values(frame[column])
        if found is None:
            continue
        positions, subset = found
        if forced and len(subset):
            enc, confidence = forced, 1.0
        elif decided is not None and str(column) in decided:
            enc, confidence = decided[str(column)]
        else:
            enc, confidence = detect(subset.slice(0, 2000).to_pylist())
            if decided is not None and len(subset):
                decided[str(column)] = (enc, confidence)
        convert_it = confidence >= DETECT_THRESHOLD and enc not in ("ascii", "unicode")
        entry = report[str(column)] = _report_entry(enc, confidence, convert_it)
        if not len(subset):
            continue
        if convert_it:
            values = subset.to_pylist()
            new = [convert(v, enc) for v in values]
            entry["changed"] = sum(a != b for a, b in zip(values, new))
            if enc == "tcvn3":
                entry["lost_u_horn"] = [int(positions[i]) for i, (a, b) in
                                        enumerate(zip(values, new)) if has_lost_u_horn(a, b)]
            out[column] = with_values(frame[column], positions, new)
            continue
        # Only text with combining marks can change under NFC here (RE2 finds it fast).
        marked = np.flatnonzero(pc.fill_null(pc.match_substring_regex(subset, COMBINING), False)
                                .to_numpy(zero_copy_only=False))
        if marked.size:
            values = subset.take(pa.array(marked, pa.int64())).to_pylist()
            out[column] = with_values(frame[column], positions[marked],
                                      [unicodedata.normalize("NFC", v) for v in values])
    return out, report
