"""The demo city: a believable, deterministic slice of central Da Nang as source files."""

GENERATOR_VERSION = "7"
