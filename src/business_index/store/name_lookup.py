"""Typo-tolerant name search through the name index (``derive/name_index``).

A search takes the trigrams of the typed key that the index holds, leaves out those so common that
they would bring back a large share of all keys (the rarest few are always kept), and asks for the
keys sharing enough of them: a few hundred keys, not every key. Those candidates are then scored
with Jaro-Winkler (rapidfuzz), as the full scan used to score every key, and an establishment or
organisation scores the best of its keys.

Requiring a share of the trigrams also keeps out names that only begin alike, which Jaro-Winkler
alone scores high ("FRESH TREE ARCHITECTS" and "FRESH KETTLE BARBERS": 0.89).

The SQL is plain enough for DuckDB and PostgreSQL alike (``?`` parameters; the PostgreSQL cursor
turns them into its own), so both back-ends answer from the same queries. A reader may instead hold
a build's index in memory (``NameIndex``, as it holds postcode lookups); it chooses candidates by
the same rules, and a test holds the two to the same answers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler

from business_index.derive.name_index import GRAM_LENGTH, grams_of

SearchUnit = Literal["establishment_id", "organisation_id"]

# a trigram held by more keys than this is too common to narrow a search (" TH", "ING") ...
MOST_KEYS_PER_GRAM = 5_000
# ... but the rarest few of the typed key's trigrams are used whatever their counts
RAREST_GRAMS_ALWAYS_USED = 4
# a candidate shares at least this share of the trigrams used
LEAST_SHARED = 0.3
# and at most this many keys, those sharing the most first, are scored
MOST_CANDIDATES = 3_000
SCORE_DECIMALS = 4


STREAM_ROWS = 50_000  # rows read at a time when a whole table is loaded into memory


class Cursor(Protocol):
    def execute(self, sql: str, parameters: Any = ...) -> Any: ...


def streamed_rows(con: Cursor, sql: str) -> Iterator[tuple[Any, ...]]:
    """Every row of ``sql``, read ``STREAM_ROWS`` at a time: a table loaded into memory is never
    also held whole as a result. PostgreSQL's cursor reads through a server-side cursor."""
    if hasattr(con, "stream"):
        yield from con.stream(sql, STREAM_ROWS)
        return
    result = con.execute(sql)
    while chunk := result.fetchmany(STREAM_ROWS):
        yield from chunk


@dataclass(frozen=True)
class NameIndex:
    """A build's name index held in memory: each trigram's keys (as positions in ``keys``) and each
    key's establishments and organisations, with whether the key is a personal name."""
    keys: list[str]
    postings: dict[str, list[int]]
    units: dict[str, list[tuple[str | None, str | None, bool]]]

    @classmethod
    def load(cls, con: Cursor) -> NameIndex:
        keys: list[str] = []
        position: dict[str, int] = {}
        postings: dict[str, list[int]] = {}
        for gram, key in streamed_rows(con, "SELECT gram, key FROM name_grams"):
            if key not in position:
                position[key] = len(keys)
                keys.append(key)
            postings.setdefault(gram, []).append(position[key])
        units: dict[str, list[tuple[str | None, str | None, bool]]] = {}
        for establishment_id, organisation_id, key, personal in streamed_rows(
                con, "SELECT establishment_id, organisation_id, key, personal FROM name_search"):
            # an unknown flag counts as personal, as the SQL path ("NOT s.personal") leaves it out
            units.setdefault(key, []).append((establishment_id, organisation_id, personal is not False))
        return cls(keys, postings, units)

    def candidate_keys(self, key: str) -> list[str]:
        """The keys ``_candidate_keys`` would ask the index for, in the same order."""
        held = sorted((len(self.postings[g]), g) for g in gram_set(key) if g in self.postings)
        chosen = [g for rarity, (n, g) in enumerate(held, start=1) if n <= MOST_KEYS_PER_GRAM
                  or rarity <= RAREST_GRAMS_ALWAYS_USED]
        shared = Counter[int]()
        for gram in chosen:
            shared.update(self.postings[gram])
        least = LEAST_SHARED * len(chosen)
        found = sorted(((-n, self.keys[i]) for i, n in shared.items() if n >= least))
        return [k for _, k in found[:MOST_CANDIDATES]]


