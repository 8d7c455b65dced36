"""The OpenAPI 3.0 document of the whole HTTP API, generated from the app's routes."""
