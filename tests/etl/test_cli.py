"""`gisapp etl import` prints a summary and exits non-zero with the reason on bad input."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from gisapp.cli import cli


@pytest.fixture()
def etl_cli(scratch_url, monkeypatch):
    """Runs `gisapp etl …` in-process against the scratch database."""
    monkeypatch.setenv("DATABASE_URL", scratch_url)
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, ["etl", *args], catch_exceptions=False)


def test_import_prints_counts_changes_and_first_rejects(etl_cli, versioned_layer, small_parcels,
                                                        write_source):
    gdf = small_parcels(3)
    gdf.loc[2, "geometry"] = gdf.loc[2, "geometry"].buffer(0).centroid
    result = etl_cli("import", versioned_layer.id, str(write_source(gdf, "gpkg")))
    assert result.exit_code == 0, result.output
    assert "succeeded" in result.output and "added" in result.output
    assert f"rejected row 3: geometry is Point, layer needs {versioned_layer.geometry_type}" \
        in result.output


def test_refused_crs_exits_non_zero_with_the_reason(etl_cli, versioned_layer, small_parcels,
                                                    write_source):
    path = write_source(small_parcels(2), "gpkg")
    result = etl_cli("import", versioned_layer.id, str(path), "--crs",
                     "+proj=tmerc +lon_0=107.75 +k=0.9999 +x_0=500000 +ellps=WGS84")
    assert result.exit_code == 1
    assert "no VN-2000 datum shift" in result.output and "--confirm-crs" in result.output


def test_unknown_layer_exits_non_zero(etl_cli, tmp_path):
    result = etl_cli("import", "nope", str(tmp_path / "x.gpkg"))
    assert result.exit_code == 1 and "unknown layer 'nope'" in result.output


def test_runs_lists_the_latest_run(etl_cli, versioned_layer, small_parcels, write_source):
    etl_cli("import", versioned_layer.id, str(write_source(small_parcels(2), "gpkg")))
    result = etl_cli("runs", "--layer", versioned_layer.id)
    assert result.exit_code == 0 and "succeeded" in result.output
