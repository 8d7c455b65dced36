"""Signing in from the map and the role-aware header."""
from __future__ import annotations

from layers import ROLES


def test_a_visitor_is_offered_sign_in_and_comes_back_to_the_map(session, live_server):
    session.page.goto("/map")
    session.page.click("nav.account a")
    assert "/login" in session.page.url
    user = session.sign_in(live_server.database_url, "planner")
    header = session.page.inner_text("nav.account")
    assert user in header
    assert "Cán bộ quy hoạch" in header
    session.page.wait_for_function("() => document.getElementById('map-app').dataset.ready")
    session.screenshot("map_signed_in_planner")
    assert session.console_errors == []


def test_every_role_has_a_name_in_both_languages():
    import json

    from gisapp.web.language import I18N_DIR

    for lang in ("vi", "en"):
        words = json.loads((I18N_DIR / f"{lang}.json").read_text(encoding="utf-8"))
        assert all(f"role.{role}" in words for role in ROLES)
