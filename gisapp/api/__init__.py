"""HTTP API blueprints, registered in one place."""
from flask import Flask

from gisapp.api import (admin, alerts, analysis, etl, features, health, layer_catalogue,
                        live, map_assets, me, ogc_tiles, openapi, parcels, permits, raster_data,
                        sta, tiles)
from gisapp.api import nowcast


def register(app: Flask) -> None:
    app.register_blueprint(health.bp)
    app.register_blueprint(me.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(etl.bp)
    app.register_blueprint(parcels.bp)
    app.register_blueprint(layer_catalogue.bp)
    app.register_blueprint(features.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(tiles.bp)
    app.register_blueprint(ogc_tiles.bp)
    app.register_blueprint(raster_data.bp)
    app.register_blueprint(map_assets.bp)
    app.register_blueprint(permits.bp)
    app.register_blueprint(analysis.bp)
    app.register_blueprint(sta.bp)
    app.register_blueprint(alerts.bp)
    app.register_blueprint(nowcast.bp)
    app.register_blueprint(live.bp)
