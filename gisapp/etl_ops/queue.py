"""The PostgreSQL job queue (procrastinate): enqueue runs, the worker's tasks, stalled jobs.

A run's etl_runs row and its procrastinate job are inserted in the same transaction
(through procrastinate's versioned SQL function), so a run is never queued without a job.
Jobs of one layer share the procrastinate lock "layer:<id>": the second waits for the first.
"""
from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timezone

import psycopg
from procrastinate import App, Blueprint, PsycopgConnector, RetryStrategy
from procrastinate.jobs import Status

from gisapp.alerts.events import evaluate_alerts
from gisapp.etl_ops import execute, raster_uploads, schedules
from gisapp.settings import Settings
from store.run_lifecycle import fail_unfinished
from store.sensor_maintenance import maintain_observations

QUEUE = "etl"
NAMESPACE = "etl"
RUN_TASK = f"{NAMESPACE}:execute_run"
RASTER_TASK = raster_uploads.RASTER_TASK
RUN_TASKS = (RUN_TASK, RASTER_TASK)
TICK_TASK = f"{NAMESPACE}:tick"
STALLED = ("abandoned: the worker running it stopped (killed or crashed); nothing was "
           "loaded, queue it again")
JOB_RETENTION_HOURS = 24 * 7
POOL_WAIT_S = 5
log = logging.getLogger(__name__)


def defer_run_job(conn: psycopg.Connection, run_id: int, layer: str, options: dict,
                  task: str = RUN_TASK) -> int:
    """Insert the procrastinate job that executes run `run_id`, in the caller's transaction."""
    args = json.dumps({"run_id": run_id, "options": options})
    row = conn.execute(
        "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(%s, %s, 0, %s, NULL, %s::jsonb,"
        " NULL)::procrastinate_job_to_defer_v1]))", (QUEUE, task, f"layer:{layer}", args)
    ).fetchone()
    return row[0]


def recover_stalled_runs(conninfo: str, stalled_job_runs: list[int]) -> list[int]:
    """Mark the runs of stalled jobs failed; their layer locks died with their connections."""
    failed = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for run_id in stalled_job_runs:
            if fail_unfinished(conn, run_id, STALLED):
                failed.append(run_id)
    return failed


def maintain_sensor_partitions(conninfo: str, settings: Settings) -> None:
    """Observation partitions for the retention window made, older ones dropped (hourly)."""
    with psycopg.connect(conninfo) as conn:
        maintain_observations(conn, settings.sensor_retention_days)


def evaluate_sensor_alerts(conninfo: str, now: datetime) -> None:
    """Alert events opened and ended for the rules in force (every tick)."""
    with psycopg.connect(conninfo) as conn:
        opened_ended = evaluate_alerts(conn, now)
    if opened_ended.opened or opened_ended.ended:
        log.info("alerts at %s: opened %s, ended %s", now, opened_ended.opened,
                 opened_ended.ended)


def build_blueprint(conninfo: str, settings: Settings, tick_seconds: int,
                    stalled_after: float) -> Blueprint:
    """The worker's tasks: execute a run; every `tick_seconds`, schedules and stalled jobs."""
    bp = Blueprint()
    retry = RetryStrategy(max_attempts=execute.MAX_ATTEMPTS - 1, wait=2,
                          retry_exceptions={execute.TransientFailure,
                                            psycopg.OperationalError})

    @bp.task(name="execute_run", queue=QUEUE, pass_context=True, retry=retry)
    def execute_run(context, run_id: int, options: dict) -> str:
        return execute.execute_run(conninfo, settings, run_id, options, context.job.attempts)

    @bp.task(name="import_raster", queue=QUEUE, retry=retry)
    def import_raster_run(run_id: int, options: dict) -> str:
        return raster_uploads.execute_raster_run(conninfo, settings, run_id, options)

    @bp.periodic(cron=f"* * * * * */{tick_seconds}")
    @bp.task(name="tick", queue=QUEUE, pass_context=True, queueing_lock="tick")
    async def tick(context, timestamp: int) -> dict:
        now = datetime.fromtimestamp(timestamp, timezone.utc)
        fired = await asyncio.to_thread(schedules.enqueue_due, conninfo, now, defer_run_job)
        await asyncio.to_thread(evaluate_sensor_alerts, conninfo, now)
        manager = context.app.job_manager
        stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after))
        stalled = [j for j in stalled if j.task_name in RUN_TASKS]
        failed = await asyncio.to_thread(
            recover_stalled_runs, conninfo, [j.task_kwargs["run_id"] for j in stalled])
        for job in stalled:
            await manager.finish_job(job, status=Status.FAILED, delete_job=False)
        if timestamp % 3600 < tick_seconds:  # hourly: finished jobs; etl_runs keeps history
            await manager.delete_old_jobs(nb_hours=JOB_RETENTION_HOURS, queue=QUEUE,
                                          include_failed=True, include_cancelled=True,
                                          include_aborted=True)
            await asyncio.to_thread(maintain_sensor_partitions, conninfo, settings)
        if fired or failed:
            log.info("tick %s: schedules fired %s, stalled runs failed %s", now, fired, failed)
        return {"fired": fired, "stalled_failed": failed}

    return bp


def make_app(conninfo: str, settings: Settings, *, tick_seconds: int = 15,
             stalled_after: float = 30) -> App:
    """A procrastinate App on `conninfo` with the worker's tasks."""
    # A short wait for a pooled connection: when the database goes away the worker then
    # stops (and `gisapp worker` starts a new one once it is back) within seconds, not the
    # pool's default 30 s per waiting call.
    app = App(connector=PsycopgConnector(conninfo=conninfo, min_size=1, max_size=4,
                                         timeout=POOL_WAIT_S))
    app.add_tasks_from(build_blueprint(conninfo, settings, tick_seconds, stalled_after),
                       namespace=NAMESPACE)
    return app
