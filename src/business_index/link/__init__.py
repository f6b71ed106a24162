"""Linking: business records to properties (UPRNs) and to businesses.

Stages, each writing tables into the build's DuckDB database:
``features`` (comparable forms of every record and address) -> ``properties`` (cross references and
UPRN columns first, then probabilistic address matching) -> ``businesses`` (probabilistic
resolution into businesses with ids that are stable across rebuilds).
"""
