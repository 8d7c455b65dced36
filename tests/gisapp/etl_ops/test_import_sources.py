"""POST /api/etl/imports: who may import, and every malicious source refused with a 4xx."""
from __future__ import annotations

import functools
import http.server
import io
import os
import threading
import zipfile
from pathlib import Path

import psycopg
import pytest

from tests.auth_helpers import auth_headers
from tests.gisapp.etl_ops.conftest import geojson_points, point_layer

VRT = (b'<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>/vsicurl/http://example.org/'
       b'x.shp</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>')


def _zip(members: dict[str, bytes], links: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o120777 << 16  # a symbolic link
            zf.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()
            and not str(p.relative_to(root)).startswith("data/spool")
            and not p.name.startswith("worker-")}


def _post(client, headers, body: bytes | None = None, name: str = "x.zip", **fields):
    data = {"layer": point_layer().id, **fields}
    if body is not None:
        data["file"] = (io.BytesIO(body), name)
    return client.post("/api/etl/imports", data=data, headers=headers,
                       content_type="multipart/form-data")


def _runs(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM etl_runs").fetchone()[0]


BOMB_BLOCK = os.urandom(25_000)
MALICIOUS = {
    "zip slip": ({"../../outside/evil.geojson": b"{}"}, "unsafe path"),
    "absolute path": ({"/tmp/evil.geojson": b"{}"}, "unsafe path"),
    "windows drive": ({"C:\\evil.geojson": b"{}"}, "unsafe path"),
    "zip bomb ratio": ({"bomb.geojson": b"\0" * (5 << 20)}, "-fold"),
    "zip bomb total": ({f"part{i}.csv": BOMB_BLOCK * 40 for i in range(3)}, "unpacks to"),
    "file count": ({f"f{i}.csv": b"a" for i in range(25)}, "at most 20"),
    "nested too deep": ({"a.zip": _zip({"b.zip": _zip({"c.geojson": b"{}"})})}, "nests"),
    "vrt inside": ({"layer.geojson": VRT}, "never VRT"),
    "vrt named as shp": ({"layer.shp": VRT, "layer.dbf": b""}, "never VRT"),
}


@pytest.mark.parametrize("case", list(MALICIOUS))
def test_malicious_archives_are_refused_and_nothing_is_written(ops_client, operator, ops_dirs,
                                                               scratch_url, case):
    members, message = MALICIOUS[case]
    before = _files(ops_dirs["data"].parent)
    resp = _post(ops_client, operator, _zip(members))
    assert resp.status_code == 400, resp.json
    assert message in resp.json["error"]["message"]
    assert _files(ops_dirs["data"].parent) == before
    assert list((ops_dirs["data"] / "spool").iterdir()) == []
    assert _runs(scratch_url) == 0


def test_symlinks_in_archives_are_refused(ops_client, operator, ops_dirs):
    resp = _post(ops_client, operator, _zip({"ok.geojson": b"{}"}, links=("link.geojson",)))
    assert resp.status_code == 400 and "symbolic link" in resp.json["error"]["message"]
    assert list((ops_dirs["data"] / "spool").iterdir()) == []


def test_oversize_upload_is_413_json(ops_client, operator, ops_dirs):
    resp = _post(ops_client, operator, b"{" + b" " * (1 << 20) + b"}", name="big.geojson")
    assert resp.status_code == 413 and resp.json["error"]["code"]
    assert not (ops_dirs["data"] / "spool").exists() or \
        list((ops_dirs["data"] / "spool").iterdir()) == []


@pytest.mark.parametrize("name, body, message", [
    ("layer.vrt", VRT, "not accepted"),
    ("layer.geojson", VRT, "never VRT"),
    ("layer.gpkg", b"SQLite format 3\0" + b"\0" * 200, "not GPKG"),
    ("noext", b"{}", "not accepted"),
])
def test_only_allowed_formats_by_name_and_content(ops_client, operator, name, body, message):
    resp = _post(ops_client, operator, body, name=name)
    assert resp.status_code == 400 and message in resp.json["error"]["message"]


@pytest.mark.parametrize("path", ["/vsicurl/http://example.org/x.geojson", "../outside/x.geojson",
                                  "/etc/passwd", "missing.geojson", "/vsizip//tmp/x.zip/a.shp"])
def test_path_references_stay_inside_the_import_dir(ops_client, operator, ops_dirs, path,
                                                    scratch_url):
    (ops_dirs["outside"] / "x.geojson").write_bytes(geojson_points(point_layer(), 2))
    before = _files(ops_dirs["data"].parent)
    resp = _post(ops_client, operator, path=path)
    assert resp.status_code == 400, resp.json
    assert _files(ops_dirs["data"].parent) == before
    assert list((ops_dirs["data"] / "spool").iterdir()) == []
    assert _runs(scratch_url) == 0


def test_a_path_reference_is_copied_into_the_spool(ops_client, operator, ops_dirs, scratch_url):
    (ops_dirs["imports"] / "weekly").mkdir()
    (ops_dirs["imports"] / "weekly" / "points.geojson").write_bytes(
        geojson_points(point_layer(), 3))
    resp = _post(ops_client, operator, path="weekly/points.geojson")
    assert resp.status_code == 202
    with psycopg.connect(scratch_url) as conn:
        source, args = conn.execute(
            "SELECT r.source, j.args FROM etl_runs r JOIN procrastinate_jobs j"
            " ON (j.args->>'run_id')::bigint = r.id").fetchone()
    assert source == "import-dir:weekly/points.geojson"
    assert Path(args["options"]["path"]).is_relative_to(ops_dirs["data"] / "spool")
    assert Path(args["options"]["path"]).read_bytes() == geojson_points(point_layer(), 3)


@pytest.fixture()
def http_files(tmp_path: Path):
    """A local http.server on 127.0.0.1 serving tmp_path/www; yields its base URL."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_urls_must_be_on_the_allow_list(ops_app, operator, http_files, scratch_url):
    root, base = http_files
    (root / "allowed").mkdir()
    (root / "allowed" / "p.geojson").write_bytes(geojson_points(point_layer(), 2))
    (root / "p.geojson").write_bytes(geojson_points(point_layer(), 2))
    settings = ops_app.extensions["settings"]
    ops_app.extensions["settings"] = type(settings).load(
        {**{k: getattr(settings, k) for k in ("database_url", "data_dir", "import_dir",
                                              "max_upload_mb", "secret_key")},
         "import_url_allow": f"{base}/allowed"})
    client = ops_app.test_client()
    written = settings.data_dir.parent
    before = _files(written)
    refused = _post(client, operator, url=f"{base}/p.geojson")
    assert refused.status_code == 400 and "allow-list" in refused.json["error"]["message"]
    sneaky = _post(client, operator, url=f"{base}/allowed/../p.geojson")
    assert sneaky.status_code == 400
    other = _post(client, operator, url=f"{base}/allowedx/p.geojson")
    assert other.status_code == 400
    virtual = _post(client, operator, url=f"/vsicurl/{base}/allowed/p.geojson")
    assert virtual.status_code == 400
    assert _files(written) == before and _runs(scratch_url) == 0
    assert list((settings.data_dir / "spool").iterdir()) == []
    accepted = _post(client, operator, url=f"{base}/allowed/p.geojson")
    assert accepted.status_code == 202, accepted.json
    assert _runs(scratch_url) == 1


@pytest.mark.parametrize("role, status", [("public", 401), ("planner", 403),
                                          ("permit_officer", 403), ("admin", 202)])
def test_only_operators_and_admins_may_import(ops_client, scratch_url, role, status):
    resp = _post(ops_client, auth_headers(scratch_url, role),
                 geojson_points(point_layer(), 1), name="p.geojson")
    assert resp.status_code == status


@pytest.mark.parametrize("fields, message", [
    ({"layer": "no_such_layer"}, "no_such_layer"),
    ({"mode": "merge"}, "mode 'merge'"),
    ({"encoding": "koi8-r"}, "unknown text encoding"),
    ({"colour": "red"}, "unknown fields colour"),
])
def test_bad_parameters_are_refused(ops_client, operator, fields, message):
    resp = _post(ops_client, operator, geojson_points(point_layer(), 1), name="p.geojson",
                 **fields)
    assert resp.status_code in (400, 404) and message in resp.json["error"]["message"]


def test_a_zip_with_several_shapefiles_needs_source_layer(ops_client, operator):
    shp = b"\x00\x00\x27\x0a" + b"\0" * 96
    body = _zip({"a/roads.shp": shp, "a/roads.dbf": b"", "b/pipes.shp": shp,
                 "b/pipes.dbf": b""})
    resp = _post(ops_client, operator, body)
    assert resp.status_code == 400 and "pipes.shp, roads.shp" in resp.json["error"]["message"]
    assert _post(ops_client, operator, body, source_layer="pipes").status_code == 202
