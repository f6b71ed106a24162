"""Joining a business's records across sources where the model alone cannot.

The probabilistic model compares names and places independently, so a rates record and a food
hygiene record of one business at one premises, named by its company in one file and by its
trading name in the other ("Shadforth Pharmaceutical Company Ltd" and "Shadforth Pharmacy",
"Marstons Plc" at "Red Lion, High Street" and the "Red Lion"), rarely score high enough. This
stage looks only at pairs of records of DIFFERENT sources that are at one premises
(``link/premises.py``) and whose names agree in a way that, at one premises, is strong evidence:

1. the same numbered premises, and the names are alike or share a distinctive word;
2. the same postcode with a number missing, and the names are alike (one a slip of the other, one
   containing the other, or a company whose address names the other's trading name);
3. the same postcode, both unnumbered, and the names share a distinctive word;
4. a company's address names the other record's trading name, within one postcode sector.

A pair is taken only when it is unambiguous: each of its records has candidates in just one
business. Tiers run in order and a record joined in one tier is not a candidate in the next, so a
weak rule never overrides a strong one. "Distinctive" words are those in few distinct names (a
chain's brand, written on many records, stays distinctive; "CAFE" does not) and not frequent in
addresses (place names such as "PITSEA" are not evidence of one business).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

from business_index.duckdb_utils import insert_rows
from business_index.link.business_model import BEST_NAME_SIMILARITY, NAME_CONTAINED
from business_index.link.premises import ONE_NAMES_THE_OTHER, SAME_NUMBERED_PREMISES, SAME_POSTCODE_UNNUMBERED


def _aliased(splink_sql: str) -> str:
    """Model SQL names the two records' columns ``x_l`` and ``x_r``; here they are ``l.x``, ``r.x``."""
    return re.sub(r"\b(\w+)_([lr])\b", r"\2.\1", splink_sql)


BEST_SIMILARITY = _aliased(BEST_NAME_SIMILARITY)
SHARE_DISTINCTIVE_WORD = "list_has_any(l.name_stems, r.name_stems)"
# "Marstons Plc" at "Red Lion, High Street" runs the "Red Lion": a company's address naming a
# trading name. "Aramark Limited" at "Argos Warehouse" does not run Argos Limited: a company named
# in another company's address is its host, not the same business.
ADDRESS_NAMES_TRADING_NAME = (
    "((len(r.distinctive_words) > 0 AND len(r.company_keys) = 0 AND list_has_all(l.address_tokens, r.distinctive_words)) OR "
    "(len(l.distinctive_words) > 0 AND len(l.company_keys) = 0 AND list_has_all(r.address_tokens, l.distinctive_words)))")
# "W H Smith" reads like a person's name, but at the premises of "W H Smith Ltd" it is that company
COMPANY_WRITTEN_AS_PERSON = ("(list_contains(l.company_keys, r.proprietor_key) OR "
                             "list_contains(r.company_keys, l.proprietor_key))")
NAMES_ALIKE = (f"(list_has_any(l.name_keys, r.name_keys) OR {BEST_SIMILARITY} >= 0.95 OR "
               f"{_aliased(NAME_CONTAINED)} OR {ADDRESS_NAMES_TRADING_NAME} OR {COMPANY_WRITTEN_AS_PERSON})")
NAMES_SIMILAR = f"({NAMES_ALIKE} OR {BEST_SIMILARITY} >= 0.88)"
# (what the tier says, where the two records are, how their names agree)
TIERS: list[tuple[str, str, str]] = [
    ("same numbered premises, names alike or sharing a distinctive word",
     SAME_NUMBERED_PREMISES, f"({NAMES_SIMILAR} OR {SHARE_DISTINCTIVE_WORD})"),
    ("same postcode, a number missing, names alike", SAME_POSTCODE_UNNUMBERED, NAMES_ALIKE),
    ("same postcode, both unnumbered, sharing a distinctive word",
     f"{SAME_POSTCODE_UNNUMBERED} AND l.number IS NULL AND r.number IS NULL", SHARE_DISTINCTIVE_WORD),
    ("a company's address names the other's trading name", ONE_NAMES_THE_OTHER, ADDRESS_NAMES_TRADING_NAME),
]


@dataclass
class CrossSourceReport:
    pairs_joined: dict[str, int]


