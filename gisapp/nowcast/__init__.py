"""Flood now-cast: streets and parcels at risk now and in the next hours (a decision aid).

The method is the rational method per catchment against pipe full-flow capacity, plus low
points from the elevation raster and the flood-zone layer; README "Flood now-cast" says it.
"""
