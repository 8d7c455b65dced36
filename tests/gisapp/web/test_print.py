"""The print layout in Chromium: the map's view on a sheet, printed to a one-page PDF that
holds the map, its legend, the scale bar, VN-2000 corner coordinates, date and credits."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from layers import LAYERS
from layers.city import CITY
from layers.sources import OPENSTREETMAP, WARD_BOUNDARIES
from tiles.palettes import PALETTES

from .conftest import SCREENSHOTS

VIEW = "#map=15.00/16.0600/108.2150&layers=wards,water,roads,parcels,buildings,zoning"
READY = "() => document.getElementById('print-app').dataset.ready === 'true'"


def _open(session, paper: str = "a4", orientation: str = "landscape") -> None:
    session.page.goto(f"/map/print{VIEW}")
    session.page.wait_for_function(READY, timeout=30_000)
    if (paper, orientation) != ("a4", "landscape"):
        session.page.select_option("#print-paper", paper)
        session.page.select_option("#print-orientation", orientation)
        session.page.wait_for_function(
            f"() => document.getElementById('print-app').dataset.paper === '{paper}-{orientation}'")


def _pdf(session, path: Path, paper: str, landscape: bool) -> Path:
    session.page.emulate_media(media="print")
    session.page.pdf(path=str(path), format=paper.upper(), landscape=landscape,
                     print_background=True, prefer_css_page_size=True)
    session.page.emulate_media(media="screen")
    return path


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    return int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))


def _ppm(path: Path) -> np.ndarray:
    """A binary PPM (P6) as a height x width x 3 array."""
    data = path.read_bytes()
    magic, width, height, depth, body = data.split(maxsplit=4)
    assert magic == b"P6" and depth == b"255"
    return np.frombuffer(body, np.uint8).reshape(int(height), int(width), 3)


def _text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout


def test_the_sheet_shows_the_legend_of_drawn_layers_scale_and_corners(demo_session):
    _open(demo_session)
    legend = demo_session.page.inner_text("#sheet-legend")
    for layer_id in ("roads", "parcels", "zoning"):
        assert LAYERS[layer_id].title["vi"] in legend
    assert LAYERS["drainage_pipes"].title["vi"] not in legend  # not open in the shared view
    assert re.fullmatch(r"1:[\d.]+", demo_session.page.inner_text("#sheet-scale"))
    assert re.search(r"\d+ (m|km)", demo_session.page.inner_text("#sheet-scalebar"))
    corners = demo_session.page.inner_text("#sheet-corners")
    eastings = [int(e.replace(".", "")) for e in re.findall(r"E ([\d.]+)", corners)]
    assert len(eastings) == 2 and all(540_000 < e < 560_000 for e in eastings)  # TM-3 107°45′
    assert CITY.metric_crs in corners
    demo_session.page.fill("#print-title-input", "Phường Hải Châu – quy hoạch")
    assert demo_session.page.inner_text("#sheet-title") == "Phường Hải Châu – quy hoạch"
    violations = demo_session.axe_violations()
    assert violations == [], [(v["id"], v["help"]) for v in violations]
    assert demo_session.console_errors == []


@pytest.mark.parametrize("paper,orientation", [("a4", "landscape"), ("a3", "portrait")])
def test_the_print_pdf_is_one_page_with_map_legend_and_scale(demo_session, tmp_path, paper,
                                                            orientation):
    _open(demo_session, paper, orientation)
    pdf = _pdf(demo_session, tmp_path / "map.pdf", paper, orientation == "landscape")
    assert _pages(pdf) == 1
    text = _text(pdf)
    assert "Chú giải" in text and LAYERS["parcels"].title["vi"] in text
    assert re.search(r"Tỉ lệ\s+1:[\d.]+", text) and re.search(r"\d+ (m|km)", text)
    assert CITY.metric_crs in text
    shot = tmp_path / "page"
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-singlefile", str(pdf), str(shot)], check=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / f"print_{paper}_{orientation}.png").write_bytes(shot.with_suffix(".png").read_bytes())
    subprocess.run(["pdftoppm", "-r", "20", "-singlefile", str(pdf), str(shot)], check=True)
    pixels = _ppm(shot.with_suffix(".ppm"))
    height, width, _ = pixels.shape
    assert (width > height) == (orientation == "landscape")
    # the map fills much of the sheet with colour, not white paper
    spread = pixels.max(axis=2).astype(int) - pixels.min(axis=2)
    assert (spread > 20).mean() > 0.2
    assert demo_session.console_errors == []


INSIDE_BOX = """() => {
  const box = document.querySelector('.legend-box').getBoundingClientRect();
  return [...document.querySelectorAll('#sheet-legend > li')].map((li) => {
    const r = li.getBoundingClientRect();
    return [li.querySelector('strong').textContent, r.bottom <= box.bottom + 0.5
            && r.right <= box.right + 0.5 && r.width > 0];
  });
}"""


@pytest.mark.parametrize("paper,orientation", [("a4", "landscape"), ("a4", "portrait")])
def test_a_legend_of_every_layer_fits_the_sheet(demo_session, paper, orientation):
    demo_session.page.goto("/map/print#map=15.00/16.0600/108.2150&layers=" + ",".join(LAYERS))
    demo_session.page.wait_for_function(READY, timeout=30_000)
    if (paper, orientation) != ("a4", "landscape"):
        demo_session.page.select_option("#print-orientation", orientation)
        demo_session.page.wait_for_function(
            f"() => document.getElementById('print-app').dataset.paper === '{paper}-{orientation}'")
    entries = demo_session.page.evaluate(INSIDE_BOX)
    assert len(entries) >= 10  # the layers drawn at z15, each with its swatches
    assert [title for title, inside in entries if not inside] == []
    demo_session.screenshot(f"print_{paper}_{orientation}_every_layer")
    assert demo_session.console_errors == []


def test_the_map_links_to_the_print_layout_with_its_view(demo_session):
    demo_session.page.goto(f"/map{VIEW}")
    demo_session.page.wait_for_function(
        "() => document.getElementById('print-link').getAttribute('href').includes('#map=')")
    href = demo_session.page.get_attribute("#print-link", "href")
    assert href.startswith("/map/print#map=15.00/") and "layers=" in href


def _swatches(session, layer_id: str) -> list[str]:
    """The colours of one layer's legend swatches on the sheet."""
    return session.page.evaluate(
        """(title) => [...document.querySelectorAll('#sheet-legend > li')]
             .filter((li) => li.querySelector('strong').textContent === title)
             .flatMap((li) => [...li.querySelectorAll('.swatch')])
             .map((s) => s.style.getPropertyValue('--swatch'))""", LAYERS[layer_id].title["vi"])


