"""Readers: one per format a council really holds, each turning its files into canonical records.

Formats live here and nowhere else. ``read_source`` dispatches on the ``format`` named in
``sources.toml``; every reader accounts for every row it reads: loaded, or quarantined with the
file, line, field and reason.
"""
