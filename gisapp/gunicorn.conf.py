"""gunicorn settings for gisapp (see README: Serving).

Layout measured with bench/tile_serving.py (demo city, z14-16 composite tiles of all layers,
2-core machine, 2026-11-23; cached warm tiles/s at 1 / 2 / 8 clients):
  workers x threads   2x4: 1,333 / 2,258 / 1,865  (another run: 1,375 / 1,405 / 1,803)
                      4x2: 1,234 / 2,488 / 1,751  (another run: 1,306 / 2,071 / 2,318)
                      4x4: 1,252 / 1,190 / 2,160
Uncached tiles are bound by PostgreSQL and came out alike in every layout (within the
+-0.15 that separates two runs of the same one). A cached tile is pure Python, so the
threads of one process share one core (the GIL); a keep-alive connection stays with the
worker that accepted it, and with two workers two clients land on the same one half the
time (2x4 at 2 clients: 1,405 or 2,258). Two processes per core with 2 threads each
spread them best for the memory.
"""
import multiprocessing
import os

from gisapp.process_stop import on_terminate
from gisapp.request_limits import use_json_errors
from gisapp.secret_masking import install as mask_passwords_in_logs

mask_passwords_in_logs()  # the master's log lines; each worker's create_app does the same

workers = int(os.environ.get("GISAPP_WORKERS", 2 * multiprocessing.cpu_count()))
threads = int(os.environ.get("GISAPP_THREADS", 2))
worker_class = "gthread"
# The master builds the app once and each worker forks from it (about 1.7 s of imports and
# URL rules per worker otherwise, and their memory shared until written). Nothing connects
# while the app is built; engines drop any pooled connection at a fork
# (gisapp/db/engine.py), and the tile-version and replica-health threads start per process.
preload_app = True
timeout = 60
graceful_timeout = 20
keepalive = 5
accesslog = os.environ.get("GISAPP_ACCESS_LOG", None)

# The app enforces GISAPP_MAX_URL_BYTES / GISAPP_MAX_HEADER_BYTES with JSON 414/431
# (gisapp/request_limits.py), so gunicorn's own limits sit above them: 8190 is its largest
# request line short of unlimited. What gunicorn still refuses is answered in JSON too.
limit_request_line = 8190
limit_request_field_size = 16384
use_json_errors()

# Each thread holds at most one pooled connection at a time; the overflow covers a request
# that nests a second one. Per worker process: threads + 2 in the app pool, as many in the
# tiles' own pool (tiles/service.py), plus the tile-version listener.
os.environ.setdefault("GISAPP_DB_POOL_SIZE", str(threads))
os.environ.setdefault("GISAPP_DB_POOL_OVERFLOW", "2")
# Heavy requests (feature pages above GISAPP_HEAVY_PAGE_FEATURES) may hold all threads but
# one, which stays free for /healthz and the map's small requests (gisapp/heavy_requests.py).
os.environ.setdefault("GISAPP_HEAVY_REQUESTS", str(max(1, threads - 1)))
# Each open alert stream (every map page has one) holds a thread for minutes: never all of them.
os.environ.setdefault("GISAPP_ALERT_STREAMS", str(max(1, threads - 1)))


def post_worker_init(worker) -> None:
    """After gunicorn set the worker's signals: on SIGTERM long requests (alert streams) end
    at once instead of holding the stop for the graceful timeout (gisapp/process_stop.py)."""
    on_terminate()
