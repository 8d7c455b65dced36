"""Bench: sensor readings in (MQTT, HTTP) and out (latest values, a 30-day chart).

One command: `.venv/bin/python bench/sensors.py [--small] [--keep] [--skip-year]`.
It works in databases of its own on DATABASE_URL's server (default the local cluster):
- `gisapp_bench_sensors_ingest` (made afresh): 300 rain gauges registered as things. A
  Mosquitto of its own (gisapp.mqtt.broker, temp directory, free port) and `gisapp mqtt
  subscribe --processes S` ingest what P `mosquitto_pub` processes (Debian's C client, QoS 1,
  one Observation per message, as devices send them) publish all at once: observations/s
  from the first publish to the last row committed; then half that rate, paced, for 20 s.
  Publish-to-queryable latency (p50/p95, in both phases) comes from probe readings stamped
  with their send time every 50 ms, watched by a poller every 20 ms. CPU per reading of the
  subscriber, the broker and the PostgreSQL backends is read from /proc. The same readings
  are then posted over HTTP (SensorThings `CreateObservations`, gunicorn, etl_operator token).
- `gisapp_bench_sensors_year` (made once, kept): 300 datastreams x a year of 5-minute
  readings (~31.5 million rows, generate_series in SQL) with their hourly and daily
  aggregates and latest values; the latest value of every datastream and a 30-day chart of
  one datastream, each timed through gisapp and as the raw SQL over the raw readings.
Targets (issue 15): >= 20,000 obs/s via MQTT, p95 < 2 s, latest < 20 ms, chart < 100 ms.
The machine is shared: the load average is printed with every result.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

from gisapp.db import migrate, provision  # noqa: E402
from gisapp.mqtt import accounts, broker  # noqa: E402
from gisapp.mqtt.address import parse_mqtt_url  # noqa: E402
from gisapp.mqtt.topics import observations_topic  # noqa: E402
from store.sensor_things import register_things  # noqa: E402

GISAPP = Path(sys.executable).with_name("gisapp")
GAUGES = 300
DEVICE, DEVICE_PASSWORD = "bench-device", "bench-device-secret"


def load_average() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def bench_url(suffix: str) -> str:
    base = os.environ.get("DATABASE_URL", "postgresql://gisapp:gisapp@127.0.0.1:5433/gisapp")
    return provision.libpq_url(base).rpartition("/")[0] + f"/gisapp_bench_sensors_{suffix}"


def drop_database(url: str) -> None:
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(url.rpartition("/")[0] + "/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))


def create_database(url: str) -> None:
    drop_database(url)
    provision.ensure_database(url, log=lambda m: None)
    migrate.upgrade(url)


def add_gauges(url: str, n: int = GAUGES) -> list[int]:
    """n rain gauges over Hải Châu registered as things; their rainfall datastream ids."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO rain_gauges (gauge_id, name, ward_code, geom)"
            " SELECT format('BENCH-%%s', i), format('Bench gauge %%s', i), '20194',"
            " ST_SetSRID(ST_MakePoint(108.20 + (i %% 20) * 0.002, 16.04 + (i / 20) * 0.002),"
            " 4326)"
            " FROM generate_series(1, %s) i", (n,))
        register_things(conn)
        return [r[0] for r in conn.execute(
            "SELECT id FROM datastreams WHERE code LIKE 'rain_gauge/BENCH-%%' ORDER BY id")]


def p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


# --- MQTT ingestion ---------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_broker(root: Path) -> broker.BrokerConfig:
    root.chmod(0o755)
    cfg = broker.BrokerConfig(directory=root / "mqtt", address=parse_mqtt_url(
        f"mqtt://ingest:bench-ingest@127.0.0.1:{free_port()}"))
    accounts.ensure_ingest_account(cfg)
    accounts.set_account(cfg, DEVICE, write=["v1.1/#"], password=DEVICE_PASSWORD)
    broker.start(cfg)
    return cfg


