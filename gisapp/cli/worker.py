"""`gisapp worker`: execute queued import runs and due schedules from the PostgreSQL queue."""
from __future__ import annotations

import logging

import click

from gisapp.analysis.import_check import check_network_after_loads
from gisapp.db import provision
from gisapp.etl_ops.queue import QUEUE, make_app
from gisapp.settings import Settings


@click.command("worker")
@click.option("--concurrency", default=2, show_default=True,
              help="Jobs run at once (imports of one layer never overlap).")
@click.option("--tick", "tick_seconds", default=15, show_default=True,
              type=click.IntRange(1, 59), help="Seconds between schedule and stalled-job checks.")
@click.option("--stalled-after", default=30.0, show_default=True,
              help="Seconds without a worker heartbeat after which its running jobs are failed.")
@click.option("--heartbeat", default=10.0, show_default=True,
              help="Seconds between this worker's heartbeats.")
@click.option("--name", default=None, help="Worker name in logs.")
def worker(concurrency: int, tick_seconds: int, stalled_after: float, heartbeat: float,
           name: str | None) -> None:
    """Run import jobs until stopped (SIGINT/SIGTERM finish the running job first)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = Settings.load()
    conninfo = provision.libpq_url(settings.database_url)
    check_network_after_loads(conninfo)
    app = make_app(conninfo, settings, tick_seconds=tick_seconds, stalled_after=stalled_after)
    app.run_worker(queues=[QUEUE], concurrency=concurrency, name=name,
                   update_heartbeat_interval=heartbeat, stalled_worker_timeout=stalled_after,
                   fetch_job_polling_interval=2.0, abort_job_polling_interval=2.0)
