"""OGC SensorThings API 1.1: entity declarations, OData options, reads and observation writes."""
