"""Vector and raster tiles: tile math, MVT SQL, TileJSON, styles, cache, seeding, export."""
