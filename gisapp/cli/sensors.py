"""`gisapp sensors …`: make the declared things and datastreams, maintain observation partitions."""
from __future__ import annotations

import click
import psycopg

from gisapp.db import provision
from gisapp.secret_masking import mask_passwords
from gisapp.settings import Settings


def _connect() -> tuple[psycopg.Connection, Settings]:
    settings = Settings.load()
    conninfo = provision.libpq_url(settings.database_url)
    try:
        return psycopg.connect(conninfo), settings
    except psycopg.OperationalError as exc:
        raise click.ClickException(
            mask_passwords(f"database {conninfo} unreachable: {exc}")) from None


@click.group()
def sensors() -> None:
    """Live monitoring: things, datastreams and observation storage."""


@sensors.command("register")
def register_cmd() -> None:
    """Create a thing with its datastreams for every monitored feature (layers/sensors.py)."""
    from store.sensor_things import register_things

    conn, _ = _connect()
    with conn:
        counts = register_things(conn)
    for kind, count in counts.items():
        click.echo(f"{kind:<18} {count:>6} things")


@sensors.command("maintain")
@click.option("--retention-days", type=click.IntRange(1), default=None,
              help="default: GISAPP_SENSOR_RETENTION_DAYS")
def maintain_cmd(retention_days: int | None) -> None:
    """Make the observation partitions the retention covers; drop the older ones."""
    from store.sensor_maintenance import maintain_observations

    conn, settings = _connect()
    with conn:
        result = maintain_observations(conn, retention_days or settings.sensor_retention_days)
    click.echo(f"partitions: {result.partitions_before} before, {result.partitions_after} after;"
               f" oldest from {result.oldest.isoformat() if result.oldest else '-'}")


@sensors.command("device")
@click.argument("thing_code")
def device_cmd(thing_code: str) -> None:
    """Issue a token for THING_CODE's device (role device: it may post only its own readings)."""
    from gisapp.devices import issue_device_token
    from gisapp.db.engine import make_engine
    from gisapp.errors import GisappError

    engine = make_engine(Settings.load().database_url, pool_size=1, max_overflow=0)
    try:
        with engine.begin() as conn:
            name, token_id, token = issue_device_token(conn, thing_code)
    except GisappError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        engine.dispose()
    click.echo(f"device user {name}, token {token_id} (shown once):")
    click.echo(token)


@sensors.command("alerts")
def alerts_cmd() -> None:
    """Evaluate the alert rules in force now: open and end alert events."""
    from datetime import datetime, timezone

    from gisapp.alerts.events import evaluate_alerts

    conn, _ = _connect()
    with conn:
        result = evaluate_alerts(conn, datetime.now(timezone.utc))
    click.echo(f"opened {len(result.opened)}, ended {len(result.ended)}")
    for rule_id, thing_id in result.opened:
        click.echo(f"  opened {rule_id} at thing {thing_id}")


@sensors.command("nowcast")
@click.option("--at", "at", default=None, help="ISO 8601 instant with a timezone; default now")
@click.option("--horizon", default="0", help="hours ahead, 0-3")
@click.option("--top", type=click.IntRange(0), default=20, help="features listed (highest first)")
def nowcast_cmd(at: str | None, horizon: str, top: int) -> None:
    """Print the flood now-cast: inputs, counts by risk and the streets and parcels at risk."""
    from datetime import datetime, timezone

    from gisapp.errors import GisappError
    from gisapp.nowcast.forecast import NowcastRequest, run_nowcast
    from layers import Access

    conn, settings = _connect()
    try:
        req = NowcastRequest.parse(at, horizon, datetime.now(timezone.utc))
        with conn:
            fc = run_nowcast(conn, settings.data_dir, req,
                             frozenset({Access.PUBLIC, Access.STAFF}))
    except GisappError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"now-cast at {fc['at']}, horizon {fc['horizon_h']} h (valid at {fc['valid_at']})")
    click.echo(fc["disclaimer"]["en"])
    for g in fc["gauges"]:
        rain = f"{g['intensity_mm_h']:>6.1f} mm/h" if g["used"] else "  silent"
        click.echo(f"  gauge {g['code']:<28} {rain}  (last hour {g['last_hour_mm']} mm, "
                   f"hour before {g['hour_before_mm']} mm)")
    for p in fc["pumps_stopped"]:
        state = "outlet closed" if p["outlet_closed"] else "idle"
        click.echo(f"  pump  {p['node_id']:<28} stopped ({state}, well rose "
                   f"{p['level_rise_m']} m)")
    counts = fc["counts"]
    click.echo(f"at risk: {counts['high']} high, {counts['medium']} medium, {counts['low']} low "
               f"({fc['network']['catchments']} catchments)")
    for f in fc["features"][:top]:
        e = f["properties"]["explain"]
        click.echo(f"  {f['properties']['risk']:<6} {f['properties']['label']['en']}: "
                   f"{e['rain_mm_h']} mm/h, pipe {e['pipe']['pipe_id']} ratio "
                   f"{e['pipe']['ratio']}")
