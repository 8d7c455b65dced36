"""Vector and raster tiles, TileJSON and styles: thin views over `tiles/`.

Status codes: 200 tile, 204 empty tile, 304 If-None-Match hit, 400 malformed z/x/y or layer
list (non-integer, outside the grid, repeated or too many layers), 404 unknown layer or
style, and 404 too for a layer whose access level the caller lacks: it answers like an
unknown layer, as in the features API (gisapp/layer_access.py).
"""
from __future__ import annotations

import hashlib
import weakref
from contextlib import AbstractContextManager, ExitStack, contextmanager
from typing import Callable, Iterator

import psycopg
import sqlalchemy.exc
from flask import Blueprint, Flask, Response, current_app, jsonify, request
from sqlalchemy import Engine, event

from etl.rasters import RASTER_NAME, raster_run_layer
from gisapp.api.map_assets import GLYPHS_PATH
from gisapp.auth import current_levels, current_role
from gisapp.context import settings
from gisapp.db.engine import make_engine
from gisapp.db.provision import libpq_url
from gisapp.db.timeouts import tile_options
from gisapp.errors import BadRequest, NotFound
from gisapp.layer_access import check_visible, layer_not_found
from gisapp.public_url import base_url
from gisapp.read_routing import (choose_replica, note_source, read_floor, replicas,
                                 required_lsn)
from gisapp.query_args import finite_number
from layers import DEFAULT_THEMES, Access, Layer, UnknownLayer
from tiles.grid import Tile, parse_layer_list, parse_tile
from tiles.raster import (DEFAULT_RAMP, RAMPS, TRANSPARENT_PNG, RasterInfo, find_raster,
                          raster_tilejson, render_raster_tile)
from tiles.service import (GZIP_ON_THE_FLY, ConnectionLost, DatabaseUnreachable, TileService,
                           gunzip_tile, gzip_tile)
from tiles.palettes import DEFAULT_PALETTE, PALETTES
from tiles.sprite import SPRITE_PATH
from tiles.style import build_style, style_layers
from tiles.tilejson import build_tilejson
from tiles.tilesets import WORLD_CRS84_QUAD

bp = Blueprint("tiles", __name__)
MVT_TYPE = "application/vnd.mapbox-vector-tile"


@bp.record_once
def _setup(state) -> None:
    app: Flask = state.app
    cfg = app.extensions["settings"]
    pool = _tile_pool(app.extensions["engine"], cfg, cfg.database_url)
    connect = _pooled_connect(pool)
    # The version listener LISTENs, which needs a session: the direct URL past any pooler.
    service = TileService(libpq_url(cfg.direct_url), connect, cache=cfg.tile_cache,
                          memory_bytes=cfg.tile_cache_memory_mb << 20,
                          disk_root=cfg.data_dir / "tiles", max_features=cfg.tile_max_features,
                          read_connect=_replica_connect(app, cfg, connect),
                          prepare=cfg.prepares_statements)
    app.extensions["tiles"] = service
    _listen_to_imports(service)


def _pooled_connect(pool: Engine) -> Callable[[], AbstractContextManager]:
    """A tile connection from `pool`: dead ones are dropped (ConnectionLost) for a retry."""
    @contextmanager
    def connect() -> Iterator:
        try:
            conn = pool.raw_connection()
        except sqlalchemy.exc.OperationalError as exc:
            raise DatabaseUnreachable(str(exc.orig).strip()) from exc
        driver = conn.driver_connection
        try:
            yield conn
        except psycopg.OperationalError as exc:
            if not (driver.broken or driver.closed):
                raise
            conn.invalidate()
            pool.dispose()  # the pool's idle connections died with this one
            raise ConnectionLost(str(exc).strip()) from exc
        finally:
            conn.close()

    return connect


def _replica_connect(app: Flask, cfg, primary: Callable[[], AbstractContextManager]
                     ) -> Callable[[int], AbstractContextManager] | None:
    """Tile connections to a replica that has replayed an LSN, else to the primary."""
    found = app.extensions.get("replicas")
    if found is None:
        return None
    pools = [_pooled_connect(_tile_pool(app.extensions["engine"], cfg, url))
             for url in cfg.read_urls]

    @contextmanager
    def connect(lsn: int) -> Iterator:
        chosen = choose_replica(lsn)
        with ExitStack() as stack:
            conn = None
            if chosen is not None:
                try:
                    conn = stack.enter_context(pools[chosen.index]())
                except DatabaseUnreachable:  # down since its last check: the primary reads
                    found.health.check(chosen)
                    note_source("primary")
            if conn is None:
                conn = stack.enter_context(primary())
            yield conn

    return connect


