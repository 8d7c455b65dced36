"""The live map's data: each monitored thing's state now or at a past time, and chart series."""
