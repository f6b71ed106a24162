"""Storage: the DuckDB index a build writes and publishes atomically, and what reads it back."""
