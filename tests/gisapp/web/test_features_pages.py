"""The OGC API Features HTML pages in a browser: a MapLibre map of the features (or the
collection's extent) under a strict Content-Security-Policy, in Vietnamese and English."""
from __future__ import annotations

import pytest

# No inline script or style element may run; MapLibre's workers come from blob: URLs.
STRICT_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; "
              "img-src 'self' data: blob:; worker-src 'self' blob:; child-src blob:; "
              "connect-src 'self'; object-src 'none'; base-uri 'none'")
MAP_READY = ("() => window.featureMap instanceof maplibregl.Map"
             " && document.getElementById('feature-map').dataset.ready === 'true'")


def with_strict_csp(page) -> None:
    """Every HTML document the page loads carries the strict policy."""
    def add_policy(route):
        response = route.fetch()
        headers = dict(response.headers)
        if headers.get("content-type", "").startswith("text/html"):
            headers["content-security-policy"] = STRICT_CSP
        route.fulfill(response=response, headers=headers)
    page.route("**/*", add_policy)


@pytest.mark.parametrize("url, drawn", [
    ("/collections/parcels/items?f=html&limit=20", 20),
    ("/collections/street_lights/items/1?f=html", 1),
    ("/collections/parcels?f=html", 1),  # the extent as one rectangle
])
def test_features_pages_draw_their_map_under_a_strict_csp(demo_session, url, drawn):
    page = demo_session.page
    with_strict_csp(page)
    page.goto(url)
    page.wait_for_function(MAP_READY, timeout=30_000)
    count = page.evaluate("() => window.featureMap.getSource('ogc-features').serialize().data.features"
                          ".length")
    assert count == drawn
    shown = page.evaluate("() => window.featureMap.queryRenderedFeatures({layers: "
                          "['ogc-fill', 'ogc-line', 'ogc-point']}).length")
    assert shown > 0
    violations = [e for e in demo_session.console_errors if "Content Security Policy" in e]
    assert violations == []


def test_features_pages_speak_both_languages(demo_session):
    page = demo_session.page
    page.goto("/collections?f=html&lang=en")
    assert page.locator("h1").inner_text() == "Collections"
    assert page.locator("tr[data-collection=parcels] td").first.inner_text() == "Land parcels"
    page.goto("/collections?f=html&lang=vi")
    assert page.locator("h1").inner_text() == "Tập dữ liệu"
    assert page.locator("tr[data-collection=parcels] td").first.inner_text() == "Thửa đất"
    page.goto("/collections/parcels/items?f=html&limit=5&lang=en")
    # The cursor is the last id on the page; ids depend on what earlier tests loaded.
    next_link = page.locator("a[rel=next]")
    href = next_link.get_attribute("href")
    assert "after=" in href and "lang=en" in href
    next_link.click()
    page.wait_for_url("**" + href.split("?", 1)[1] + "**")
    assert "Next page" in page.locator("nav.ogc-paging").inner_text()
