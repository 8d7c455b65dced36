"""Network findings recorded on the import run of drainage pipes (nodes from conftest.py)."""
import geopandas as gpd
import psycopg
import pytest
import shapely
from pyproj import Transformer

from etl.pipeline import ImportRequest, run_import
from gisapp.analysis.import_check import (check_network_after_loads, findings_warnings,
                                         stop_network_check)
from layers.city import CITY
from layers.drainage import DRAINAGE_PIPES
from tests.gisapp.analysis.conftest import E0, N0, WHERE

TO_WGS84 = Transformer.from_crs(CITY.metric_srid, 4326, always_xy=True)


def pipes_file(tmp_path, pipes: dict) -> str:
    rows, geoms = [], []
    for pid, (a, b, up, down) in pipes.items():
        ends = [TO_WGS84.transform(E0 + WHERE[n][0], N0 + WHERE[n][1]) for n in (a, b)]
        rows.append({"pipe_id": pid, "from_node": a, "to_node": b, "diameter_mm": 600,
                     "invert_up": up, "invert_down": down})
        geoms.append(shapely.LineString(ends))
    path = tmp_path / "pipes.geojson"
    gpd.GeoDataFrame(rows, geometry=geoms, crs=4326).to_file(path, driver="GeoJSON")
    return path


@pytest.fixture()
def hook(network_url):
    installed = check_network_after_loads(network_url)
    yield installed
    stop_network_check(network_url)


def run_warnings(url: str, run_id: int) -> list[str]:
    with psycopg.connect(url) as c:
        return c.execute("SELECT warnings FROM etl_runs WHERE id = %s", (run_id,)).fetchone()[0]


BAD = {"P1": ("A", "B", 5.0, 4.8), "P2": ("B", "C", 4.8, 4.6), "P3": ("C", "O", 4.6, 4.4),
       "P5": ("C", "G", 4.6, 4.7), "P6": ("G", "C", 4.7, 4.6), "P7": ("Z", "A", 5.2, 5.0)}


def test_a_pipes_load_records_the_network_findings_on_its_run(network_url, hook, tmp_path):
    # A -> B -> C -> O, C <-> G (P5 uphill), and P7 from the missing node Z
    path = pipes_file(tmp_path, BAD)
    result = run_import(network_url, ImportRequest(DRAINAGE_PIPES.id, path))
    stored = run_warnings(network_url, result.run_id)
    expected = ["drainage network: 3 finding(s) after this load (cycle 1, dangling_pipe 1, "
                "uphill_pipe 1); all of them: gisapp drainage check or "
                "GET /api/analysis/drainage/findings",
                "drainage dangling_pipe: pipe P7 refers to missing node(s) Z",
                "drainage cycle: flow returns to its start through nodes C, G",
                "drainage uphill_pipe: pipe P5 flows uphill: invert 4.6 m at C, 4.7 m at G"]
    assert [w for w in stored if w.startswith("drainage")] == expected
    assert [w for w in result.warnings if w.startswith("drainage")] == expected


def test_a_clean_network_load_adds_no_warning_and_the_hook_is_installed_once(network_url, hook,
                                                                            tmp_path):
    assert check_network_after_loads(network_url) is hook
    path = pipes_file(tmp_path, {"P1": ("A", "B", 5.0, 4.8), "P2": ("B", "C", 4.8, 4.6),
                                 "P3": ("C", "O", 4.6, 4.4)})
    result = run_import(network_url, ImportRequest(DRAINAGE_PIPES.id, path))
    assert not [w for w in run_warnings(network_url, result.run_id) if w.startswith("drainage")]


def test_long_finding_lists_are_counted_and_cut():
    findings = [{"check": "dangling_pipe", "message": f"pipe X{i} refers to missing node(s) Y"}
                for i in range(25)]
    warnings = findings_warnings(findings)
    assert len(warnings) == 21 and warnings[0].startswith("drainage network: 25 finding(s)")
    assert findings_warnings([]) == []


def test_loads_after_the_hook_is_stopped_are_not_checked(network_url, tmp_path):
    stop_network_check(network_url)  # none installed: no error
    check_network_after_loads(network_url)
    stop_network_check(network_url)
    result = run_import(network_url, ImportRequest(DRAINAGE_PIPES.id, pipes_file(tmp_path, BAD)))
    assert not [w for w in run_warnings(network_url, result.run_id) if w.startswith("drainage")]


def test_the_import_command_records_findings_and_leaves_no_hook_behind(network_url, runner,
                                                                        tmp_path):
    result = runner("etl", "import", DRAINAGE_PIPES.id, str(pipes_file(tmp_path, BAD)),
                    env={"DATABASE_URL": network_url})
    assert result.exit_code == 0, result.output
    with psycopg.connect(network_url) as c:
        run_id = c.execute("SELECT max(id) FROM etl_runs").fetchone()[0]
    assert any(w.startswith("drainage network: 3 finding(s)")
               for w in run_warnings(network_url, run_id))
    after = run_import(network_url, ImportRequest(DRAINAGE_PIPES.id, pipes_file(tmp_path, BAD)))
    assert not [w for w in after.warnings if w.startswith("drainage")]
