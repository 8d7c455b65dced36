"""`gisapp serve`: gunicorn in front of the app factory."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from gisapp.settings import LOCAL_PUBLIC_URL


@click.command("serve")
@click.option("--bind", default="127.0.0.1:8000", show_default=True)
@click.option("--workers", type=int, default=None, help="default: from gunicorn.conf.py")
@click.option("--daemon", is_flag=True, help="Detach and run in the background.")
@click.option("--pid-file", type=click.Path(dir_okay=False), default=None,
              help="Write the master's pid here (stop it with kill).")
@click.option("--log-file", type=click.Path(dir_okay=False), default=None,
              help="gunicorn's error log (default: stderr).")
def serve(bind: str, workers: int | None, daemon: bool, pid_file: str | None,
          log_file: str | None) -> None:
    """Serve the app with gunicorn (the production server; `make run` puts nginx in front)."""
    conf = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"
    args = [sys.executable, "-m", "gunicorn", "-c", str(conf), "--bind", bind]
    if workers:
        args += ["--workers", str(workers)]
    if daemon:
        args += ["--daemon"]
    if pid_file:
        args += ["--pid", pid_file]
    if log_file:
        args += ["--error-logfile", log_file]
    public = os.environ.get("GISAPP_PUBLIC_URL") or LOCAL_PUBLIC_URL
    click.echo(f"gisapp serving on http://{bind}/ for {public}/ (GISAPP_PUBLIC_URL; requests "
               "addressed to another host get a 400)", err=True)
    os.execv(sys.executable, [*args, "gisapp:create_app()"])
