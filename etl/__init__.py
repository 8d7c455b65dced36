"""Import pipeline: read, decode, reproject, validate, stage and swap source files into PostGIS."""
