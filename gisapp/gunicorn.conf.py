"""gunicorn settings for gisapp (see README: Serving)."""
import multiprocessing
import os

workers = int(os.environ.get("GISAPP_WORKERS", multiprocessing.cpu_count() * 2))
threads = int(os.environ.get("GISAPP_THREADS", 4))
worker_class = "gthread"
timeout = 60
graceful_timeout = 20
keepalive = 5
accesslog = os.environ.get("GISAPP_ACCESS_LOG", None)
