"""`gisapp serve`: gunicorn in front of the app factory."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click


@click.command("serve")
@click.option("--bind", default="127.0.0.1:8000", show_default=True)
@click.option("--workers", type=int, default=None, help="default: from gunicorn.conf.py")
def serve(bind: str, workers: int | None) -> None:
    """Serve the app with gunicorn (the production server)."""
    conf = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"
    args = [sys.executable, "-m", "gunicorn", "-c", str(conf), "--bind", bind]
    if workers:
        args += ["--workers", str(workers)]
    click.echo(f"gisapp serving on http://{bind}/", err=True)
    os.execv(sys.executable, [*args, "gisapp:create_app()"])
