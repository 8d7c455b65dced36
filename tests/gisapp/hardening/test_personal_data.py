"""Personal data follows roles everywhere: caching, ETL rejects, secrets in output, file names.

Which responses are restricted is derived from the registry's access levels: a response that
carries a field above the public level must not be stored by any cache.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import psycopg
import pytest

from etl.pipeline import ImportFailed, ImportRequest, run_import
from gisapp import create_app
from layers import LAYERS, TABLES, Access, levels_for
from tests.auth_helpers import auth_headers, make_token
from tiles.grid import tile_of

HOLDER_NAME = "Trần Thị Bí Mật"
HOLDER_ID = "048199912345"
CENTRE = (108.2210, 16.0680)  # Hải Châu, inside the demo city


def _no_store(resp) -> None:
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    cache = {p.strip() for p in resp.headers.get("Cache-Control", "").split(",")}
    assert {"private", "no-store"} <= cache, resp.headers.get("Cache-Control")
    vary = {v.strip().lower() for v in resp.headers.get("Vary", "").split(",")}
    assert {"authorization", "cookie"} <= vary, resp.headers.get("Vary")


def _not_public(resp) -> None:
    assert resp.status_code in (200, 204), resp.status_code
    assert "public" not in resp.headers.get("Cache-Control", ""), resp.headers["Cache-Control"]
    assert "cookie" in resp.headers.get("Vary", "").lower()


def _a_parcel(test_url: str) -> str:
    with psycopg.connect(test_url) as conn:
        return conn.execute("SELECT r.parcel_uid FROM rights r JOIN parcels p USING"
                            " (parcel_uid) ORDER BY 1 LIMIT 1").fetchone()[0]


def _a_holder(test_url: str) -> str:
    with psycopg.connect(test_url) as conn:
        return conn.execute("SELECT name FROM parties ORDER BY party_id LIMIT 1").fetchone()[0]


# --- caching: every response carrying restricted fields is private, no-store -----------------

def test_parcel_documents_for_a_permit_officer_are_never_stored(client, test_url):
    uid = _a_parcel(test_url)
    officer = auth_headers(test_url, "permit_officer")
    doc = client.get(f"/api/parcels/{uid}", headers=officer)
    assert doc.json["rights"][0]["party"]["name"]  # it does carry a holder
    _no_store(doc)
    for path in (f"/api/parcels/{uid}/history", f"/api/parcels/{uid}/report",
                 f"/api/parcels/{uid}/report?f=html"):
        _no_store(client.get(path, headers=officer))
    owner = _a_holder(test_url)
    _no_store(client.get("/api/parcels/search", query_string={"owner": owner},
                         headers=officer))


def test_the_public_parcel_document_stays_cacheable_by_rule(client, test_url):
    resp = client.get(f"/api/parcels/{_a_parcel(test_url)}")
    assert resp.status_code == 200 and "rights" not in resp.json
    assert "no-store" not in resp.headers.get("Cache-Control", "")


def test_the_audit_log_is_never_stored(client, test_url):
    _no_store(client.get("/api/admin/audit", headers=auth_headers(test_url, "admin")))


def _restricted_layers() -> list[str]:
    """Layers with a field above the public level (derived from the registry)."""
    return [lid for lid, layer in LAYERS.items()
            if any(f.access is not Access.PUBLIC for f in layer.fields)]


@pytest.mark.parametrize("layer_id", _restricted_layers())
@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_feature_items_with_restricted_fields_are_never_stored(client, test_url, layer_id, fmt):
    admin = auth_headers(test_url, "admin")
    _no_store(client.get(f"/collections/{layer_id}/items",
                         query_string={"f": fmt, "limit": 2}, headers=admin))


def test_tiles_and_tilejson_for_signed_in_callers_are_never_public(client, test_url):
    tile = "14/{}/{}".format(*tile_of(*CENTRE, 14))
    anonymous = client.get(f"/tiles/roads/{tile}.mvt")
    assert "public" in anonymous.headers["Cache-Control"]  # the configured default
    signed_in_public = {"Authorization": "Bearer " + make_token(test_url, "public",
                                                                name="test-signed-in-public")}
    for headers in (signed_in_public, auth_headers(test_url, "planner"),
                    auth_headers(test_url, "permit_officer")):
        _not_public(client.get(f"/tiles/roads/{tile}.mvt", headers=headers))
        _not_public(client.get("/tiles/roads.json", headers=headers))
        _not_public(client.get("/styles/default.json", headers=headers))
        _not_public(client.get("/rasters/elevation.json", headers=headers))
        _not_public(client.get(f"/rasters/elevation/{tile}.png", headers=headers))


# --- ETL rejects show each caller only the columns their access allows ------------------------

def _csv(path: Path, rows: list[list]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


@pytest.fixture()
def rejected_holders(scratch_url: str, tmp_path: Path) -> dict[str, int]:
    """A parties run and a rights run, each with rejected rows carrying a holder's name/ID."""
    parties = _csv(tmp_path / "holders.csv", [
        ["MaChu", "kind", "HoTen", "CCCD", "birth_year", "address"],
        ["P1", "person", "Lê Văn An", "048011111111", "1970", "1 Bạch Đằng"],
        ["P2", "robot", HOLDER_NAME, HOLDER_ID, "1980", "2 Bạch Đằng"],
        ["P3", "person", HOLDER_NAME, HOLDER_ID, "năm 1990", "3 Bạch Đằng"],
    ])
    rights = _csv(tmp_path / "rights.csv", [
        ["parcel_uid", "party_id", "right_type", "share", "HoTen", "CCCD", "ghi_chu"],
        ["20242-20254-3-101", "P1", "use", "1", "Lê Văn An", "048011111111", "ok"],
        ["20242-20254-3-101", "P2", "rent", "1", HOLDER_NAME, HOLDER_ID, "sai loại"],
    ])
    runs = {}
    for table, path in (("parties", parties), ("rights", rights)):
        try:
            runs[table] = run_import(scratch_url, ImportRequest(layer=table, path=path,
                                                                mode="upsert")).run_id
        except ImportFailed as exc:
            runs[table] = exc.result.run_id
    return runs


