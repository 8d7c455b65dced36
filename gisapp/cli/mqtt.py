"""`gisapp mqtt start|stop|status|device|subscribe`: the sensors' broker and its subscriber."""
from __future__ import annotations

import json
from pathlib import Path

import click

from gisapp.cli.daemon_commands import add_stop_and_status
from gisapp.mqtt.broker import BrokerConfig, BrokerError, running_pid, start, stop


def _config(directory: Path | None) -> BrokerConfig:
    from gisapp.mqtt.address import parse_mqtt_url
    from gisapp.settings import Settings

    settings = Settings.load()
    return BrokerConfig(directory=(directory or settings.broker_dir()).resolve(),
                        address=parse_mqtt_url(settings.mqtt_url))


dir_option = click.option(
    "--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="The broker's directory (config, accounts, log, queue) [default: GISAPP_MQTT_DIR, "
         "or $GISAPP_DATA_DIR/mqtt].")


@click.group("mqtt")
def mqtt() -> None:
    """Run Mosquitto for the sensors (listener and ingest account from MQTT_URL)."""


@mqtt.command("start")
@dir_option
@click.option("--foreground", is_flag=True,
              help="Run mosquitto in this process instead (a container's main process).")
def start_cmd(directory: Path | None, foreground: bool) -> None:
    """Start the broker in the background (or reload its accounts if it runs)."""
    from gisapp.mqtt.accounts import ensure_ingest_account
    from gisapp.mqtt.broker import run_foreground

    cfg = _config(directory)
    try:
        ensure_ingest_account(cfg)
        if foreground:
            run_foreground(cfg)
        done = start(cfg)
    except BrokerError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"mosquitto {done}: mqtt://{cfg.address.listen} (dir {cfg.directory})", err=True)


add_stop_and_status(mqtt, program="mosquitto", place_option=dir_option, config=_config,
                    error=BrokerError, stop=stop, running_pid=running_pid,
                    place=lambda cfg: f"dir {cfg.directory}",
                    describe=lambda cfg: f": mqtt://{cfg.address.listen}",
                    stop_help="Stop the broker (queued readings of offline sessions are saved).")


@mqtt.group("device")
def device() -> None:
    """Device accounts: each may publish only to its own datastreams' topics."""


@device.command("add")
@click.argument("name")
@click.option("--datastream", "datastreams", type=click.IntRange(1), multiple=True,
              help="A datastream id the device publishes (repeatable).")
@click.option("--thing", "things", type=click.IntRange(1), multiple=True,
              help="A thing whose every datastream the device publishes (repeatable).")
@dir_option
def device_add(name: str, datastreams: tuple[int, ...], things: tuple[int, ...],
               directory: Path | None) -> None:
    """Create or change a device account; prints its new password on the last line."""
    from gisapp.mqtt.accounts import add_device

    if not datastreams and not things:
        raise click.UsageError("name at least one --datastream or --thing")
    streams = set(datastreams) | set(_datastreams_of(things))
    try:
        password = add_device(_config(directory), name, sorted(streams))
    except BrokerError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"device {name} may publish to datastreams "
               f"{', '.join(map(str, sorted(streams)))}; its password:", err=True)
    click.echo(password)


def _datastreams_of(things: tuple[int, ...]) -> list[int]:
    """The datastream ids of these things; an error naming a thing that has none."""
    if not things:
        return []
    import psycopg

    from gisapp.db.timeouts import etl_conninfo
    from gisapp.settings import Settings

    with psycopg.connect(etl_conninfo(Settings.load())) as conn:
        rows = conn.execute("SELECT thing_id, id FROM datastreams WHERE thing_id = ANY(%s)",
                            (list(things),)).fetchall()
    missing = sorted(set(things) - {t for t, _ in rows})
    if missing:
        raise click.ClickException(f"thing {missing[0]} does not exist or has no datastreams")
    return [d for _, d in rows]


