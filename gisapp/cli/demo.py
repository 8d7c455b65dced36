"""`gisapp demo …`: generate the demo city's source files and load them through the ETL."""
from __future__ import annotations

import time
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from etl.demo.generate import DEFAULT_PARCELS, DEFAULT_SEED, generate_city

console = Console()


@click.group()
def demo() -> None:
    """The demo city: a deterministic slice of central Da Nang."""


@demo.command("generate")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True)
@click.option("--parcels", "parcel_count", type=click.IntRange(100, 1_000_000),
              default=DEFAULT_PARCELS, show_default=True, help="about how many parcels")
def generate_cmd(directory: Path, seed: int, parcel_count: int) -> None:
    """Write the demo city's source files and manifest.json into DIRECTORY."""
    manifest = generate_city(directory, seed=seed, parcel_count=parcel_count)
    table = Table("layer", "file", "rows")
    for entry in manifest["entries"]:
        if entry["kind"] == "vector":
            extract = entry["file"].endswith(".osm")  # loaded as it came: its rows are its own
            table.add_row(entry["layer"], entry["file"], "OpenStreetMap" if extract
                          else f"{manifest['counts'][entry['layer']]:,}")
        else:
            table.add_row(entry["name"], entry["file"], "raster")
    console.print(table)
    console.print(f"demo city (seed {seed}) written to {directory} in {manifest['seconds']:.1f} s")


@demo.command("load")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              help="default: <GISAPP_DATA_DIR>/demo")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True)
@click.option("--parcels", "parcel_count", type=click.IntRange(100, 1_000_000),
              default=DEFAULT_PARCELS, show_default=True)
@click.option("--force", is_flag=True, help="Reload even if this city is already loaded.")
def load_cmd(directory: Path | None, seed: int, parcel_count: int, force: bool) -> None:
    """Generate the demo city if needed and import it all through the ETL pipeline."""
    from etl.demo.load import DemoLoadFailed, ensure_generated, is_loaded, load_city
    from gisapp.analysis.import_check import network_checked
    from gisapp.db.timeouts import etl_conninfo
    from gisapp.settings import Settings

    settings = Settings.load()
    conninfo = etl_conninfo(settings)
    directory = directory or settings.data_dir / "demo"
    manifest, made = ensure_generated(directory, seed, parcel_count)
    if made:
        click.echo(f"generated the demo city in {directory} ({manifest['seconds']:.1f} s)", err=True)
    if not force and is_loaded(conninfo, manifest):
        click.echo("demo city already loaded")
        return
    started = time.perf_counter()
    try:
        with network_checked(conninfo):
            lines = load_city(conninfo, directory, settings.data_dir, manifest,
                              progress=lambda name: click.echo(f"loading {name} …", err=True))
    except DemoLoadFailed as exc:
        _print_lines(exc.lines)
        raise click.ClickException(str(exc)) from None
    _print_lines(lines)
    console.print(f"demo city loaded in {time.perf_counter() - started:.1f} s")


def _print_lines(lines) -> None:
    table = Table("layer", "status", "read", "loaded", "rejected", "seconds")
    for line in lines:
        table.add_row(line.name, line.status, f"{line.read:,}", f"{line.loaded:,}",
                      f"{line.rejected:,}", f"{line.seconds:.1f}")
    console.print(table)
    for line in lines:
        if line.error:
            console.print(f"[red]{line.name}[/red]: {line.error}")


SIMULATOR = "demo-simulator"  # the storm's device account on the local broker


@demo.command("sensors")
@click.option("--hours", default=6.0, show_default=True, type=click.FloatRange(0.5, 48),
              help="How long the storm lasts (its readings' time span).")
@click.option("--speed", default=60.0, show_default=True, type=click.FloatRange(0),
              help="Storm time per wall-clock time (60: an hour a minute); 0 sends it at once.")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="The local broker's directory, where the simulator's device "
                                 "account is made [default: GISAPP_MQTT_DIR or "
                                 "$GISAPP_DATA_DIR/mqtt].")
def sensors_cmd(hours: float, speed: float, directory: Path | None) -> None:
    """Replay a storm over the demo city's gauges, pumps, lakes and cabinets through MQTT.

    The storm ends now: its readings are stamped from HOURS ago on, sent as devices send
    them (QoS 1, one Observation a message) to the broker of MQTT_URL, where `gisapp mqtt
    subscribe` writes them. Needs `gisapp mqtt start` (make run starts it).
    """
    import psycopg

    from gisapp.db.timeouts import etl_conninfo
    from gisapp.mqtt import accounts
    from gisapp.mqtt.address import parse_mqtt_url
    from gisapp.mqtt.broker import BrokerConfig, BrokerError
    from gisapp.mqtt.replay import replay_storm
    from gisapp.mqtt.storm import demo_streams
    from gisapp.settings import Settings

    settings = Settings.load()
    address = parse_mqtt_url(settings.mqtt_url)
    with psycopg.connect(etl_conninfo(settings)) as conn:
        streams = demo_streams(conn)
    if not streams:
        raise click.ClickException("no datastreams: load the demo city first (gisapp demo load)")
    cfg = BrokerConfig(directory=(directory or settings.broker_dir()).resolve(), address=address)
    began = time.monotonic()
    try:
        password = accounts.set_account(cfg, SIMULATOR, write=["v1.1/#"])
        time.sleep(0.3)  # the broker reads its password file again on SIGHUP
        sent = replay_storm(address, SIMULATOR, password, streams, hours, speed)
    except BrokerError as exc:
        raise click.ClickException(str(exc)) from None
    console.print(f"storm of {hours:g} h over {len(streams)} datastreams: {sent:,} readings "
                  f"published to mqtt://{address.listen} in {time.monotonic() - began:.1f} s")
