"""The store: tables derived from the registry, the operations tables, the layer-changed channel, the run lifecycle.

It sits beneath `etl/`, `tiles/` and `gisapp/` and depends only on `layers/`.
"""
