"""The parcel desk in Chromium: look-ups, the record, holders only for permit officers,
the parcel as it was on a chosen date."""
from __future__ import annotations

import re

import pytest
from pyproj import Geod

from layers import LAYERS, TABLES
from layers.vocabulary import CHANGE_KINDS, value_name

READY = "() => document.getElementById('desk-app')?.dataset.ready === 'true'"
PARCELS = LAYERS["parcels"]
A4_POINTS = (595.28, 841.89)  # 210 mm × 297 mm


def known_key(city) -> dict[str, str]:
    return {"ward": "ward_code-1", "former": "former_ward_code-1", "sheet": "7", "parcel": "7"}


def land_use_text(code: str) -> str:
    """How the record writes a land-use code in Vietnamese: its name, then the code."""
    return f"{value_name('land_use', code)['vi']} ({code})"


def open_desk(session) -> None:
    session.page.goto("/parcel-desk")
    session.page.wait_for_function(READY, timeout=30_000)


def look_up_by_key(session, key: dict[str, str]) -> None:
    for name, value in key.items():
        session.page.fill(f"#key-{name}", value)
    session.page.click("#by-key button[type=submit]")
    session.page.wait_for_function("() => document.getElementById('desk-app').dataset.parcel")


def test_a_public_user_looks_a_parcel_up_by_key_and_sees_no_holder(session, city):
    open_desk(session)
    assert session.page.locator("#by-owner").count() == 0
    look_up_by_key(session, known_key(city))
    record = session.page.inner_text("#record")
    assert PARCELS.field("land_use").label["vi"] in record
    assert session.page.inner_text("#record dd[data-field='address']") == "12 Bạch Đằng, phường Hải Châu"
    assert session.page.locator("#record table.rights").count() == 0
    assert city.owner_name not in session.page.content()
    assert [u for u, body in session.responses if city.owner_name.encode() in body] == []
    session.screenshot("desk_public")
    report = session.page.context.new_page()
    assert report.goto(session.page.get_attribute("#record a.report", "href")).status == 200
    assert "12 Bạch Đằng" in report.content() and city.owner_name not in report.content()
    report.close()
    assert session.console_errors == []


def test_a_permit_officer_finds_a_parcel_by_its_holder_and_sees_the_rights(session, city,
                                                                            live_server):
    session.sign_in(live_server.database_url, "permit_officer")
    open_desk(session)
    session.page.fill("#owner-q", "bi mat")
    session.page.click("#by-owner button[type=submit]")
    session.page.wait_for_function("() => document.getElementById('desk-app').dataset.parcel")
    rights = session.page.locator("#record table.rights")
    assert city.owner_name in rights.inner_text()
    assert TABLES["parties"].field("name").label["vi"] in rights.inner_text()
    session.screenshot("desk_permit_officer", full_page=True)
    assert session.console_errors == []


def test_choosing_a_past_date_shows_the_parcel_as_it_was(session, city):
    land_use, since, until = city.past_land_use
    land_use = land_use_text(land_use)
    open_desk(session)
    look_up_by_key(session, known_key(city))
    assert session.page.inner_text("#record dd[data-field='land_use']") != land_use
    # fill sets a date input and fires its input and change events, as a picked date does;
    # a second "change" sent here made a second look-up whose render could replace the slider
    # between the note appearing and the scroll below ("not attached to the DOM")
    session.page.fill("#as-of", "2022-03-15")
    session.page.locator(".as-of-note").wait_for()
    assert session.page.inner_text("#record dd[data-field='land_use']") == land_use
    assert len([url for url, _ in session.responses if "as_of=2022-03-15" in url]) == 1
    assert session.page.locator("table.history tbody tr").count() == 2
    session.page.locator("#history-slider").scroll_into_view_if_needed()
    session.screenshot("desk_as_of")
    session.page.click("#as-of-clear")
    session.page.locator(".as-of-note").wait_for(state="detached")
    assert session.page.inner_text("#record dd[data-field='land_use']") != land_use


def test_the_time_slider_steps_through_the_parcels_versions_by_keyboard(session, city):
    land_use, since, until = city.past_land_use
    land_use = land_use_text(land_use)
    open_desk(session)
    look_up_by_key(session, known_key(city))
    slider = session.page.locator("#history-slider")
    assert slider.get_attribute("max") == "1" and slider.input_value() == "1"
    slider.focus()
    session.page.keyboard.press("Home")
    session.page.locator(".as-of-note").wait_for()
    assert session.page.inner_text("#record dd[data-field='land_use']") == land_use
    assert session.page.input_value("#as-of") == since
    assert session.page.locator("#history-slider").input_value() == "0"
    session.page.locator("#history-slider").focus()
    session.page.keyboard.press("End")
    session.page.locator(".as-of-note").wait_for(state="detached")
    assert session.page.inner_text("#record dd[data-field='land_use']") != land_use
    assert session.console_errors == []


def test_the_desk_has_no_serious_accessibility_violations(session, city):
    open_desk(session)
    look_up_by_key(session, known_key(city))
    violations = session.axe_violations()
    assert [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations] == []


def test_on_a_tablet_the_desk_fits_the_screen_width(session, city):
    session.page.set_viewport_size({"width": 768, "height": 1024})
    open_desk(session)
    look_up_by_key(session, known_key(city))
    assert session.page.evaluate("document.documentElement.scrollWidth") <= 768
    assert session.page.evaluate("deskMap.getCanvas().getBoundingClientRect().width") >= 300
    session.screenshot("desk_tablet", full_page=True)
    assert session.console_errors == []


