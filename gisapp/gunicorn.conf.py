"""gunicorn settings for gisapp (see README: Serving).

Worker count measured with bench/tiles.py's server (uncached composite z14-z16 tiles of all
layers, demo city, 8 clients, 2-core machine shared with other load, 2026-11-23):
  workers x threads   2x4: 23.4 tiles/s (0.85x raw SQL)   4x4: 20.7   2x8: 18.9
                      4x2: 15.4                           8x1: 13.6
A tile is one statement, so a thread mostly waits on PostgreSQL: one process per core with
4 threads keeps both cores busy; more processes only add memory and context switches.
"""
import multiprocessing
import os

workers = int(os.environ.get("GISAPP_WORKERS", multiprocessing.cpu_count()))
threads = int(os.environ.get("GISAPP_THREADS", 4))
worker_class = "gthread"
timeout = 60
graceful_timeout = 20
keepalive = 5
accesslog = os.environ.get("GISAPP_ACCESS_LOG", None)

# Each thread holds at most one pooled connection at a time; the overflow covers a request
# that nests a second one. Per worker process: threads + 2, plus the tile-version listener.
os.environ.setdefault("GISAPP_DB_POOL_SIZE", str(threads))
os.environ.setdefault("GISAPP_DB_POOL_OVERFLOW", "2")
