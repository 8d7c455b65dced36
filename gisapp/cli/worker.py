"""`gisapp worker`: execute queued import runs and due schedules from the PostgreSQL queue."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Callable

import click
import psycopg
from procrastinate import App
from procrastinate.exceptions import ConnectorException

from gisapp.analysis.import_check import check_network_after_loads
from gisapp.tile_purge import purge_after_loads
from gisapp.db.timeouts import etl_conninfo
from gisapp.etl_ops.queue import QUEUE, make_app
from gisapp.settings import Settings

RECONNECT_S = 1.0
log = logging.getLogger(__name__)


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
    conninfo = etl_conninfo(settings)
    check_network_after_loads(conninfo)
    purge_after_loads(conninfo, settings)
    options = dict(queues=[QUEUE], concurrency=concurrency, name=name,
                   update_heartbeat_interval=heartbeat, stalled_worker_timeout=stalled_after,
                   fetch_job_polling_interval=2.0, abort_job_polling_interval=2.0)
    asyncio.run(serve_jobs(lambda: make_app(conninfo, settings, tick_seconds=tick_seconds,
                                            stalled_after=stalled_after),
                           conninfo, options))


async def serve_jobs(new_app: Callable[[], App], conninfo: str, options: dict) -> None:
    """Run a worker until SIGINT/SIGTERM, and again each time the database comes back.

    procrastinate's worker stops when it loses its database (a restart, a failover); queued
    runs wait in PostgreSQL, so a new worker started when the database answers resumes them.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    while not stop.is_set():
        try:
            if await _run_until(new_app(), stop, options):
                return
            log.warning("the worker stopped by itself; starting it again")
        except (ConnectorException, psycopg.OperationalError) as exc:
            log.warning("the worker lost the database (%s); resuming when it is back",
                        str(exc.__cause__ or exc).strip().splitlines()[0])
        await _wait_for_database(conninfo, stop)


async def _run_until(app: App, stop: asyncio.Event, options: dict) -> bool:
    """Run `app`'s worker; True when `stop` ended it (after its running jobs finished)."""
    async with app.open_async():
        run = asyncio.create_task(app.run_worker_async(install_signal_handlers=False,
                                                       **options))
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({run, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if stop.is_set():
            run.cancel()  # procrastinate lets running jobs finish first
            with contextlib.suppress(asyncio.CancelledError):
                await run
            return True
        stopped.cancel()
        run.result()
        return False


async def _wait_for_database(conninfo: str, stop: asyncio.Event) -> None:
    """Return once the database accepts a connection (or `stop` is set)."""
    while not stop.is_set():
        try:
            conn = await psycopg.AsyncConnection.connect(conninfo, connect_timeout=5)
            await conn.close()
            log.info("the database is back; starting the worker again")
            return
        except psycopg.OperationalError:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), RECONNECT_S)