@pytest.mark.parametrize("palette", ["cadastral", "dark"])
def test_the_legend_is_in_the_colours_of_the_sheets_map_theme(demo_session, palette):
    demo_session.page.goto(f"/map/print{VIEW}&palette={palette}")
    demo_session.page.wait_for_function(READY, timeout=30_000)
    field, pairs = LAYERS["parcels"].style.by
    swatches = _swatches(demo_session, "parcels")
    recolour = PALETTES[palette].fill
    assert swatches[:len(pairs)] == [recolour(colour) for _, colour in pairs]
    assert swatches[0] != pairs[0][1]  # not the light theme's
    demo_session.screenshot(f"print_{palette}_sheet")
    assert demo_session.console_errors == []


def test_the_sheet_credits_only_the_sources_of_the_layers_it_shows(demo_session):
    demo_session.page.goto("/map/print#map=15.00/16.0600/108.2150&layers=roads,parcels")
    demo_session.page.wait_for_function(READY, timeout=30_000)
    credits = demo_session.page.inner_text("#sheet-attribution")
    assert LAYERS["parcels"].source.attribution in credits
    assert WARD_BOUNDARIES.attribution not in credits
    assert OPENSTREETMAP.attribution in credits  # the roads and parcels of the real block
    demo_session.page.goto(f"/map/print{VIEW},facilities")
    demo_session.page.reload()  # only the hash changed: load the sheet again
    demo_session.page.wait_for_function(READY, timeout=30_000)
    credits = demo_session.page.inner_text("#sheet-attribution")
    assert WARD_BOUNDARIES.attribution in credits and OPENSTREETMAP.attribution in credits