def gram_set(key: str) -> set[str]:
    """The trigrams of a key, as ``derive.name_index.grams_of`` makes them in SQL."""
    padded = "  " + key + " "
    return {padded[i:i + GRAM_LENGTH] for i in range(len(padded) - GRAM_LENGTH + 1)}


def _candidate_keys(con: Cursor, key: str) -> list[str]:
    return [str(k) for (k,) in con.execute(f"""
        WITH chosen AS (
            SELECT ranked.gram FROM (
                SELECT f.gram, f.keys, row_number() OVER (ORDER BY f.keys, f.gram) AS rarity
                FROM name_gram_frequency f JOIN {grams_of("?")} AS typed ON typed.gram = f.gram) AS ranked
            WHERE ranked.keys <= ? OR ranked.rarity <= ?),
        hits AS (
            SELECT n.key, count(*) AS shared FROM name_grams n JOIN chosen ON chosen.gram = n.gram GROUP BY n.key)
        SELECT key FROM hits WHERE shared >= ? * (SELECT count(*) FROM chosen)
        ORDER BY shared DESC, key LIMIT ?""",
        [key, MOST_KEYS_PER_GRAM, RAREST_GRAMS_ALWAYS_USED, LEAST_SHARED, MOST_CANDIDATES]).fetchall()]


def name_matches(con: Cursor, unit: SearchUnit, key: str, postcode: str | None, personal: bool,
                 min_similarity: float, held: NameIndex | None = None) -> dict[str, float]:
    """The establishments or organisations (``unit``) a name key could mean, with their scores: the
    best Jaro-Winkler similarity between ``key`` and any name key their records carry (names of
    individuals only with ``personal``), at least ``min_similarity``; only those with a record at
    ``postcode`` when one is given. ``held``: the build's index in memory, else ask the database."""
    candidates = held.candidate_keys(key) if held is not None else _candidate_keys(con, key)
    scored = {str(k): score for k, score, _ in process.extract(
        key, candidates, scorer=JaroWinkler.normalized_similarity, score_cutoff=min_similarity, limit=None)}
    if not scored:
        return {}
    if held is not None:
        position = 0 if unit == "establishment_id" else 1
        found_units = [(u[position], k) for k in scored for u in held.units.get(k, [])
                       if u[position] is not None and (personal or not u[2])]
    else:
        personal_filter = "" if personal else "AND NOT s.personal"
        found_units = con.execute(f"""
            SELECT s.{unit}, s.key FROM name_search s
            WHERE s.{unit} IS NOT NULL {personal_filter} AND s.key IN (SELECT unnest(?::VARCHAR[]))""",
            [list(scored)]).fetchall()
    best: dict[str, float] = {}
    for unit_id, found in found_units:
        best[str(unit_id)] = max(best.get(str(unit_id), 0.0), round(scored[str(found)], SCORE_DECIMALS))
    if postcode is not None and best:
        at_postcode = {str(u) for (u,) in con.execute(f"""
            SELECT DISTINCT c.{unit} FROM record_establishments c
            JOIN business_records b ON b.record_id = c.record_id
            LEFT JOIN record_links l ON l.record_id = c.record_id
            LEFT JOIN addresses a ON a.uprn = l.uprn
            WHERE c.{unit} IN (SELECT unnest(?::VARCHAR[]))
              AND replace(coalesce(a.postcode, b.postcode), ' ', '') = replace(?, ' ', '')""",
            [list(best), postcode]).fetchall()}
        best = {u: s for u, s in best.items() if u in at_postcode}
    return best


def matched_rows(con: Cursor, unit: SearchUnit, matches: dict[str, float], columns: str, order: str,
                 limit: int, offset: int) -> list[tuple[Any, ...]]:
    """One page of ``matches`` (from ``name_matches``): ``columns`` of the establishments or
    organisations table and ``score``, in ``order``."""
    if not matches:
        return []
    table = "establishments" if unit == "establishment_id" else "organisations"
    return list(con.execute(f"""
        SELECT {columns} FROM (
            SELECT u.*, m.score FROM {table} u
            JOIN (SELECT unnest(?::VARCHAR[]) AS id, unnest(?::FLOAT8[]) AS score) AS m ON m.id = u.{unit}) AS found
        ORDER BY {order} LIMIT ? OFFSET ?""", [list(matches), list(matches.values()), limit, offset]).fetchall())
