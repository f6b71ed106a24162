"""Linking: business records to properties (UPRNs), and to establishments and organisations.

Stages, each writing tables into the build's DuckDB database:
``features`` (comparable forms of every record and address) -> ``properties`` (cross references and
UPRN columns first, then probabilistic address matching) -> ``businesses`` (the names model, then
``establishments`` by place and time and ``organisations`` by operator, with ids that are stable
across rebuilds).
"""
