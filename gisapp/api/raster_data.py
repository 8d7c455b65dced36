"""Rasters as data: the GeoTIFF itself by HTTP range requests, point values, polygon summaries.

`/rasters/{name}.tif` sends the registered Cloud-Optimized GeoTIFF so GDAL's /vsicurl/,
QGIS and rasterio read it over HTTP: HEAD, `Accept-Ranges: bytes`, 206 for one range,
multipart/byteranges for several, ETag and Last-Modified (304 on revalidation). Values are
read from the same file. A raster is found like its tiles (`registered_raster`): only
registered rasters are served, never a path from the request.
"""
from __future__ import annotations

import hashlib
import math

from flask import Blueprint, Response, jsonify, request, send_file

from etl.rasters import raster_run_layer
from gisapp.analysis.raster_values import parse_polygon, point_values, polygon_summary
from gisapp.api.tiles import add_cors, registered_raster
from gisapp.byte_ranges import (MAX_RANGES, multipart_body, multipart_length, new_boundary,
                                resolve_ranges)
from gisapp.context import settings
from gisapp.errors import BadRequest, NotFound, RangeNotSatisfiable
from gisapp.openapi.annotate import documented, query_param
from gisapp.read_routing import read_connection
from tiles.raster import RasterInfo

bp = Blueprint("raster_data", __name__)
GEOTIFF = "image/tiff; application=geotiff"
NUMBER = {"type": "number"}
GEOMETRY_BODY = {"type": "object", "required": ["geometry"], "properties": {
    "geometry": {"type": "object", "description": "GeoJSON Polygon or MultiPolygon, EPSG:4326",
                 "required": ["type", "coordinates"],
                 "properties": {"type": {"type": "string", "enum": ["Polygon", "MultiPolygon"]},
                                "coordinates": {"type": "array"}}}}}
SUMMARY = {"type": "object", "properties": {
    "raster": {"type": "string"}, "unit": {"type": "string", "nullable": True},
    "count": {"type": "integer"}, "min": {**NUMBER, "nullable": True},
    "mean": {**NUMBER, "nullable": True}, "max": {**NUMBER, "nullable": True}}}


@bp.after_request
def _range_headers(response: Response) -> Response:
    """CORS as for tiles, plus what browsers' range reads need: Range allowed, headers exposed."""
    add_cors(response)
    response.headers["Access-Control-Allow-Headers"] = "If-None-Match, Range, If-Range"
    response.headers["Access-Control-Expose-Headers"] = (
        "ETag, Last-Modified, Accept-Ranges, Content-Range, Content-Length")
    return response


def _file_etag(info: RasterInfo) -> str:
    stat = info.path.stat()
    text = f"{info.name}|{info.updated}|{stat.st_size}|{stat.st_mtime_ns}"
    return hashlib.blake2s(text.encode(), digest_size=12).hexdigest()


def _wants_several_ranges(etag: str) -> bool:
    ranges = request.range
    if ranges is None or len(ranges.ranges) < 2 or ranges.units != "bytes":
        return False
    if_range = request.headers.get("If-Range")
    return if_range is None or if_range.strip() == f'"{etag}"'


@bp.get("/rasters/<name>.tif")
@documented(responses={
    "200": {"description": "The whole GeoTIFF", "content": {GEOTIFF: {"schema": {
        "type": "string", "format": "binary"}}}},
    "206": {"description": "The requested byte range(s)", "content": {GEOTIFF: {"schema": {
        "type": "string", "format": "binary"}}}},
    "304": {"description": "Not modified (If-None-Match / If-Modified-Since)"}})
