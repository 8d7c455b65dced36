# PostGIS with pg_partman: sensor observations are partitioned by week and pg_partman
# manages the partitions (migration 0012), as Debian's postgresql-15-partman does for make run.
FROM postgis/postgis:15-3.3
# The image's PostgreSQL apt repository keeps only the current pg_partman (4.x or 5.x; the
# migration handles both), so a version pin would break the build when it moves.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-15-partman \
    && rm -rf /var/lib/apt/lists/*