def run_check(session, floors: str, height: str, area: str | None = None,
              footprint: list[tuple[float, float]] | None = None) -> dict:
    """Fill the pre-check form and run it; returns the saved check as the API gives it."""
    session.page.select_option("#pc-use", index=0)
    session.page.fill("#pc-floors", floors)
    session.page.fill("#pc-height", height)
    if footprint:
        session.page.click("#pc-draw")
        for lon, lat in footprint:
            point = session.page.evaluate(
                """([lon, lat]) => { const p = deskMap.project([lon, lat]);
                     const r = deskMap.getCanvas().getBoundingClientRect();
                     return [r.left + p.x, r.top + p.y]; }""", [lon, lat])
            session.page.mouse.click(*point)
            session.page.wait_for_timeout(350)
        session.page.keyboard.press("Enter")
    else:
        session.page.fill("#pc-area", area)
    before = session.page.get_attribute("#permit-result p.verdict", "data-check") \
        if session.page.locator("#permit-result p.verdict").count() else None
    session.page.click("#permit button[type=submit]")
    session.page.wait_for_function(
        "(before) => { const v = document.querySelector('#permit-result p.verdict');"
        " return v && v.dataset.check !== before; }", arg=before)
    check_id = session.page.get_attribute("#permit-result p.verdict", "data-check")
    return session.page.evaluate(
        "async (id) => (await fetch(`/api/permits/checks/${id}`)).json()", check_id)


def pdf_pages(pdf: bytes) -> list[tuple[float, float]]:
    """Width and height (points) of every page of a PDF Chromium printed."""
    return [(float(w), float(h)) for w, h in
            re.findall(rb"/Type\s*/Page\b.*?/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf, re.S)]


def test_a_permit_officer_runs_a_failing_and_a_passing_pre_check_and_prints_it(
        session, city, live_server):
    session.sign_in(live_server.database_url, "permit_officer")
    open_desk(session)
    look_up_by_key(session, known_key(city))
    failing = run_check(session, floors="40", height="150", area="60")
    assert failing["verdict"] == "fail"
    assert session.page.get_attribute("#permit-result p.verdict", "data-verdict") == "fail"
    rows = session.page.locator("#permit-result table.rules tbody tr")
    assert rows.count() == len(failing["results"])
    assert session.page.locator("#permit-result tr[data-status='fail']").count() == sum(
        r["status"] == "fail" for r in failing["results"])
    # Within every limit of the known zone (6 floors, 25 m, 80 % coverage), on ground above
    # the rules' minimum level, inside the parcel, clear of pipes, reserves, floods, heritage.
    lon, lat = city.centre("parcels")
    d = 0.00008  # a footprint of about 17 m × 17 m in the middle of the parcel
    passing = run_check(session, floors="2", height="7", footprint=[
        (lon - d, lat - d), (lon + d, lat - d), (lon + d, lat + d), (lon - d, lat + d)])
    expected_area = abs(Geod(ellps="WGS84").polygon_area_perimeter(
        [lon - d, lon + d, lon + d, lon - d], [lat - d, lat - d, lat + d, lat + d])[0])
    assert passing["site"]["footprint_area_m2"] == pytest.approx(expected_area, rel=0.05)
    assert {r["rule_id"]: r["status"] for r in passing["results"]
            if r["status"] not in ("pass", "not_applicable")} == {}
    assert passing["verdict"] == "pass"
    elevation = next(r for r in passing["results"] if r["rule_id"] == "ground_elevation")
    assert (elevation["status"], elevation["measured"]) == ("pass", city.ground_level_m)
    assert session.page.get_attribute("#permit-result p.verdict", "data-verdict") == "pass"
    assert session.page.locator("#permit-result tr[data-status='fail']").count() == 0
    session.screenshot("desk_permit_check", full_page=True)
    href = session.page.get_attribute("#permit-result a.print", "href")
    printed = session.page.context.new_page()
    response = printed.goto(live_server.url + href)
    assert response.status == 200
    assert passing["parcel_uid"] in printed.content()
    printed.emulate_media(media="print")
    printed.set_viewport_size({"width": 703, "height": 1032})  # A4 less 12 mm margins, 96 dpi
    printed.screenshot(path=str(session.screenshot("desk_permit_print").parent / "desk_permit_print.png"),
                       full_page=True)
    pages = pdf_pages(printed.pdf(prefer_css_page_size=True, print_background=True))
    assert pages == [(pytest.approx(A4_POINTS[0], abs=1), pytest.approx(A4_POINTS[1], abs=1))]
    printed.close()
    assert session.console_errors == []


def test_the_history_names_each_change_and_the_rights_name_their_type(session, city, live_server):
    session.sign_in(live_server.database_url, "permit_officer")
    open_desk(session)
    look_up_by_key(session, known_key(city))
    changes = session.page.eval_on_selector_all(
        "table.history td[data-field='change']", "(cells) => cells.map((c) => c.textContent)")
    assert sorted(changes) == sorted(CHANGE_KINDS[k]["vi"] for k in ("create", "update"))
    right_type = TABLES["rights"].field("right_type").choices[0]  # the known right's type
    assert session.page.inner_text("#record table.rights td[data-field='right_type']") == \
        value_name("right_type", right_type)["vi"]
    assert session.console_errors == []


def test_a_parcel_link_opens_its_record(session, city):
    uid = "ward_code-1-former_ward_code-1-7-7"
    session.page.goto(f"/parcel-desk#parcel={uid}")
    session.page.wait_for_function(READY, timeout=30_000)
    session.page.wait_for_function(
        f"() => document.getElementById('desk-app').dataset.parcel === '{uid}'")
    assert session.page.inner_text("#record dd[data-field='address']") == "12 Bạch Đằng, phường Hải Châu"
    assert session.console_errors == []
