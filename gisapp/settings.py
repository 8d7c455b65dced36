"""Settings: one typed object built from defaults, the environment and a test mapping."""
from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

from gisapp.mqtt.address import DEFAULT_MQTT_URL, parse_mqtt_url
from tiles.grid import GridError, parse_zoom_range

LOCAL_PGPORT = int(os.environ.get("GISAPP_PGPORT", "5433"))
LOCAL_DATABASE_URL = f"postgresql://gisapp:gisapp@127.0.0.1:{LOCAL_PGPORT}/gisapp"
LOCAL_TEST_DATABASE_URL = f"postgresql://gisapp:gisapp@127.0.0.1:{LOCAL_PGPORT}/gisapp_test"
DEFAULT_DATA_DIR = "/var/lib/gisapp/data"
LOCAL_PUBLIC_URL = "http://127.0.0.1:8000"  # where `make run` and `gisapp serve` answer
POOLERS = ("off", "transaction")


@dataclass(frozen=True)
class Settings:
    """Everything configurable. Built once in create_app and validated there."""

    database_url: str = LOCAL_DATABASE_URL
    # A transaction-mode pooler (PgBouncer) in DATABASE_URL: no server-side prepared
    # statements and no per-session settings on web and tile connections, and whatever needs
    # a session of its own (LISTEN, the worker, imports, migrations) uses DATABASE_DIRECT_URL.
    database_pooler: str = "off"
    database_direct_url: str = ""
    database_read_urls: str = ""  # streaming replicas for reads, comma-separated
    read_max_lag_ms: int = 5_000  # a replica further behind than this is not read from
    read_wait_ms: int = 200  # how long a read waits for a replica to replay a version
    replica_check_ms: int = 1_000  # how often each replica's health and replay are checked
    secret_key: str = "dev-only-change-me"
    data_dir: Path = Path(DEFAULT_DATA_DIR)
    db_pool_size: int = 8
    db_pool_overflow: int = 4
    max_features_per_page: int = 10_000
    tile_max_features: int = 20_000
    tile_cache: str = "memory+disk"
    tile_cache_memory_mb: int = 128
    tile_cache_control: str = "public, max-age=60"
    tile_purge_url: str = ""  # a cache taking HTTP PURGE per tile URL, after every import
    tile_purge_zoom: str = "10-18"  # the zooms purged (from each layer's minzoom)
    tile_purge_max: int = 50_000  # more PURGE requests than this for one run: none sent
    glyphs_url: str = ""  # an outside glyph server instead of our own /fonts
    map_assets_dir: Path | None = None  # built glyphs and sprite; default data_dir/map-assets
    import_dir: Path | None = None
    import_url_allow: str = ""
    max_upload_mb: int = 512
    max_unpacked_mb: int = 2048
    max_archive_files: int = 2000
    max_compression_ratio: int = 200
    max_raster_mb: int = 512
    max_raster_pixels: int = 250_000_000  # width x height, e.g. 15,800 x 15,800
    max_raster_bands: int = 16
    proxy_hops: int = 0  # reverse proxies in front that set X-Forwarded-For/-Proto/-Host/-Port
    max_url_bytes: int = 8000  # gunicorn refuses request lines over 8190 bytes itself
    max_header_bytes: int = 8190
    web_statement_timeout_ms: int = 30_000
    tile_statement_timeout_ms: int = 15_000
    etl_statement_timeout_ms: int = 0  # imports run for minutes: off unless asked
    idle_in_transaction_timeout_ms: int = 60_000
    heavy_requests: int = 1  # per process; gunicorn.conf.py sets threads - 1
    heavy_page_features: int = 1_000
    alert_streams: int = 4  # per process; gunicorn.conf.py sets threads - 1
    public_url: str = LOCAL_PUBLIC_URL
    login_failures_per_name: int = 5  # per user name and address, in 5 minutes
    login_failures_per_address: int = 20  # per address, over all user names
    login_failures_per_user: int = 50  # per user name, over all addresses
    mqtt_url: str = DEFAULT_MQTT_URL  # the sensors' broker and the ingest account
    mqtt_dir: Path | None = None  # the broker's config, accounts, log; default data_dir/mqtt
    sensor_retention_days: int = 400  # raw observations; hourly/daily aggregates are kept
    testing: bool = False

    ENV = {
        "database_url": "DATABASE_URL",
        "database_pooler": "DATABASE_POOLER",
        "database_direct_url": "DATABASE_DIRECT_URL",
        "database_read_urls": "DATABASE_READ_URLS",
        "read_max_lag_ms": "GISAPP_READ_MAX_LAG_MS",
        "read_wait_ms": "GISAPP_READ_WAIT_MS",
        "replica_check_ms": "GISAPP_REPLICA_CHECK_MS",
        "secret_key": "SECRET_KEY",
        "data_dir": "GISAPP_DATA_DIR",
        "db_pool_size": "GISAPP_DB_POOL_SIZE",
        "db_pool_overflow": "GISAPP_DB_POOL_OVERFLOW",
        "max_features_per_page": "GISAPP_MAX_FEATURES_PER_PAGE",
        "import_dir": "GISAPP_IMPORT_DIR",
        "import_url_allow": "GISAPP_IMPORT_URL_ALLOW",
        "max_upload_mb": "GISAPP_MAX_UPLOAD_MB",
        "max_unpacked_mb": "GISAPP_MAX_UNPACKED_MB",
        "max_archive_files": "GISAPP_MAX_ARCHIVE_FILES",
        "max_compression_ratio": "GISAPP_MAX_COMPRESSION_RATIO",
        "max_raster_mb": "GISAPP_MAX_RASTER_MB",
        "max_raster_pixels": "GISAPP_MAX_RASTER_PIXELS",
        "max_raster_bands": "GISAPP_MAX_RASTER_BANDS",
        "tile_max_features": "GISAPP_TILE_MAX_FEATURES",
        "tile_cache": "GISAPP_TILE_CACHE",
        "tile_cache_memory_mb": "GISAPP_TILE_CACHE_MEMORY_MB",
        "tile_cache_control": "GISAPP_TILE_CACHE_CONTROL",
        "tile_purge_url": "GISAPP_TILE_PURGE_URL",
        "tile_purge_zoom": "GISAPP_TILE_PURGE_ZOOM",
        "tile_purge_max": "GISAPP_TILE_PURGE_MAX",
        "glyphs_url": "GISAPP_GLYPHS_URL",
        "map_assets_dir": "GISAPP_MAP_ASSETS_DIR",
        "proxy_hops": "GISAPP_PROXY_HOPS",
        "max_url_bytes": "GISAPP_MAX_URL_BYTES",
        "max_header_bytes": "GISAPP_MAX_HEADER_BYTES",
        "web_statement_timeout_ms": "GISAPP_WEB_STATEMENT_TIMEOUT_MS",
        "tile_statement_timeout_ms": "GISAPP_TILE_STATEMENT_TIMEOUT_MS",
        "etl_statement_timeout_ms": "GISAPP_ETL_STATEMENT_TIMEOUT_MS",
        "idle_in_transaction_timeout_ms": "GISAPP_IDLE_IN_TRANSACTION_TIMEOUT_MS",
        "heavy_requests": "GISAPP_HEAVY_REQUESTS",
        "heavy_page_features": "GISAPP_HEAVY_PAGE_FEATURES",
        "alert_streams": "GISAPP_ALERT_STREAMS",
        "public_url": "GISAPP_PUBLIC_URL",
        "login_failures_per_name": "GISAPP_LOGIN_FAILURES_PER_NAME",
        "login_failures_per_address": "GISAPP_LOGIN_FAILURES_PER_ADDRESS",
        "login_failures_per_user": "GISAPP_LOGIN_FAILURES_PER_USER",
        "mqtt_url": "MQTT_URL",
        "mqtt_dir": "GISAPP_MQTT_DIR",
        "sensor_retention_days": "GISAPP_SENSOR_RETENTION_DAYS",
    }

    @classmethod
    def load(cls, overrides: Mapping[str, Any] | None = None,
             environ: Mapping[str, str] | None = None) -> "Settings":
        """Defaults, then environment variables, then `overrides` (a test's mapping)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        types = {f.name: f.type for f in fields(cls)}
        for name, var in cls.ENV.items():
            if var in env and env[var] != "":
                values[name] = env[var]
        for key, value in (overrides or {}).items():
            name = key.lower()
            if name not in types:
                raise ValueError(f"unknown setting {key!r}")
            values[name] = value
        settings = replace(cls(), **{k: _coerce(k, v, types[k]) for k, v in values.items()})
        settings.validate()
        return settings

    def glyph_dir(self) -> Path:
        """Where `gisapp fonts build` writes the glyph PBFs."""
        return (self.map_assets_dir or self.data_dir / "map-assets") / "fonts"

    def sprite_dir(self) -> Path:
        """Where `gisapp sprite build` writes the icon sprite."""
        return (self.map_assets_dir or self.data_dir / "map-assets") / "sprite"

    def broker_dir(self) -> Path:
        """Where `gisapp mqtt start` keeps mosquitto's config, accounts, log and queue."""
        return self.mqtt_dir or self.data_dir / "mqtt"

    def validate(self) -> None:
        if not self.database_url.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
            raise ValueError("DATABASE_URL must be a postgresql:// URL")
        if self.database_pooler not in POOLERS:
            raise ValueError(f"DATABASE_POOLER must be one of {', '.join(POOLERS)}, "
                             f"not {self.database_pooler!r}")
        if self.database_direct_url and not self.database_direct_url.startswith(
                ("postgresql://", "postgresql+psycopg://", "postgres://")):
            raise ValueError("DATABASE_DIRECT_URL must be a postgresql:// URL")
        if self.database_pooler == "transaction" and not self.database_direct_url:
            raise ValueError("DATABASE_POOLER=transaction needs DATABASE_DIRECT_URL (the "
                             "database itself, not the pooler): LISTEN, the worker's queue "
                             "and imports' layer locks do not work through a transaction pooler")
        for url in self.read_urls:
            if not url.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
                raise ValueError("DATABASE_READ_URLS must be postgresql:// URLs separated by "
                                 "commas")
        if self.read_max_lag_ms < 1 or self.read_wait_ms < 0 or self.replica_check_ms < 100:
            raise ValueError("GISAPP_READ_MAX_LAG_MS must be at least 1, GISAPP_READ_WAIT_MS "
                             "0 or more, GISAPP_REPLICA_CHECK_MS at least 100")
        if self.db_pool_size < 1:
            raise ValueError("GISAPP_DB_POOL_SIZE must be at least 1")
        if min(self.max_upload_mb, self.max_unpacked_mb, self.max_archive_files,
               self.max_compression_ratio) < 1:
            raise ValueError("GISAPP_MAX_UPLOAD_MB, GISAPP_MAX_UNPACKED_MB, "
                             "GISAPP_MAX_ARCHIVE_FILES and GISAPP_MAX_COMPRESSION_RATIO "
                             "must be at least 1")
        if min(self.max_raster_mb, self.max_raster_pixels, self.max_raster_bands) < 1:
            raise ValueError("GISAPP_MAX_RASTER_MB, GISAPP_MAX_RASTER_PIXELS and "
                             "GISAPP_MAX_RASTER_BANDS must be at least 1")
        for prefix in filter(None, (p.strip() for p in self.import_url_allow.split(","))):
            if not prefix.startswith(("http://", "https://")):
                raise ValueError(f"GISAPP_IMPORT_URL_ALLOW entry {prefix!r} must start with "
                                 "http:// or https://")
        if self.tile_cache not in ("off", "memory", "memory+disk"):
            raise ValueError("GISAPP_TILE_CACHE must be off, memory or memory+disk")
        if self.tile_purge_url and (
                not self.tile_purge_url.startswith(("http://", "https://"))
                or any(c.isspace() for c in self.tile_purge_url)):
            raise ValueError(f"GISAPP_TILE_PURGE_URL {self.tile_purge_url!r} must be an "
                             "http:// or https:// URL, e.g. http://127.0.0.1:8000")
        try:
            parse_zoom_range(self.tile_purge_zoom)
        except GridError as exc:
            raise ValueError(f"GISAPP_TILE_PURGE_ZOOM: {exc}") from None
        if self.tile_purge_max < 1:
            raise ValueError("GISAPP_TILE_PURGE_MAX must be at least 1")
        if self.tile_max_features < 1:
            raise ValueError("GISAPP_TILE_MAX_FEATURES must be at least 1")
        if not 0 <= self.proxy_hops <= 3:
            raise ValueError("GISAPP_PROXY_HOPS must be 0 (no proxy) to 3")
        if self.max_url_bytes < 256 or self.max_header_bytes < 256:
            raise ValueError("GISAPP_MAX_URL_BYTES and GISAPP_MAX_HEADER_BYTES must be at "
                             "least 256")
        for name in ("web_statement_timeout_ms", "tile_statement_timeout_ms",
                     "etl_statement_timeout_ms", "idle_in_transaction_timeout_ms"):
            if getattr(self, name) < 0:
                raise ValueError(f"{self.ENV[name]} must be 0 (off) or a number of milliseconds")
        if self.alert_streams < 1:
            raise ValueError("GISAPP_ALERT_STREAMS must be at least 1")
        if self.heavy_requests < 1 or self.heavy_page_features < 1:
            raise ValueError("GISAPP_HEAVY_REQUESTS and GISAPP_HEAVY_PAGE_FEATURES must be at "
                             "least 1")
        check_public_url(self.public_url)
        parse_mqtt_url(self.mqtt_url)
        if min(self.login_failures_per_name, self.login_failures_per_address,
               self.login_failures_per_user) < 1:
            raise ValueError("GISAPP_LOGIN_FAILURES_PER_NAME, GISAPP_LOGIN_FAILURES_PER_ADDRESS "
                             "and GISAPP_LOGIN_FAILURES_PER_USER must be at least 1")
        if self.sensor_retention_days < 1:
            raise ValueError("GISAPP_SENSOR_RETENTION_DAYS must be at least 1")

    @property
    def direct_url(self) -> str:
        """The URL for work that needs a session of its own (LISTEN, worker, imports, CLI)."""
        return self.database_direct_url or self.database_url

    @property
    def prepares_statements(self) -> bool:
        """Whether connections of DATABASE_URL may keep server-side prepared statements."""
        return self.database_pooler == "off"

    @property
    def read_urls(self) -> tuple[str, ...]:
        """The replicas' URLs (DATABASE_READ_URLS), in the order given."""
        return tuple(u.strip() for u in self.database_read_urls.split(",") if u.strip())

    @property
    def is_https(self) -> bool:
        """Whether clients reach the app over https (cookies are then sent only over https)."""
        return self.public_url.lower().startswith("https://")


def check_public_url(url: str) -> None:
    """Raise ValueError unless `url` is an http(s) origin: scheme, host, optional port."""
    problem = None
    try:
        parts = urlsplit(url)
        parts.port  # raises ValueError on a port that is not a number in 0-65535
    except ValueError as exc:
        problem = str(exc)
    else:
        if any(c.isspace() or not c.isprintable() for c in url):
            problem = "it holds whitespace or control characters"
        elif parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            problem = "it must start with http:// or https:// and name a host"
        elif parts.username is not None or parts.password is not None:
            problem = "it must not hold a user name or password"
        elif parts.path not in ("", "/") or parts.query or parts.fragment or "?" in url \
                or "#" in url:
            problem = "it must have no path, query or fragment"
    if problem:
        raise ValueError(f"GISAPP_PUBLIC_URL {url!r} is not an origin such as "
                         f"https://gis.example.vn or http://127.0.0.1:8000: {problem}")


def _coerce(name: str, value: Any, type_: Any) -> Any:
    kind = str(type_)
    try:
        if "int" in kind:
            return int(value)
        if "bool" in kind:
            return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
        if "Path" in kind:
            return Path(value)
    except ValueError:
        raise ValueError(f"setting {name} must be {kind}, got {value!r}") from None
    return value
