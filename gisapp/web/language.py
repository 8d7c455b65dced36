"""The UI language: Vietnamese by default, English on request, remembered in a cookie.

The words live in one JSON dictionary per language under `static/i18n/`, shared by the
server-rendered pages (`t(key)` in templates) and the browser code.
"""
from __future__ import annotations

from flask import Flask, Response, current_app, request

from gisapp.words import I18N_DIR, LANGUAGES, dictionary
from layers.city import CITY

__all__ = ["I18N_DIR", "LANGUAGES", "dictionary", "current_language", "translate", "register"]

DEFAULT_LANGUAGE = "vi"
COOKIE = "lang"


def current_language() -> str:
    """`?lang=` if valid, else the remembered cookie, else Vietnamese."""
    for candidate in (request.args.get("lang"), request.cookies.get(COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE


def translate(key: str) -> str:
    """The word for `key` in the current language; a missing key is a bug, so it raises.

    `{city}` in a word is the city's name (layers.city), so no word names the city.
    """
    lang = current_language()
    return dictionary(lang)[key].replace("{city}", CITY.name[lang])


def _remember(response: Response) -> Response:
    chosen = request.args.get("lang")
    if chosen in LANGUAGES and request.cookies.get(COOKIE) != chosen:
        response.set_cookie(COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax",
                            secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def register(app: Flask) -> None:
    """Templates get `lang`, `t` and `city`; a `?lang=` choice is remembered in a cookie."""
    app.context_processor(lambda: {"lang": current_language(), "t": translate,
                                   "languages": LANGUAGES, "city": CITY})
    app.after_request(_remember)