class _Clusters:
    """Union-find over cluster ids."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, cluster: str) -> str:
        self.parent.setdefault(cluster, cluster)
        while self.parent[cluster] != cluster:
            self.parent[cluster] = self.parent[self.parent[cluster]]
            cluster = self.parent[cluster]
        return cluster

    def join(self, a: str, b: str) -> None:
        a, b = self.find(a), self.find(b)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def premises_candidates(con: duckdb.DuckDBPyConnection, left: str, right: str, into: str) -> None:
    """``into`` (l_id, r_id): the pairs of ``left`` x ``right`` records that could be at one
    premises, found by equi-joins (same UPRN, rates reference, postcode, or sector, street and
    building number, or a distinctive word of one's name in the other's address) rather than by
    comparing every pair in a sector."""
    # two records that both have a UPRN are at one premises exactly when the UPRNs agree, so the
    # address blocks only look at pairs where one of them has none
    unplaced = "(l.uprn IS NULL OR r.uprn IS NULL)"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {into} AS
        SELECT l.unique_id AS l_id, r.unique_id AS r_id FROM {left} l JOIN {right} r USING (uprn)
        UNION SELECT l.unique_id, r.unique_id FROM {left} l JOIN {right} r USING (source, property_ref)
        UNION SELECT l.unique_id, r.unique_id FROM {left} l JOIN {right} r USING (postcode) WHERE {unplaced}
        UNION SELECT l.unique_id, r.unique_id FROM {left} l JOIN {right} r USING (sector, street, number_base)
              WHERE {unplaced}
        UNION SELECT l.unique_id, r.unique_id
              FROM (SELECT unique_id, uprn, sector, unnest(address_tokens) AS word FROM {left}) l
              JOIN (SELECT unique_id, uprn, sector, unnest(distinctive_words) AS word FROM {right}) r USING (sector, word)
              WHERE {unplaced}
        UNION SELECT l.unique_id, r.unique_id
              FROM (SELECT unique_id, uprn, sector, unnest(distinctive_words) AS word FROM {left}) l
              JOIN (SELECT unique_id, uprn, sector, unnest(address_tokens) AS word FROM {right}) r USING (sector, word)
              WHERE {unplaced}
    """)


def join_across_sources(con: duckdb.DuckDBPyConnection) -> CrossSourceReport:
    """Merge clusters of ``record_clusters`` (every named record has one) joined by the tiers."""
    clusters = _Clusters()
    joined: set[int] = set()
    report: dict[str, int] = {}
    premises_candidates(con, "named_inputs", "named_inputs", "cross_source_candidates")
    for label, where, names in TIERS:
        # places first, into a table of its own (cheap columns), then names on the few pairs left:
        # one query doing both lets the planner evaluate the list comparisons on every candidate
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE placed_pairs AS
            SELECT l.unique_id AS l_id, r.unique_id AS r_id
            FROM cross_source_candidates p
            JOIN named_inputs l ON l.unique_id = p.l_id
            JOIN named_inputs r ON r.unique_id = p.r_id
            WHERE l.unique_id < r.unique_id AND l.source <> r.source AND {where}""")
        pairs = [(a, b, str(ca), str(cb)) for a, b, ca, cb in con.execute(f"""
            SELECT l.unique_id, r.unique_id, cl.cluster_id, cr.cluster_id
            FROM placed_pairs p
            JOIN named_inputs l ON l.unique_id = p.l_id
            JOIN named_inputs r ON r.unique_id = p.r_id
            JOIN record_clusters cl ON cl.record_id = l.unique_id
            JOIN record_clusters cr ON cr.record_id = r.unique_id
            WHERE cl.cluster_id <> cr.cluster_id AND {names}""").fetchall()
            if a not in joined and b not in joined]
        # unambiguous only: each record's candidates belong to one business
        candidates: dict[int, set[str]] = {}
        for a, b, ca, cb in pairs:
            candidates.setdefault(a, set()).add(clusters.find(cb))
            candidates.setdefault(b, set()).add(clusters.find(ca))
        taken = 0
        for a, b, ca, cb in pairs:
            if len(candidates[a]) == 1 and len(candidates[b]) == 1:
                clusters.join(ca, cb)
                joined.update((a, b))
                taken += 1
        report[label] = taken
    merges = [(cluster, clusters.find(cluster)) for cluster in clusters.parent if clusters.find(cluster) != cluster]
    if merges:
        con.execute("CREATE OR REPLACE TEMP TABLE cluster_merges (cluster_id VARCHAR, into_cluster VARCHAR)")
        insert_rows(con, "cluster_merges", ["cluster_id", "into_cluster"], merges)
        con.execute("""
            UPDATE record_clusters SET cluster_id = m.into_cluster
            FROM cluster_merges m WHERE record_clusters.cluster_id = m.cluster_id""")
    return CrossSourceReport(pairs_joined=report)
