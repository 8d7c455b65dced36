"""The words of the UI and of saved results: one JSON dictionary per language.

They live under `static/i18n/`, shared by the server-rendered pages, the browser code and
the texts the server writes into results (permit check explanations). Adding a language is
adding its dictionary and its code here.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from layers.model import LANGUAGES

__all__ = ["LANGUAGES", "I18N_DIR", "dictionary", "phrase"]
I18N_DIR = Path(__file__).resolve().parents[1] / "static" / "i18n"


@lru_cache(maxsize=None)
def dictionary(lang: str) -> dict[str, str]:
    """The words for one language, from static/i18n/<lang>.json."""
    return json.loads((I18N_DIR / f"{lang}.json").read_text(encoding="utf-8"))


def phrase(key: str, **values: Any) -> dict[str, str]:
    """The text of `key` in every language, `values` filled in ({name}, {name:.1f}).

    A value that is itself a phrase (a dict by language) is filled in language by language.
    """
    return {lang: dictionary(lang)[key].format(
                **{k: v[lang] if isinstance(v, dict) else v for k, v in values.items()})
            for lang in LANGUAGES}