def raster_file(name: str):
    """The registered Cloud-Optimized GeoTIFF, with HTTP range requests (GDAL /vsicurl/)."""
    info = registered_raster(name)
    if not info.path.is_file():
        raise NotFound(f"the file of raster {name!r} is missing; re-import it")
    etag, size = _file_etag(info), info.path.stat().st_size
    headers = {"Cache-Control": settings().tile_cache_control, "Accept-Ranges": "bytes"}
    if _wants_several_ranges(etag) and not request.if_none_match.contains(etag):
        if len(request.range.ranges) > MAX_RANGES:
            raise BadRequest(f"at most {MAX_RANGES} byte ranges per request")
        ranges = resolve_ranges(request.range.ranges, size)
        if not ranges:
            raise RangeNotSatisfiable(f"no requested range lies inside the {size} bytes",
                                      headers={"Content-Range": f"bytes */{size}"})
        boundary = new_boundary()
        response = Response(multipart_body(info.path, ranges, size, GEOTIFF, boundary),
                            status=206, headers={**headers, "ETag": f'"{etag}"'},
                            content_type=f"multipart/byteranges; boundary={boundary}")
        response.content_length = multipart_length(ranges, size, GEOTIFF, boundary)
        return response
    response = send_file(info.path, mimetype=GEOTIFF, conditional=True, etag=etag,
                         download_name=f"{info.name}.tif", max_age=None)
    response.headers.update(headers)
    return response


def _coordinate(name: str, low: float, high: float) -> float:
    text = request.args.get(name)
    if text is None:
        raise BadRequest(f"{name} is required (a number in {low:g}..{high:g}, EPSG:4326)")
    try:
        value = float(text)
    except ValueError:
        raise BadRequest(f"{name} {text[:40]!r} must be a number") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise BadRequest(f"{name} {value:g} is outside {low:g}..{high:g}")
    return value


@bp.get("/rasters/<name>/value")
@documented(parameters=[
    query_param("lon", {"type": "number", "minimum": -180, "maximum": 180},
                "longitude, EPSG:4326", required=True),
    query_param("lat", {"type": "number", "minimum": -90, "maximum": 90},
                "latitude, EPSG:4326", required=True)])
def raster_value(name: str):
    """Every band's value at a point (nodata is null); 400 outside the raster."""
    lon, lat = _coordinate("lon", -180, 180), _coordinate("lat", -90, 90)
    info = registered_raster(name)
    found = point_values(info.path, lon, lat)
    if found is None:
        west, south, east, north = info.bounds
        raise BadRequest(f"lon {lon:g}, lat {lat:g} is outside raster {name}, which covers "
                         f"lon {west:.5f}..{east:.5f}, lat {south:.5f}..{north:.5f}")
    return jsonify({"raster": info.name, "unit": info.unit, "lon": lon, "lat": lat, **found})


def _bbox_polygon(text: str) -> dict:
    try:
        west, south, east, north = (float(v) for v in text.split(","))
    except ValueError:
        raise BadRequest(f"bbox {text[:80]!r} must be 4 comma-separated numbers: "
                         "west,south,east,north in EPSG:4326") from None
    if not all(map(math.isfinite, (west, south, east, north))) or west >= east or south >= north:
        raise BadRequest(f"bbox {text[:80]!r} must be finite with west < east and south < north")
    return {"type": "Polygon", "coordinates": [[[west, south], [east, south], [east, north],
                                                [west, north], [west, south]]]}


@bp.get("/rasters/<name>/summary")
@documented(parameters=[query_param(
    "bbox", {"type": "string"}, "west,south,east,north in EPSG:4326", required=True)],
    responses={"200": {"description": "Band 1 over the area",
                       "content": {"application/json": {"schema": SUMMARY}}}})
def raster_summary(name: str):
    """count/min/mean/max of band 1 over a bbox (or POST a GeoJSON polygon)."""
    text = request.args.get("bbox")
    if text is None:
        raise BadRequest("bbox is required for GET (west,south,east,north); "
                         "or POST a GeoJSON geometry")
    return _summary(name, parse_polygon(_bbox_polygon(text)))


@bp.post("/rasters/<name>/summary")
@documented(responses={"200": {"description": "Band 1 over the polygon",
                               "content": {"application/json": {"schema": SUMMARY}}}})
def raster_summary_of_polygon(name: str):
    """count/min/mean/max of band 1 over a polygon (JSON {"geometry": GeoJSON})."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "geometry" not in body:
        raise BadRequest('send JSON {"geometry": <GeoJSON Polygon or MultiPolygon>}')
    return _summary(name, parse_polygon(body["geometry"]))


def _summary(name: str, polygon):
    info = registered_raster(name)
    with read_connection([raster_run_layer(name)]) as conn:
        summary = polygon_summary(conn, info, polygon, settings().data_dir)
    if summary is None:
        raise NotFound(f"no raster named {name!r} is registered")
    return jsonify(summary)