def _rejects(client, headers, run_id: int) -> tuple[list[dict], str]:
    j = client.get(f"/api/etl/runs/{run_id}/rejects", headers=headers)
    c = client.get(f"/api/etl/runs/{run_id}/rejects?f=csv", headers=headers)
    _no_store(j)
    _no_store(c)
    return j.json["rejects"], c.get_data(as_text=True)


def test_an_etl_operator_sees_no_holder_in_rejected_parties_or_rights(scratch_app, scratch_url,
                                                                        rejected_holders):
    client = scratch_app.test_client()
    operator = auth_headers(scratch_url, "etl_operator")
    for table, run_id in rejected_holders.items():
        rows, text = _rejects(client, operator, run_id)
        assert rows, f"the {table} run must have rejects"
        for secret in (HOLDER_NAME, HOLDER_ID, "1990"):
            assert secret not in str(rows) and secret not in text, (table, secret)
        assert all("HoTen" not in r["attributes"] and "CCCD" not in r["attributes"]
                   for r in rows)
    parties, _ = _rejects(client, operator, rejected_holders["parties"])
    assert {r["attributes"]["MaChu"] for r in parties} == {"P2", "P3"}  # what it may see stays
    assert any(r["reason"] == "birth_year: (hidden) is not an integer" for r in parties)
    rights, _ = _rejects(client, operator, rejected_holders["rights"])
    assert rights[0]["attributes"]["right_type"] == "rent"
    assert rights[0]["attributes"]["ghi_chu"] == "sai loại"  # unknown, not a personal name


def test_an_admin_sees_the_whole_rejected_row(scratch_app, scratch_url, rejected_holders):
    client = scratch_app.test_client()
    rows, text = _rejects(client, auth_headers(scratch_url, "admin"),
                          rejected_holders["parties"])
    assert {r["attributes"]["HoTen"] for r in rows} == {HOLDER_NAME}
    assert HOLDER_ID in text and "'năm 1990' is not an integer" in text


def test_reject_visibility_is_derived_from_the_registry():
    """A column named like a field the role may not read is hidden from the rejects of every
    declaration, unless that declaration's own field of that name is one the role may read."""
    from etl.fields import column_names
    from gisapp.etl_ops.reject_view import is_visible_column

    staff = levels_for("etl_operator")
    every = (*LAYERS.values(), *TABLES.values())
    hidden = {name for t in every for f in t.fields
              if f.access not in staff for name in column_names(f)}
    assert {"hoten", "cccd", "name", "id_number"} <= hidden
    for decl in every:
        for name in hidden:
            own = [f for f in decl.fields if name in column_names(f)]
            readable = bool(own) and own[0].access in staff
            assert is_visible_column(decl, staff, name) is readable, (decl.id, name)


# --- passwords never reach output or logs ----------------------------------------------------

SECRET = "s3cr3t-Pa55"


def test_db_status_masks_the_password(runner, test_url):
    assert ":gisapp@" in test_url  # the test database's URL carries a password
    result = runner("db", "status")
    assert result.exit_code == 0, result.output
    assert ":gisapp@" not in result.output and ":***@" in result.output


def test_an_unreachable_database_error_masks_the_password(runner):
    for command in (("db", "status"), ("etl", "runs"), ("etl", "schedule", "list")):
        result = runner(*command, env={"DATABASE_URL":
                                       f"postgresql://gisapp:{SECRET}@127.0.0.1:1/nowhere"})
        assert result.exit_code != 0, command
        assert SECRET not in result.output and "***" in result.output, result.output