def _tile_pool(app_engine: Engine, cfg, url: str) -> Engine:
    """Tiles' own connections: in autocommit and not pinged before use.

    A tile is one read-only statement, so it needs no BEGIN and no ROLLBACK round trip,
    and the app pool's pre-ping was one more round trip per tile (0.36 ms of a 9 ms
    tile, measured in gunicorn). Instead a connection found dead is dropped and the tile
    read once more (TileService.read). Sized like the app pool (each thread holds one
    tile connection at a time) and disposed with it.
    """
    pool = make_engine(url, cfg.db_pool_size, cfg.db_pool_overflow, pre_ping=False,
                       options=tile_options(cfg),
                       pooled=url == cfg.database_url and not cfg.prepares_statements)

    @event.listens_for(pool, "connect")
    def _autocommit(dbapi_conn, _record) -> None:
        dbapi_conn.autocommit = True

    @event.listens_for(app_engine, "engine_disposed")
    def _dispose(_engine) -> None:
        pool.dispose()

    return pool


def _listen_to_imports(service: TileService) -> None:
    """Make an import committed in this process visible on the very next request."""
    from etl.events import on_layer_loaded, remove_layer_loaded

    ref = weakref.ref(service)

    def tiles_layer_loaded(result) -> None:
        live = ref()
        if live is None:
            remove_layer_loaded(tiles_layer_loaded)
            return
        live.layer_loaded(result.layer, result.extent)

    on_layer_loaded(tiles_layer_loaded)


def tile_service() -> TileService:
    return current_app.extensions["tiles"]


