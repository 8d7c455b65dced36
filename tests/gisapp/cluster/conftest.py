"""The cluster tests share one primary and one streaming replica per session."""
from tests.pg_cluster import pg_cluster, replica, replicated_db  # noqa: F401
