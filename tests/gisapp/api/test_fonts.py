"""`/fonts/{fontstack}/{range}.pbf` and `gisapp fonts build`."""
from __future__ import annotations

from urllib.parse import quote

import pytest

from gisapp import create_app
from tiles.glyph_pbf import decode_range


@pytest.fixture()
def glyph_client(test_url, tmp_path, map_assets):
    app = create_app({"DATABASE_URL": test_url, "TESTING": True, "SECRET_KEY": "test",
                      "DATA_DIR": tmp_path, "MAP_ASSETS_DIR": map_assets,
                      "PUBLIC_URL": "http://localhost"})
    yield app.test_client()
    app.extensions["engine"].dispose()


def test_a_range_is_served_as_a_glyph_pbf(glyph_client):
    response = glyph_client.get("/fonts/Noto%20Sans%20Bold/7680-7935.pbf")
    assert response.status_code == 200
    assert response.mimetype == "application/x-protobuf"
    assert "max-age" in response.headers["Cache-Control"]
    [(name, span, glyphs)] = decode_range(response.data)
    assert (name, span) == ("Noto Sans Bold", "7680-7935")
    assert ord("ệ") in {g.id for g in glyphs}


def test_a_comma_separated_stack_list_is_one_composite(glyph_client):
    stacks = "Noto Sans Italic,Noto Sans Regular"
    response = glyph_client.get(f"/fonts/{quote(stacks)}/0-255.pbf")
    [(name, _, glyphs)] = decode_range(response.data)
    assert response.status_code == 200 and name == stacks and len(glyphs) > 150


@pytest.mark.parametrize("path, named", [
    ("/fonts/Open%20Sans%20Regular/0-255.pbf", "Open Sans Regular"),
    ("/fonts/Noto%20Sans%20Regular/0-256.pbf", "0-256"),
    ("/fonts/Noto%20Sans%20Regular/65536-65791.pbf", "65536-65791"),
])
def test_unknown_stacks_and_ranges_are_404_json(glyph_client, path, named):
    response = glyph_client.get(path)
    assert response.status_code == 404
    error = response.get_json()["error"]
    assert error["code"] == "not_found" and named in error["message"]


def test_glyphs_not_built_is_503_saying_what_to_run(test_url, tmp_path):
    app = create_app({"DATABASE_URL": test_url, "TESTING": True, "SECRET_KEY": "test",
                      "DATA_DIR": tmp_path, "MAP_ASSETS_DIR": tmp_path / "none"})
    response = app.test_client().get("/fonts/Noto%20Sans%20Regular/0-255.pbf")
    app.extensions["engine"].dispose()
    assert response.status_code == 503
    assert "gisapp fonts build" in response.get_json()["error"]["message"]


def test_the_style_points_at_our_glyphs_unless_told_otherwise(glyph_client, test_url, tmp_path):
    style = glyph_client.get("/styles/default.json").get_json()
    assert style["glyphs"] == "http://localhost/fonts/{fontstack}/{range}.pbf"
    assert any(layer["type"] == "symbol" for layer in style["layers"])
    outside = "https://glyphs.example/{fontstack}/{range}.pbf"
    app = create_app({"DATABASE_URL": test_url, "TESTING": True, "SECRET_KEY": "test",
                      "DATA_DIR": tmp_path, "GLYPHS_URL": outside})
    assert app.test_client().get("/styles/default.json").get_json()["glyphs"] == outside
    app.extensions["engine"].dispose()


def test_cli_build_is_quick_when_up_to_date(runner, fonts_dir):
    result = runner("fonts", "build", "--dir", str(fonts_dir))
    assert result.exit_code == 0 and "up to date" in result.output


def test_cli_sprite_build_is_quick_when_up_to_date(runner, map_assets):
    result = runner("sprite", "build", "--dir", str(map_assets / "sprite"))
    assert result.exit_code == 0 and "up to date" in result.output and "pump" in result.output


def test_cli_sprite_build_says_which_package_draws_the_icons(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no rsvg-convert on it
    result = runner("sprite", "build", "--dir", str(tmp_path / "sprite"), "--force")
    assert result.exit_code != 0 and "librsvg2-bin" in result.output
