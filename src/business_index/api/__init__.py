"""The REST API (FastAPI) over a published index: addresses, properties, establishments,
organisations, screening, name submissions and their review."""