@bp.after_request
def add_cors(response: Response) -> Response:
    """Any origin may read tiles and their documents (public GETs)."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "If-None-Match"
    response.headers["Access-Control-Expose-Headers"] = "ETag"
    return response


def _layers(text: str, levels: frozenset[Access]) -> tuple[Layer, ...]:
    try:
        layers = parse_layer_list(text)
    except UnknownLayer as exc:
        raise layer_not_found(exc.layer_id, levels) from None
    check_visible(layers, levels)
    return layers


def cache_control(levels: frozenset[Access]) -> str:
    """The configured Cache-Control; private when the content depends on a login."""
    value = settings().tile_cache_control
    if levels <= {Access.PUBLIC}:
        return value
    return value.replace("public", "private") if "public" in value else "private, " + value


def tile_address(z: str, x: str, y: str) -> Tile:
    """The tile a path names, checked against the grid before any SQL (400 otherwise)."""
    return parse_tile(z, x, y)


def _accepts_gzip() -> bool:
    header = request.headers.get("Accept-Encoding", "")
    if ";" not in header:  # no q-values, as browsers send it: spare werkzeug's parser
        codings = {coding.strip().lower() for coding in header.split(",")}
        return "gzip" in codings or "*" in codings
    return request.accept_encodings.quality("gzip") > 0


def _no_content(status: int, headers: dict[str, str]) -> Response:
    """A 204 or 304: no body, so no Content-Type (Flask would say text/html)."""
    response = Response(status=status, headers=headers)
    del response.headers["Content-Type"]
    return response


@bp.get("/tiles/<layers>/<z>/<x>/<y>.mvt")
def tile(layers: str, z: str, x: str, y: str):
    """A composite vector tile of one or more layers (XYZ)."""
    address = tile_address(z, x, y)
    levels = current_levels()
    return serve_tile(_layers(layers, levels), levels, address)


def serve_tile(chosen: tuple[Layer, ...], levels: frozenset[Access], address: Tile,
               crs84: bool = False) -> Response:
    """The tile response every vector tile URL sends: ETag, 304, cache, gzip, 204 if empty.

    `crs84` serves a WorldCRS84Quad tile (tiles.grid.parse_crs84_tile), never cached.
    """
    service, gzipped = tile_service(), _accepts_gzip()
    found = service.lookup(chosen, levels, address)
    found = found._replace(lsn=max(found.lsn, read_floor()))
    etag = service.etag(found, gzipped, WORLD_CRS84_QUAD.id if crs84 else "")
    headers = {"ETag": etag, "Cache-Control": cache_control(levels), "Vary": "Accept-Encoding"}
    if request.if_none_match.contains(etag.strip('"')):
        return _no_content(304, headers)
    if crs84:
        body = service.render_crs84(chosen, levels, address, found.lsn)
    else:
        body = service.get_tile(chosen, levels, address, found)
    if body.is_empty:
        return _no_content(204, headers)
    data = body.data
    if body.gzipped and not gzipped:
        data = gunzip_tile(data)
    elif gzipped and not body.gzipped:
        data = gzip_tile(data, GZIP_ON_THE_FLY)
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    return Response(data, status=200, mimetype=MVT_TYPE, headers=headers)


def _tiles_url(layers: tuple[Layer, ...]) -> str:
    return f"{base_url()}/tiles/{','.join(layer.id for layer in layers)}/{{z}}/{{x}}/{{y}}.mvt"


@bp.get("/tiles/<layers>.json")
def tilejson(layers: str):
    levels = current_levels()
    chosen = _layers(layers, levels)
    service = tile_service()
    response = jsonify(build_tilejson(chosen, levels, _tiles_url(chosen),
                                      service.data_bounds(chosen), service.osm_layers(chosen)))
    response.headers["Cache-Control"] = cache_control(levels)
    return response


@bp.get("/styles/<name>.json")
def style(name: str):
    levels = current_levels()
    layers = style_layers(name, levels)
    if not layers:
        raise NotFound(f"style {name} has no layer that role {current_role()} may see")
    palette = request.args.get("palette", DEFAULT_PALETTE)
    if palette not in PALETTES:
        raise BadRequest(f"unknown palette {palette!r}; palettes: {', '.join(PALETTES)}")
    glyphs = settings().glyphs_url or base_url() + GLYPHS_PATH
    # The city's default view opens the base map, land use and the plan; a theme's own
    # style opens its layers.
    doc = build_style(name, levels, _tiles_url(layers), glyphs, base_url() + SPRITE_PATH,
                      palette, DEFAULT_THEMES if name == "default" else None,
                      tile_service().osm_layers(tuple(layers)))
    response = jsonify(doc)
    response.headers["Cache-Control"] = cache_control(levels)
    return response


def raster_lsn(name: str) -> int | None:
    """The LSN a replica must have replayed to read raster `name`; None without replicas."""
    return required_lsn([raster_run_layer(name)]) if replicas() is not None else None


def registered_raster(name: str) -> RasterInfo:
    """The raster registered under `name`, or 404; every raster URL looks it up here."""
    # A name the import would refuse (say one holding a NUL byte, which PostgreSQL text
    # cannot hold) is not registered: answer before any SQL.
    info = None
    if RASTER_NAME.match(name):
        info = tile_service().read(lambda conn: find_raster(conn, name, settings().data_dir),
                                   raster_lsn(name))
    if info is None:
        raise NotFound(f"no raster named {name!r} is registered; see `gisapp etl raster`")
    return info


def _raster_options() -> tuple[str, tuple[float, float] | None]:
    ramp = request.args.get("ramp", DEFAULT_RAMP)
    if ramp not in RAMPS:
        raise BadRequest(f"unknown ramp {ramp!r}; ramps: {', '.join(RAMPS)}")
    low, high = request.args.get("min"), request.args.get("max")
    if low is None and high is None:
        return ramp, None
    if low is None or high is None:
        raise BadRequest("give both min and max, or neither")
    value_range = (finite_number(low, "min"), finite_number(high, "max"))
    if value_range[0] >= value_range[1]:
        raise BadRequest("min must be below max")
    return ramp, value_range


@bp.get("/rasters/<name>/<z>/<x>/<y>.png")
def raster_tile(name: str, z: str, x: str, y: str):
    address = tile_address(z, x, y)
    ramp, value_range = _raster_options()
    info = registered_raster(name)
    etag = '"' + hashlib.blake2s(f"{info.name}|{info.updated}|{address}|{ramp}|{value_range}"
                                 .encode(), digest_size=12).hexdigest() + '"'
    headers = {"ETag": etag, "Cache-Control": settings().tile_cache_control}
    if request.if_none_match.contains(etag.strip('"')):
        return _no_content(304, headers)
    png = render_raster_tile(info, address, ramp, value_range)
    # Where the raster has no pixel, a transparent tile: map clients draw nothing there
    # instead of logging a failed image.
    return Response(png or TRANSPARENT_PNG, status=200, mimetype="image/png", headers=headers)


@bp.get("/rasters/<name>.json")
def raster_tilejson_view(name: str):
    info = registered_raster(name)
    url = f"{base_url()}/rasters/{info.name}/{{z}}/{{x}}/{{y}}.png"
    response = jsonify(raster_tilejson(info, url))
    response.headers["Cache-Control"] = settings().tile_cache_control
    return response