@device.command("remove")
@click.argument("name")
@dir_option
def device_remove(name: str, directory: Path | None) -> None:
    """Delete a device account."""
    from gisapp.mqtt.accounts import remove_account

    cfg = _config(directory)
    if name == cfg.address.user:
        raise click.ClickException(f"{name!r} is the ingest account (MQTT_URL), not a device")
    if not remove_account(cfg, name):
        raise click.ClickException(f"no device account {name!r}")
    click.echo(f"device {name} removed", err=True)


@device.command("list")
@dir_option
def device_list(directory: Path | None) -> None:
    """Every account with the topics it may read and write (JSON)."""
    from gisapp.mqtt.accounts import list_accounts

    click.echo(json.dumps(list_accounts(_config(directory)), indent=1, sort_keys=True))


@mqtt.command("subscribe")
@click.option("--batch-size", default=5000, show_default=True, type=click.IntRange(1, 100_000),
              help="Readings written in one transaction at most.")
@click.option("--batch-wait", default=0.2, show_default=True, type=click.FloatRange(0.01, 10),
              help="Seconds a reading waits for its batch to fill at most.")
@click.option("--processes", default=1, show_default=True, type=click.IntRange(1, 32),
              help="Subscribers sharing the topics ($share/ subscription), one per process.")
@click.option("--client-id", default="gisapp-ingest", show_default=True,
              help="MQTT client id (its persistent session holds what arrives while down).")
def subscribe_cmd(batch_size: int, batch_wait: float, processes: int, client_id: str) -> None:
    """Write readings published to v1.1/Datastreams(<id>)/Observations until stopped.

    Malformed messages are dead-lettered with a reason (`gisapp mqtt dead-letters`);
    SIGINT/SIGTERM write what was received, then stop.
    """
    import logging
    import multiprocessing
    import signal
    import threading

    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    options = dict(batch_size=batch_size, batch_wait=batch_wait)
    if processes == 1:
        _subscribe(client_id, False, options)
        return
    children = [multiprocessing.Process(target=_subscribe, daemon=False,
                                        args=(f"{client_id}-{n}", True, options))
                for n in range(1, processes + 1)]
    for child in children:
        child.start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(1) and all(c.is_alive() for c in children):
        pass
    for child in children:
        if child.is_alive():
            child.terminate()  # each writes what it received, then stops
    for child in children:
        child.join()
    if not stop.is_set():
        raise click.ClickException("a subscriber process ended; stopping the others")


def _subscribe(client_id: str, shared: bool, options: dict) -> None:
    import signal
    import threading
    from datetime import timedelta

    from gisapp.db.timeouts import etl_conninfo
    from gisapp.mqtt.address import parse_mqtt_url
    from gisapp.mqtt.subscriber import Subscriber
    from gisapp.settings import Settings
    from store.observations import WritePolicy

    settings = Settings.load()
    options = {**options, "policy": WritePolicy(
        retention=timedelta(days=settings.sensor_retention_days))}
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    subscriber = Subscriber(parse_mqtt_url(settings.mqtt_url), etl_conninfo(settings),
                            client_id=client_id, shared=shared, **options)
    stats = subscriber.run(stop)
    click.echo(f"{client_id} stopped: {stats.line()}", err=True)


@mqtt.command("dead-letters")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(0, 10_000),
              help="The newest dead letters listed after the counts.")
def dead_letters_cmd(limit: int) -> None:
    """Messages that were not readings: counts per kind, then the newest with reasons (JSON)."""
    import psycopg

    from gisapp.db.timeouts import etl_conninfo
    from gisapp.settings import Settings
    from store.dead_letters import count_dead_letters, latest_dead_letters

    with psycopg.connect(etl_conninfo(Settings.load())) as conn:
        click.echo(json.dumps({"counts": count_dead_letters(conn),
                               "latest": latest_dead_letters(conn, limit)},
                              indent=1, ensure_ascii=False))
