"""UI language: Vietnamese by default, English on request, remembered; one dictionary each."""
from __future__ import annotations

import json
import re

from gisapp.web.language import I18N_DIR, LANGUAGES, dictionary

ROOT = I18N_DIR.parents[1]
KEY_USES = (re.compile(r"""data-i18n=["']([\w.]+)["']"""),
            re.compile(r"""\bt\(\s*["']([\w.]+)["']\s*\)"""),
            re.compile(r""":([\w]+\.[\w.]+)["';]"""))  # data-i18n-attr="attr:key"


def test_every_language_has_the_same_words():
    keys = {lang: set(json.loads((I18N_DIR / f"{lang}.json").read_text())) for lang in LANGUAGES}
    assert keys["vi"] == keys["en"]


def test_every_word_the_pages_and_scripts_use_is_in_the_dictionaries():
    sources = [*ROOT.joinpath("templates").rglob("*.html"), *ROOT.joinpath("static", "js").rglob("*.js")]
    used = {key for path in sources for pattern in KEY_USES
            for key in pattern.findall(path.read_text(encoding="utf-8"))}
    assert len(used) > 20
    assert sorted(used - set(dictionary("vi"))) == []


def test_pages_are_vietnamese_by_default(client):
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="vi">' in html
    assert dictionary("vi")["home.loaded_data"] in html


def test_a_chosen_language_is_remembered_in_a_cookie(client):
    first = client.get("/map?lang=en")
    assert '<html lang="en">' in first.get_data(as_text=True)
    assert "lang=en" in first.headers["Set-Cookie"]
    later = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in later
    assert dictionary("en")["home.loaded_data"] in later


def test_an_unknown_language_falls_back_to_vietnamese(client):
    response = client.get("/?lang=fr")
    assert '<html lang="vi">' in response.get_data(as_text=True)
    assert not [c for c in response.headers.getlist("Set-Cookie") if c.startswith("lang=")]


def test_every_proposed_use_of_a_permit_check_has_a_name_in_both_languages():
    from gisapp.permits.sitemodel import PROPOSED_USES

    for lang in LANGUAGES:
        assert [u for u in PROPOSED_USES if f"permit.use.{u}" not in dictionary(lang)] == []


def test_no_ui_word_names_the_city_the_pages_say_it_from_the_city_module(client):
    from layers.city import CITY

    for lang in LANGUAGES:
        words = dictionary(lang).values()
        assert not [w for w in words if "Nẵng" in w or "Nang" in w], lang
        page = client.get(f"/map?lang={lang}").get_data(as_text=True)
        assert f"gisapp · {CITY.name[lang]}" in page