def start_subscriber(url: str, cfg: broker.BrokerConfig, processes: int,
                     log: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT),
           "MQTT_URL": f"mqtt://ingest:bench-ingest@{cfg.address.listen}"}
    out = open(log, "w")
    proc = subprocess.Popen([str(GISAPP), "mqtt", "subscribe", "--processes", str(processes),
                             "--client-id", "bench-ingest"], env=env, stdout=out,
                            stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while log.read_text().count("subscribed to") < processes:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the subscriber did not start:\n{log.read_text()}")
        time.sleep(0.1)
    return proc


def reading_lines(path: Path, n: int, days_back: int = 390) -> None:
    """n Observations 5 minutes apart, one JSON per line (mosquitto_pub -l sends each)."""
    base = datetime.now(timezone.utc) - timedelta(days=days_back)
    with open(path, "w") as out:
        for k in range(n):
            out.write('{"phenomenonTime":"%s","result":%d}\n'
                      % ((base + timedelta(minutes=5 * k)).isoformat(), k % 50))


def publish_lines(cfg: broker.BrokerConfig, stream: int, path: Path) -> subprocess.Popen:
    """Debian's mosquitto_pub (C) as a device: each line of `path` one QoS 1 message."""
    return subprocess.Popen(
        ["mosquitto_pub", "-h", cfg.address.host, "-p", str(cfg.address.port), "-u", DEVICE,
         "-P", DEVICE_PASSWORD, "-q", "1", "-M", "1000", "-t", observations_topic(stream),
         "-l"], stdin=open(path), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def send_probes(cfg: broker.BrokerConfig, stream: int, stop: threading.Event) -> None:
    """Every 50 ms a reading stamped with its send time (its latency is read back)."""
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-probe")
    client.username_pw_set(DEVICE, DEVICE_PASSWORD)
    client.connect(cfg.address.host, cfg.address.port)
    client.loop_start()
    while not stop.wait(0.05):
        client.publish(observations_topic(stream), '{"phenomenonTime":"%s","result":0}'
                       % datetime.now(timezone.utc).isoformat(), qos=1)
    client.disconnect()
    client.loop_stop()


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes used so far (Linux /proc)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def family(pid: int) -> list[int]:
    """A process and its children."""
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return [pid, *kids]


def writer_backends(url: str) -> list[int]:
    with psycopg.connect(url, autocommit=True) as conn:
        return [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND application_name = 'gisapp mqtt subscribe'")]


def watch_probes(url: str, probes: list[int], since: datetime, stop: threading.Event,
                 latencies: list[tuple[datetime, float]]) -> None:
    """Every 20 ms: probes that became visible, and how long after they were sent."""
    seen = since
    with psycopg.connect(url, autocommit=True) as conn:
        while not stop.is_set():
            rows = conn.execute("SELECT phenomenon_time FROM sensor_observations"
                                " WHERE datastream_id = ANY(%s) AND phenomenon_time > %s",
                                (probes, seen)).fetchall()
            now = datetime.now(timezone.utc)
            for (t,) in rows:
                latencies.append((t, (now - t).total_seconds()))
                seen = max(seen, t)
            time.sleep(0.02)


def paced_publish(cfg: broker.BrokerConfig, stream: int, rate: float, seconds: float) -> int:
    """Feed mosquitto_pub `rate` readings a second for `seconds`; how many were sent."""
    pub = subprocess.Popen(
        ["mosquitto_pub", "-h", cfg.address.host, "-p", str(cfg.address.port), "-u", DEVICE,
         "-P", DEVICE_PASSWORD, "-q", "1", "-M", "1000", "-t", observations_topic(stream),
         "-l"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    base = datetime.now(timezone.utc) - timedelta(days=200)
    sent, began = 0, time.monotonic()
    while (elapsed := time.monotonic() - began) < seconds:
        due = int(elapsed * rate)
        pub.stdin.write("".join('{"phenomenonTime":"%s","result":%d}\n'
                                % ((base + timedelta(seconds=k)).isoformat(), k % 50)
                                for k in range(sent, due)).encode())
        pub.stdin.flush()
        sent = due
        time.sleep(0.01)
    pub.stdin.close()
    pub.wait(120)
    return sent


def count_rows(conn: psycopg.Connection, streams: list[int]) -> int:
    return conn.execute("SELECT coalesce(sum(n), 0) FROM (SELECT count(*) n FROM"
                        " sensor_observations WHERE datastream_id = ANY(%s)) c",
                        (streams,)).fetchone()[0]


def mqtt_ingestion(url: str, streams: list[int], readings: int, publishers: int,
                   subscribers: int, work: Path, paced_share: float = 0.5,
                   paced_seconds: float = 20, paced_rate: float | None = None) -> dict:
    """A flood (every reading queued at once: throughput and its backlog's latency), then
    `paced_rate` readings/s (default `paced_share` of the measured throughput) for
    `paced_seconds` (latency when keeping up)."""
    cfg = start_broker(work)
    proc = start_subscriber(url, cfg, subscribers, work / "subscriber.log")
    probe, bulk = streams[0], streams[1:publishers + 1]
    per_stream = readings // publishers
    for i, stream in enumerate(bulk):
        reading_lines(work / f"lines-{i}.txt", per_stream)
    total = per_stream * publishers
    latencies: list[float] = []
    stop = threading.Event()
    since = datetime.now(timezone.utc)
    threads = [threading.Thread(target=watch_probes, args=(url, [probe], since, stop,
                                                           latencies)),
               threading.Thread(target=send_probes, args=(cfg, probe, stop))]
    for t in threads:
        t.start()
    time.sleep(0.5)
    subscribers_pids = family(proc.pid)
    broker_pid = broker.running_pid(cfg)
    cpu_before = {"subscriber": cpu_seconds(subscribers_pids),
                  "broker": cpu_seconds([broker_pid])}
    start = time.time()
    pubs = [publish_lines(cfg, stream, work / f"lines-{i}.txt") for i, stream in enumerate(bulk)]
    loads, published = [], None
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            last, moved = 0, time.time()
            while (n := count_rows(conn, bulk)) < total:
                if published is None and all(pr.poll() is not None for pr in pubs):
                    published = time.time() - start
                if n != last:
                    last, moved = n, time.time()
                if time.time() - start > 900 or (published and time.time() - moved > 60):
                    log = (cfg.directory / "mosquitto.log").read_text().splitlines()[-5:]
                    raise SystemExit(f"only {n} of {total} readings stored ("
                                     f"{time.time() - moved:.0f} s without one); publishers' "
                                     f"exit codes {[pr.returncode for pr in pubs]}; the "
                                     "broker's log ends: " + " | ".join(log))
                loads.append(os.getloadavg()[0])
                time.sleep(0.1)
        elapsed = time.time() - start
        cpu = {"subscriber": cpu_seconds(subscribers_pids) - cpu_before["subscriber"],
               "broker": cpu_seconds([broker_pid]) - cpu_before["broker"],
               "postgres": cpu_seconds(writer_backends(url))}  # backends opened for this run
        flood_end = datetime.now(timezone.utc)
        time.sleep(2)  # the backlog's last probes
        rate = paced_rate or round(total / elapsed * paced_share, -2)
        paced_start = datetime.now(timezone.utc)
        paced_sent = paced_publish(cfg, streams[publishers + 1], rate, paced_seconds)
        paced_end = datetime.now(timezone.utc)
        time.sleep(1.0)  # the last probes
    finally:
        stop.set()
        for t in threads:
            t.join()
        for pr in pubs:
            pr.wait(60)
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        broker.stop(cfg)
    errors = [pr.stderr.read().decode() for pr in pubs if pr.returncode]
    if errors:
        raise SystemExit(f"mosquitto_pub failed: {errors[0]}")
    flood = [lat for t, lat in latencies if t <= flood_end]
    steady = [lat for t, lat in latencies if paced_start <= t <= paced_end]
    return {"readings": total, "seconds": elapsed, "obs_per_s": total / elapsed,
            "publish_per_s": total / (published or elapsed), "probes": len(flood),
            "p50_s": p(flood, 0.5), "p95_s": p(flood, 0.95),
            "paced_rate": rate, "paced_sent": paced_sent, "paced_probes": len(steady),
            "paced_p50_s": p(steady, 0.5), "paced_p95_s": p(steady, 0.95),
            "load": statistics.mean(loads) if loads else os.getloadavg()[0],
            "cpu_us": {k: v / total * 1e6 for k, v in cpu.items()}}


# --- HTTP ingestion: SensorThings CreateObservations through gunicorn ----------------------
def http_ingestion(url: str, streams: list[int], readings: int, clients: int,
                   per_request: int, work: Path) -> dict | None:
    """POST dataArrays of `per_request` readings from `clients` threads; None without the API."""
    import urllib.error
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import create_engine

    from gisapp.accounts import add_user, create_token
    from gisapp.db.engine import sqlalchemy_url

    engine = create_engine(sqlalchemy_url(url))
    with engine.begin() as conn:
        add_user(conn, "bench-etl", "etl_operator")
        token = create_token(conn, "bench-etl")[1]
    engine.dispose()
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "GISAPP_DATA_DIR": str(work / "data"),
           "GISAPP_PUBLIC_URL": f"http://127.0.0.1:{port}", "SECRET_KEY": "bench",
           "PYTHONPATH": str(ROOT)}
    log = open(work / "gunicorn.log", "w")
    server = subprocess.Popen([str(GISAPP), "serve", "--bind", f"127.0.0.1:{port}"], env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/sta/v1.1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("gunicorn did not start: "
                                     + (work / "gunicorn.log").read_text())
                time.sleep(0.2)
        try:
            urllib.request.urlopen(f"{base}/Datastreams?$top=1", timeout=10)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise
        start_time = datetime.now(timezone.utc) - timedelta(days=395)  # 1,000 readings: 3.5 days
        bodies = []
        for r in range(readings // per_request):
            stream = streams[r % len(streams)]
            first = (r // len(streams)) * per_request
            rows = [[(start_time + timedelta(minutes=5 * (first + j))).isoformat(),
                     (first + j) % 50] for j in range(per_request)]
            bodies.append(json.dumps([{"Datastream": {"@iot.id": stream},
                                       "components": ["phenomenonTime", "result"],
                                       "dataArray": rows}]).encode())

        def post(body: bytes) -> float:
            request = urllib.request.Request(f"{base}/CreateObservations", data=body,
                                             method="POST", headers={
                                                 "Authorization": f"Bearer {token}",
                                                 "Content-Type": "application/json"})
            t = time.perf_counter()
            with urllib.request.urlopen(request, timeout=120) as response:
                answer = json.load(response)
            refused = [a for a in answer if str(a).startswith("error")]
            if refused:
                raise SystemExit(f"CreateObservations refused {len(refused)} rows: {refused[0]}")
            return time.perf_counter() - t

        load_before = os.getloadavg()[0]
        began = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            latencies = list(pool.map(post, bodies))
        elapsed = time.perf_counter() - began
    finally:
        server.terminate()
        server.wait(30)
    total = len(bodies) * per_request
    return {"readings": total, "seconds": elapsed, "obs_per_s": total / elapsed,
            "requests": len(bodies), "p50_s": p(latencies, 0.5), "p95_s": p(latencies, 0.95),
            "load": (load_before + os.getloadavg()[0]) / 2}


# --- a year of 5-minute readings: latest values and a 30-day chart ----------------------
YEAR_MARK = "bench: a year of 5-minute readings"


def year_database(url: str, streams: int, days: int) -> list[int]:
    """The year database (made once: kept and reused while it holds the same size)."""
    try:
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT obj_description('sensor_observations'::regclass)"
                               ).fetchone()
            if row and row[0] == f"{YEAR_MARK} {streams} x {days}":
                migrate.upgrade(url)  # kept from an earlier tree: at this tree's head
                return [r[0] for r in conn.execute(
                    "SELECT id FROM datastreams WHERE code LIKE 'rain_gauge/BENCH-%%' ORDER BY id")]
    except psycopg.OperationalError:
        pass
    create_database(url)
    ids = add_gauges(url, streams)
    began = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        for i in range(0, len(ids), 25):
            conn.execute(
                "INSERT INTO sensor_observations (datastream_id, phenomenon_time, result)"
                " SELECT d, t, ((d * 7919 + extract(epoch FROM t)::bigint / 300) %% 97) / 10.0"
                " FROM unnest(%s::bigint[]) d CROSS JOIN generate_series("
                "   date_trunc('hour', now()) - make_interval(days => %s),"
                "   date_trunc('hour', now()) - interval '5 minutes', interval '5 minutes') t",
                (ids[i:i + 25], days))
            print(f"  {min(i + 25, len(ids))}/{len(ids)} datastreams generated "
                  f"({time.perf_counter() - began:.0f} s, {load_average()})", flush=True)
        for table, bucket in (("sensor_hourly", "date_trunc('hour', phenomenon_time, 'UTC')"),
                              ("sensor_daily", "date_trunc('day', phenomenon_time, "
                                               "'Asia/Ho_Chi_Minh')")):
            conn.execute(sql.SQL(
                "INSERT INTO {} (datastream_id, bucket, count, sum, min, max, first_time,"
                " last_time) SELECT datastream_id, {}, count(*), sum(result), min(result),"
                " max(result), min(phenomenon_time), max(phenomenon_time)"
                " FROM sensor_observations GROUP BY 1, 2").format(sql.Identifier(table),
                                                                  sql.SQL(bucket)))
        conn.execute(
            "INSERT INTO datastream_latest (datastream_id, phenomenon_time, result, first_time)"
            " SELECT d, l.phenomenon_time, l.result, l.phenomenon_time - make_interval(days => %s)"
            " FROM unnest(%s::bigint[]) d CROSS JOIN LATERAL (SELECT phenomenon_time, result"
            " FROM sensor_observations WHERE datastream_id = d"
            " ORDER BY phenomenon_time DESC LIMIT 1) l", (days, ids))
        conn.execute("VACUUM (ANALYZE) sensor_observations")
        conn.execute("VACUUM (ANALYZE) sensor_hourly")
        conn.execute("VACUUM (ANALYZE) sensor_daily")
        conn.execute("VACUUM (ANALYZE) datastream_latest")
        conn.execute(sql.SQL("COMMENT ON TABLE sensor_observations IS {}").format(
            sql.Literal(f"{YEAR_MARK} {streams} x {days}")))
        rows = conn.execute("SELECT count(*) FROM sensor_observations").fetchone()[0]
    print(f"  {rows:,} readings and their aggregates in {time.perf_counter() - began:.0f} s",
          flush=True)
    return ids


class Timed(NamedTuple):
    """Milliseconds per execution, and the CPU milliseconds each took here and in PostgreSQL."""

    times: list[float]
    python_cpu_ms: float
    postgres_cpu_ms: float


def backends(url: str) -> list[int]:
    """The PostgreSQL backends of the database, but the one asking."""
    with psycopg.connect(url, autocommit=True) as conn:
        return [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()")]


def timed_sql(url: str, query: str, params_of, n: int) -> Timed:
    """`query` (fetching every row) n times after a warm-up."""
    times = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(query, params_of(0)).fetchall()
        pids = [conn.info.backend_pid]
        cpu, python = cpu_seconds(pids), time.process_time()
        for i in range(n):
            t = time.perf_counter()
            conn.execute(query, params_of(i)).fetchall()
            times.append((time.perf_counter() - t) * 1000)
        return Timed(times, (time.process_time() - python) / n * 1000,
                     (cpu_seconds(pids) - cpu) / n * 1000)


LATEST_RAW = ("SELECT d.id, o.phenomenon_time, o.result FROM datastreams d CROSS JOIN LATERAL"
              " (SELECT phenomenon_time, result FROM sensor_observations"
              "  WHERE datastream_id = d.id ORDER BY phenomenon_time DESC LIMIT 1) o")
LATEST_KEPT = ("SELECT datastream_id, phenomenon_time, result FROM datastream_latest")
CHART_RAW = ("SELECT phenomenon_time, result FROM sensor_observations WHERE datastream_id = %s"
             " AND phenomenon_time >= %s AND phenomenon_time < %s ORDER BY phenomenon_time")
CHART_HOURLY = ("SELECT bucket, sum / count, min, max FROM sensor_hourly"
                " WHERE datastream_id = %s AND bucket >= %s AND bucket < %s ORDER BY bucket")


def timed_api(url: str, paths, n: int, work: Path) -> Timed:
    """GETs through the app (Flask test client: routing, SQL, JSON; no HTTP) after a warm-up."""
    from gisapp import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "DATA_DIR": work / "data",
                      "PUBLIC_URL": "http://localhost"})
    client = app.test_client()
    times = []
    try:
        for i in range(-1, n):
            if i == 0:
                pids = backends(url)
                cpu, python = cpu_seconds(pids), time.process_time()
            t = time.perf_counter()
            response = client.get(paths(max(i, 0)))
            if response.status_code != 200:
                raise SystemExit(f"{paths(max(i, 0))}: {response.status_code} "
                                 f"{response.get_data(as_text=True)[:300]}")
            if i >= 0:
                times.append((time.perf_counter() - t) * 1000)
        return Timed(times, (time.process_time() - python) / n * 1000,
                     (cpu_seconds(pids) - cpu) / n * 1000)
    finally:
        app.extensions["engine"].dispose()


def _z(when: datetime) -> str:
    return when.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def year_queries(url: str, ids: list[int], n: int, work: Path) -> None:
    with psycopg.connect(url) as conn:
        end = conn.execute("SELECT max(phenomenon_time) FROM sensor_observations"
                           " WHERE datastream_id = %s", (ids[0],)).fetchone()[0]
    window = [(ids[(i * 37) % len(ids)], end - timedelta(days=30), end) for i in range(n)]
    latest_path = (f"/sta/v1.1/Datastreams?$top={len(ids) + 100}&$select=id&$expand=Observations("
                   "$orderby=phenomenonTime desc;$top=1;$select=phenomenonTime,result)")

    def chart_path(i: int) -> str:
        stream, since, until = window[i]
        return (f"/sta/v1.1/Datastreams({stream})/Observations?$filter=phenomenonTime ge "
                f"{_z(since)} and phenomenonTime lt {_z(until)}&$orderby=phenomenonTime"
                "&$top=10000&$select=phenomenonTime,result")

    results = {
        "latest, all datastreams (gisapp: SensorThings Datastreams $expand=Observations"
        "($top=1), in-process)": timed_api(url, lambda i: latest_path, n, work),
        "latest, all datastreams (datastream_latest, kept by the write path)":
            timed_sql(url, LATEST_KEPT, lambda i: (), n),
        "latest, all datastreams (raw SQL: newest raw reading per datastream)":
            timed_sql(url, LATEST_RAW, lambda i: (), n),
        "30-day chart, one datastream, its 5-minute readings (gisapp: SensorThings "
        "Observations $filter on phenomenonTime, in-process)": timed_api(url, chart_path, n, work),
        "30-day chart, one datastream, its 5-minute readings (raw SQL)":
            timed_sql(url, CHART_RAW, lambda i: window[i], n),
        "30-day chart, one datastream, hourly points (sensor_hourly)":
            timed_sql(url, CHART_HOURLY, lambda i: window[i], n),
    }
    for label, (times, python_cpu, postgres_cpu) in results.items():
        print(f"{label}: p50 {p(times, 0.5):.1f} ms, p95 {p(times, 0.95):.1f} ms "
              f"(n={len(times)}, {load_average()}); CPU per request: Python "
              f"{python_cpu:.1f} ms, PostgreSQL {postgres_cpu:.1f} ms", flush=True)


class _SkipIngestion(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="20,000 readings, 10 days of data")
    parser.add_argument("--readings", type=int, default=200_000,
                        help="MQTT and HTTP readings (300,000 at once lost publishers, see README)")
    parser.add_argument("--publishers", type=int, default=4, help="mosquitto_pub processes")
    parser.add_argument("--subscribers", type=int, default=2)
    parser.add_argument("--paced-rate", type=float,
                        help="readings/s of the paced run (default: half the flood's rate); "
                             "20000 checks the target rate")
    parser.add_argument("--http-clients", type=int, default=4)
    parser.add_argument("--skip-year", action="store_true", help="ingestion only")
    parser.add_argument("--year-only", action="store_true", help="the year database only")
    parser.add_argument("--keep", action="store_true", help="keep the ingestion database")
    args = parser.parse_args()
    readings = 20_000 if args.small else args.readings
    work = Path(tempfile.mkdtemp(prefix="gisapp-bench-sensors-"))
    url = bench_url("ingest")
    try:
        if args.year_only:
            raise _SkipIngestion
        print(f"== ingestion database {url.rpartition('/')[2]} ({load_average()})", flush=True)
        create_database(url)
        streams = add_gauges(url)
        m = mqtt_ingestion(url, streams, readings, args.publishers, args.subscribers, work,
                           paced_rate=args.paced_rate)
        print(f"MQTT: {m['readings']:,} readings in {m['seconds']:.1f} s = "
              f"{m['obs_per_s']:,.0f} obs/s stored (publishers sent {m['publish_per_s']:,.0f}/s; "
              f"{args.publishers} publishers, {args.subscribers} subscriber process(es)); "
              f"publish-to-queryable p50 {m['p50_s']:.2f} s, p95 {m['p95_s']:.2f} s over "
              f"{m['probes']} probes (target >= 20,000 obs/s, p95 < 2 s; mean load "
              f"{m['load']:.1f})", flush=True)
        print(f"MQTT paced at {m['paced_rate']:,.0f} obs/s ({m['paced_sent']:,} readings): "
              f"publish-to-queryable p50 {m['paced_p50_s']:.2f} s, p95 {m['paced_p95_s']:.2f} s"
              f" over {m['paced_probes']} probes ({load_average()})", flush=True)
        per = m["cpu_us"]
        print("MQTT CPU per reading: " + ", ".join(f"{k} {v:.0f} us" for k, v in per.items())
              + f"; {1e6 / sum(per.values()):,.0f} readings per CPU-second of the three"
              " together (what a quiet core would ingest)", flush=True)
        h = http_ingestion(url, streams[args.publishers + 1:], readings, args.http_clients,
                           1000, work)
        if h is None:
            print("HTTP: not measured: this tree has no SensorThings API (/sta/v1.1 is 404)")
        else:
            print(f"HTTP CreateObservations: {h['readings']:,} readings in {h['requests']} "
                  f"requests of 1,000 from {args.http_clients} clients in {h['seconds']:.1f} s"
                  f" = {h['obs_per_s']:,.0f} obs/s; request (post-to-queryable) p50 "
                  f"{h['p50_s']:.2f} s, p95 {h['p95_s']:.2f} s (load {h['load']:.1f})",
                  flush=True)
    except _SkipIngestion:
        pass
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not args.keep and not args.year_only:
            drop_database(url)
    if args.skip_year:
        return
    streams, days = (30, 10) if args.small else (GAUGES, 365)
    year = bench_url("year" if not args.small else "year_small")
    print(f"== year database {year.rpartition('/')[2]}: {streams} datastreams x {days} days "
          f"of 5-minute readings ({load_average()})", flush=True)
    ids = year_database(year, streams, days)
    work = Path(tempfile.mkdtemp(prefix="gisapp-bench-sensors-"))
    try:
        year_queries(year, ids, 50, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