def test_log_lines_and_tracebacks_mask_passwords(test_url, tmp_path, caplog):
    import logging

    create_app({"DATABASE_URL": test_url, "TESTING": True, "DATA_DIR": tmp_path,
                "SECRET_KEY": "test"}).extensions["engine"].dispose()
    log = logging.getLogger("gisapp.hardening.test")
    url = f"postgresql://gisapp:{SECRET}@db.internal:5432/gisapp"
    with caplog.at_level(logging.INFO):
        log.warning("cannot reach %s", url)
        log.info("conninfo host=db password=%s dbname=gisapp", SECRET)
        try:
            raise RuntimeError(f"connecting to {url} failed")
        except RuntimeError:
            log.exception("unhandled error")
    assert SECRET not in caplog.text and "gisapp:***@db.internal" in caplog.text
    assert "password=***" in caplog.text and "RuntimeError" in caplog.text


def test_the_mask_keeps_urls_without_passwords():
    from gisapp.secret_masking import mask_passwords

    for text in ("http://127.0.0.1:8000/tiles/roads.json", "postgresql://gisapp@db/gisapp",
                 "a=1&b=2", "user@example.org"):
        assert mask_passwords(text) == text
    assert mask_passwords("https://u:p%40ss@h/x") == "https://u:***@h/x"


# --- errors shown to operators name their file, never our spool ------------------------------

def _ops_app(scratch_url: str, data_dir: Path):
    return create_app({"DATABASE_URL": scratch_url, "TESTING": True, "SECRET_KEY": "test",
                       "DATA_DIR": data_dir})


def _point_layer_id() -> str:
    return next(lid for lid, layer in LAYERS.items() if layer.geometry_type == "Point")


def _no_internal_path(text: str, data_dir: Path) -> None:
    for internal in (str(data_dir), "spool", "upload.", "unpacked"):
        assert internal not in text, (internal, text)


def test_a_refused_upload_names_the_operators_file(scratch_url, tmp_path):
    app = _ops_app(scratch_url, tmp_path / "data")
    try:
        resp = app.test_client().post(
            "/api/etl/imports", headers=auth_headers(scratch_url, "etl_operator"),
            content_type="multipart/form-data",
            data={"layer": _point_layer_id(), "file": (io.BytesIO(b"PK junk"), "đèn 2024.zip")})
    finally:
        app.extensions["engine"].dispose()
    assert resp.status_code == 400
    assert "đèn 2024.zip" in resp.json["error"]["message"]
    _no_internal_path(resp.json["error"]["message"], tmp_path / "data")


def test_a_failed_run_names_the_operators_file(scratch_url, tmp_path):
    from gisapp.etl_ops.execute import execute_run

    data_dir = tmp_path / "data"
    app = _ops_app(scratch_url, data_dir)
    operator = auth_headers(scratch_url, "etl_operator")
    client = app.test_client()
    try:
        queued = client.post("/api/etl/imports", headers=operator,
                             content_type="multipart/form-data",
                             data={"layer": _point_layer_id(), "file": (
                                 io.BytesIO(b'{"type": "FeatureCollection", "features": [ oops'),
                                 "đèn-hải-châu.geojson")})
        assert queued.status_code == 202, queued.json
        run_id = queued.json["run_id"]
        with psycopg.connect(scratch_url) as conn:
            args = conn.execute("SELECT args FROM procrastinate_jobs WHERE task_name ="
                                " 'etl:execute_run'").fetchone()[0]
        # what the worker's task runs
        assert execute_run(scratch_url, app.extensions["settings"], run_id,
                           args["options"]) == "failed"
        run = client.get(f"/api/etl/runs/{run_id}", headers=operator).json
        listed = client.get("/api/etl/runs", headers=operator).json["runs"][0]
    finally:
        app.extensions["engine"].dispose()
    assert run["status"] == "failed" and "đèn-hải-châu.geojson" in run["error"], run["error"]
    for text in (run["error"], run["source"], json.dumps(run["warnings"]), listed["error"]):
        _no_internal_path(text, data_dir)


def test_a_configured_cache_control_without_public_still_becomes_private(scratch_url, tmp_path):
    app = create_app({"DATABASE_URL": scratch_url, "TESTING": True, "SECRET_KEY": "test",
                      "DATA_DIR": tmp_path, "TILE_CACHE_CONTROL": "max-age=600"})
    try:
        client = app.test_client()
        signed_in = {"Authorization": "Bearer " + make_token(scratch_url, "public",
                                                             name="test-signed-in-public")}
        resp = client.get("/tiles/roads/14/{}/{}.mvt".format(*tile_of(*CENTRE, 14)),
                          headers=signed_in)
    finally:
        app.extensions["engine"].dispose()
    assert resp.status_code in (200, 204)
    assert resp.headers["Cache-Control"] == "private, max-age=600"
