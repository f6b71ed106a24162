"""The REST API (FastAPI) over a published index: addresses, properties, businesses."""
