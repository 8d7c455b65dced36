"""GET /api/etl/runs filters and paging; one run's record; rejects paging and CSV; errors."""
from __future__ import annotations

import psycopg
import pytest
from psycopg.types.json import Jsonb

from layers import LAYERS
from store.run_lifecycle import queue_run

LAYER_IDS = list(LAYERS)[:2]


@pytest.fixture()
def history(scratch_url):
    """Five runs over two layers and three days; run 1 has three rejects."""
    ids = []
    with psycopg.connect(scratch_url) as conn, conn.transaction():
        for i, (layer, status, day) in enumerate([
                (LAYER_IDS[0], "succeeded", "2026-11-01"), (LAYER_IDS[0], "failed", "2026-11-02"),
                (LAYER_IDS[1], "succeeded", "2026-11-02"), (LAYER_IDS[1], "queued", "2026-11-03"),
                (LAYER_IDS[0], "succeeded", "2026-11-03")]):
            run_id = queue_run(conn, layer=layer, source=f"upload:f{i}.gpkg",
                               source_format="gpkg", mode="replace", encoding=None,
                               dry_run=False, started_by="op")
            conn.execute("UPDATE etl_runs SET status = %s, created_at = %s::date + interval"
                         " '8 hours' WHERE id = %s", (status, day, run_id))
            ids.append(run_id)
        for n in (3, 1, 2):
            conn.execute("INSERT INTO etl_rejects (run_id, row_number, reason, attributes)"
                         " VALUES (%s, %s, %s, %s)", (ids[0], n, f"reason {n}",
                                                      Jsonb({"name": f"Thửa {n}", "n": n})))
    return ids


def _ids(client, headers, query: str) -> list[int]:
    resp = client.get(f"/api/etl/runs?{query}", headers=headers)
    assert resp.status_code == 200, resp.json
    return [r["id"] for r in resp.json["runs"]]


def test_runs_filter_by_layer_status_and_date(ops_client, operator, history):
    assert _ids(ops_client, operator, "") == history[::-1]
    assert _ids(ops_client, operator, f"layer={LAYER_IDS[1]}") == [history[3], history[2]]
    assert _ids(ops_client, operator, "status=succeeded") == [history[4], history[2], history[0]]
    assert _ids(ops_client, operator, "since=2026-11-02&until=2026-11-03") == \
        [history[2], history[1]]
    page = ops_client.get("/api/etl/runs?limit=2&offset=2", headers=operator).json
    assert page["total"] == 5 and [r["id"] for r in page["runs"]] == [history[2], history[1]]


@pytest.mark.parametrize("query, message", [("status=done", "status 'done'"),
                                            ("since=yesterday", "since 'yesterday'"),
                                            ("limit=0", "limit must be"),
                                            ("limit=abc", "limit must be")])
def test_bad_run_filters_are_400(ops_client, operator, history, query, message):
    resp = ops_client.get(f"/api/etl/runs?{query}", headers=operator)
    assert resp.status_code == 400 and message in resp.json["error"]["message"]


def test_one_run_and_its_rejects(ops_client, operator, history):
    run = ops_client.get(f"/api/etl/runs/{history[0]}", headers=operator).json
    assert run["source"] == "upload:f0.gpkg" and run["started_by"] == "op"
    assert run["created_at"].startswith("2026-11-01")
    page = ops_client.get(f"/api/etl/runs/{history[0]}/rejects?limit=2", headers=operator).json
    assert page["total"] == 3 and [r["row_number"] for r in page["rejects"]] == [1, 2]
    assert page["rejects"][0]["attributes"] == {"name": "Thửa 1", "n": 1}
    csv_resp = ops_client.get(f"/api/etl/runs/{history[0]}/rejects?f=csv", headers=operator)
    assert csv_resp.mimetype == "text/csv"
    assert "attachment" in csv_resp.headers["Content-Disposition"]
    lines = csv_resp.get_data(as_text=True).lstrip("\ufeff").splitlines()
    # JSONB keeps attribute names in its own order (shorter first).
    assert lines == ["row_number,reason,n,name", "1,reason 1,1,Thửa 1", "2,reason 2,2,Thửa 2",
                     "3,reason 3,3,Thửa 3"]


def test_unknown_runs_are_404_and_other_formats_400(ops_client, operator, history):
    assert ops_client.get("/api/etl/runs/999999", headers=operator).status_code == 404
    assert ops_client.get("/api/etl/runs/999999/rejects", headers=operator).status_code == 404
    resp = ops_client.get(f"/api/etl/runs/{history[0]}/rejects?f=xlsx", headers=operator)
    assert resp.status_code == 400
    assert ops_client.post("/api/etl/runs/999999/cancel", headers=operator).status_code == 404
