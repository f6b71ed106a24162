"""Ids that are stable across rebuilds, for any kind of cluster of records (establishments,
organisations).

* **The same records give the same id.** A cluster's new id is derived from its smallest record
  key (``source|source_record_id``), so a rebuild from scratch of the same data gives the same ids.
* **Ids survive change.** With a previous index, each cluster takes the previous id held by most of
  its records (ties: the smallest id). When clusters merge, the surviving id is the one with most
  records; the others are recorded as merged into it. When a cluster splits, the part with most
  records keeps the id and the other parts take the previous ids they hold or new ones.
"""

from __future__ import annotations

import hashlib

import duckdb

from business_index.duckdb_utils import insert_rows


def new_id(prefix: str, record_key: str) -> str:
    return prefix + hashlib.sha1(record_key.encode("utf-8")).hexdigest()[:10].upper()


def assign_stable_ids(con: duckdb.DuckDBPyConnection, clusters: str, previous: list[tuple[str, str]],
                      prefix: str, into: str) -> None:
    """``into`` (cluster_id, stable_id) for every cluster of ``clusters`` (record_key, cluster_id),
    keeping the ids of ``previous`` (record_key, id) where the records say so."""
    con.execute("CREATE OR REPLACE TEMP TABLE previous_stable_ids (record_key VARCHAR, stable_id VARCHAR)")
    if previous:
        insert_rows(con, "previous_stable_ids", ["record_key", "stable_id"], previous)
    votes = con.execute(f"""
        SELECT c.cluster_id, p.stable_id, count(*) AS n
        FROM {clusters} c JOIN previous_stable_ids p USING (record_key)
        GROUP BY 1, 2 ORDER BY n DESC, p.stable_id, c.cluster_id
    """).fetchall()
    keep: dict[str, str] = {}
    taken: set[str] = set()
    for cluster_id, stable_id, _ in votes:  # greedy: most-shared first; an id goes to one cluster
        if cluster_id not in keep and stable_id not in taken:
            keep[cluster_id] = stable_id
            taken.add(stable_id)
    firsts = con.execute(f"SELECT cluster_id, min(record_key) FROM {clusters} GROUP BY 1 ORDER BY 1").fetchall()
    assignment: list[tuple[str, str]] = []
    for cluster_id, first_key in firsts:
        stable_id = keep.get(cluster_id)
        if stable_id is None:
            stable_id = new_id(prefix, first_key)
            while stable_id in taken:
                stable_id = new_id(prefix, stable_id + first_key)
            taken.add(stable_id)
        assignment.append((cluster_id, stable_id))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {into} (cluster_id VARCHAR, stable_id VARCHAR)")
    insert_rows(con, into, ["cluster_id", "stable_id"], assignment)


def id_changes_sql(kind: str, previous: str, current: str, column: str) -> str:
    """The merges and splits between ``previous`` (record_key, stable_id) and ``current``
    (record_key, ``column``): one row per (previous id, current id) that records moved between."""
    return f"""
        WITH moves AS (
            SELECT p.stable_id AS previous_id, c.{column} AS current_id, count(*) AS records
            FROM {previous} p JOIN {current} c USING (record_key)
            WHERE c.{column} IS NOT NULL AND p.stable_id <> c.{column} GROUP BY 1, 2)
        SELECT '{kind}' AS kind, previous_id, current_id, records,
               CASE WHEN previous_id IN (SELECT {column} FROM {current} WHERE {column} IS NOT NULL)
                    THEN 'split' ELSE 'merged' END AS change
        FROM moves"""
