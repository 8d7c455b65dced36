"""OGC API – Features over the layer registry: parameters, queries, CQL2, output formats."""
