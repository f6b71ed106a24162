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
4. a company's address names the other record's trading name, within one postcode sector;
5. the same postcode sector, both unnumbered, and the names alike (postcodes of a school, a hall or
   a retail park often differ by a unit between two systems);
6. the same postcode sector, two or more of the same uncommon words naming the site, and the names
   alike;
7. the same postcode sector, most words of the addresses the same, and the same name.

Where a record has candidates in several establishments, the one whose address shares clearly more
words with its own (two or more) is taken as its only candidate: the "Department for Work and
Pensions" at Great Oaks House, not the department's other offices in the sector.

A pair is taken only when it is unambiguous: each of its records has candidates in just one
establishment. Tiers run in order and a record joined in one tier is not a candidate in the next, so a
weak rule never overrides a strong one. "Distinctive" words are those in few distinct names (a
chain's brand, written on many records, stays distinctive; "CAFE" does not) and not frequent in
addresses (place names such as "PITSEA" are not evidence of one business).
"""

from __future__ import annotations

import re

import duckdb

from business_index.link.business_model import (
    SIMILAR_NAMES,
    SLIP_SIMILARITY,
    best_name_similarity,
    joined_columns,
    name_contained,
)
from business_index.link.premises import (
    ONE_NAMES_THE_OTHER,
    SAME_NUMBERED_PREMISES,
    SAME_POSTCODE_UNNUMBERED,
    SAME_SECTOR_ADDRESS_ALIKE,
    SAME_SECTOR_SITE,
    SAME_SECTOR_UNNUMBERED,
    address_holds_name,
)
from business_index.link.union_find import UnionFind

BEST_SIMILARITY = best_name_similarity(joined_columns)
# a distinctive word in both names, also when one writes it as two ("TREE HOUSE" / "TREEHOUSE")
SHARE_DISTINCTIVE_WORD = ("(list_has_any(l.name_stems, r.name_stems) OR list_has_any(l.name_bigrams, r.name_stems) "
                          "OR list_has_any(r.name_bigrams, l.name_stems))")
# "Marstons Plc" at "Red Lion, High Street" runs the "Red Lion": a company's address naming a
# trading name. "Aramark Limited" at "Argos Warehouse" does not run Argos Limited: a company named
# in another company's address is its host, not the same business.
# The whole trading name in the address counts too, however its words are spaced ("The Owl & Pussy
# Cat, Clay Hill Road" names the "Owl & Pussycat").
ADDRESS_NAMES_TRADING_NAME = (
    "((len(r.distinctive_words) > 0 AND len(r.company_keys) = 0 AND list_has_all(l.address_tokens, r.distinctive_words)) OR "
    "(len(l.distinctive_words) > 0 AND len(l.company_keys) = 0 AND list_has_all(r.address_tokens, l.distinctive_words)) OR "
    f"(len(r.company_keys) = 0 AND {address_holds_name('l', 'r')}) OR "
    f"(len(l.company_keys) = 0 AND {address_holds_name('r', 'l')}))")
# "W H Smith" reads like a person's name, but at the premises of "W H Smith Ltd" it is that company
COMPANY_WRITTEN_AS_PERSON = ("(list_contains(l.company_keys, r.proprietor_key) OR "
                             "list_contains(r.company_keys, l.proprietor_key))")
# "DWP" in one name stands for the other's "Department for Work and Pensions"
INITIALS = ("((length(r.initials) >= 3 AND list_contains(l.name_tokens, r.initials)) OR "
            "(length(l.initials) >= 3 AND list_contains(r.name_tokens, l.initials)))")
NAMES_ALIKE = (f"(list_has_any(l.name_keys, r.name_keys) OR {BEST_SIMILARITY} >= {SLIP_SIMILARITY} OR "
               f"{name_contained(joined_columns)} OR {ADDRESS_NAMES_TRADING_NAME} OR {COMPANY_WRITTEN_AS_PERSON} OR "
               f"{INITIALS})")
NAMES_SIMILAR = f"({NAMES_ALIKE} OR {BEST_SIMILARITY} >= {SIMILAR_NAMES})"
# (what the tier says, where the two records are, how their names agree)
TIERS: list[tuple[str, str, str]] = [
    ("same numbered premises, names alike or sharing a distinctive word",
     SAME_NUMBERED_PREMISES, f"({NAMES_SIMILAR} OR {SHARE_DISTINCTIVE_WORD})"),
    ("same postcode, a number missing, names alike", SAME_POSTCODE_UNNUMBERED, NAMES_ALIKE),
    ("same postcode, both unnumbered, sharing a distinctive word",
     f"{SAME_POSTCODE_UNNUMBERED} AND l.number IS NULL AND r.number IS NULL", SHARE_DISTINCTIVE_WORD),
    ("a company's address names the other's trading name", ONE_NAMES_THE_OTHER, ADDRESS_NAMES_TRADING_NAME),
    ("same postcode sector, both unnumbered, names alike",
     SAME_SECTOR_UNNUMBERED, f"({NAMES_ALIKE} OR ({NAMES_SIMILAR} AND {SHARE_DISTINCTIVE_WORD}))"),
    ("same postcode sector, the same named site, names alike", SAME_SECTOR_SITE, NAMES_ALIKE),
    ("same postcode sector, addresses alike, the same name", SAME_SECTOR_ADDRESS_ALIKE,
     "list_has_any(l.name_keys, r.name_keys)"),
]


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
        UNION SELECT l.unique_id, r.unique_id FROM {left} l JOIN {right} r USING (sector, street_head, number)
              WHERE {unplaced}
        UNION SELECT l.unique_id, r.unique_id
              FROM (SELECT unique_id, uprn, sector, unnest(address_tokens) AS word FROM {left}) l
              JOIN (SELECT unique_id, uprn, sector, unnest(distinctive_words) AS word FROM {right}) r USING (sector, word)
              WHERE {unplaced}
        UNION SELECT l.unique_id, r.unique_id
              FROM (SELECT unique_id, uprn, sector, unnest(distinctive_words) AS word FROM {left}) l
              JOIN (SELECT unique_id, uprn, sector, unnest(address_tokens) AS word FROM {right}) r USING (sector, word)
              WHERE {unplaced}
        -- unnumbered places in one sector (schools, halls, retail parks) sharing a word of their names
        UNION SELECT l.unique_id, r.unique_id
              FROM (SELECT unique_id, uprn, sector, unnest(name_tokens) AS word FROM {left} WHERE number IS NULL) l
              JOIN (SELECT unique_id, uprn, sector, unnest(name_tokens) AS word FROM {right} WHERE number IS NULL) r
                   USING (sector, word)
              WHERE {unplaced} AND len(word) > 2
        UNION SELECT l.unique_id, r.unique_id FROM {left} l JOIN {right} r USING (sector, primary_name)
              WHERE {unplaced}
        UNION SELECT l.unique_id, r.unique_id
              FROM (SELECT unique_id, uprn, sector, initials AS word FROM {left} WHERE length(initials) >= 3) l
              JOIN (SELECT unique_id, uprn, sector, unnest(name_tokens) AS word FROM {right}) r USING (sector, word)
              WHERE {unplaced}
        UNION SELECT l.unique_id, r.unique_id
              FROM (SELECT unique_id, uprn, sector, unnest(name_tokens) AS word FROM {left}) l
              JOIN (SELECT unique_id, uprn, sector, initials AS word FROM {right} WHERE length(initials) >= 3) r
                   USING (sector, word)
              WHERE {unplaced}
    """)


CLEARLY_NEARER = 2  # shared address words by which one candidate must beat every other


def unambiguous_pairs(scored: list[tuple[int, int, int]], establishments: UnionFind[int]) -> list[tuple[int, int]]:
    """The pairs (a, b, words their addresses share) in which each record's candidates belong to one
    establishment, once each record keeps only its clearly nearest candidates (by shared address
    words) when several establishments compete for it."""
    best: dict[int, dict[int, int]] = {}  # record -> candidate establishment -> most words shared
    for a, b, shared in scored:
        for one, other in ((a, b), (b, a)):
            root = establishments.find(other)
            best.setdefault(one, {})[root] = max(best.get(one, {}).get(root, 0), shared)

    def only_candidate(record: int) -> int | None:
        ranked = sorted(best[record].items(), key=lambda kv: -kv[1])
        if len(ranked) == 1 or ranked[0][1] >= ranked[1][1] + CLEARLY_NEARER:
            return ranked[0][0]
        return None

    return [(a, b) for a, b, _ in scored
            if only_candidate(a) == establishments.find(b) and only_candidate(b) == establishments.find(a)]


def _columns_read(*sql: str) -> list[str]:
    """The columns of ``l`` and ``r`` that some SQL conditions read, with the ids and address words
    every pass reads."""
    named = {"unique_id", "address_tokens"}
    for text in sql:
        named.update(re.findall(r"\b[lr]\.(\w+)", text))
    return sorted(named)


# both periods known and apart
PERIODS_MEET = ("(l.active_from IS NULL OR r.active_from IS NULL "
                "OR (l.active_from <= r.active_to AND r.active_from <= l.active_to))")


def join_across_sources(con: duckdb.DuckDBPyConnection, establishments: UnionFind[int],
                        candidates_table: str, names_differ: str) -> dict[str, int]:
    """Join the records of ``named_inputs`` that the tiers say are one business at one premises
    into one establishment; returns the pairs joined per tier. Names that ``names_differ`` (SQL)
    join only records whose periods meet: "Shacklewell Tyres" is not the "Shacklewell Brewery"
    that closed before it opened, though the two names look alike."""
    joined: set[int] = set()
    report: dict[str, int] = {}
    # each candidate pair with both records' rows, as two structs ``l`` and ``r`` that the tiers'
    # SQL reads as it would two joined rows, and whether each tier places them: joined once here, on
    # the candidates' ids, so that no tier's condition (``l.sector = r.sector``) can be planned as a
    # join of every record in a sector
    places = ",\n".join(f"coalesce({where}, false) AS tier_{i}" for i, (_, where, _) in enumerate(TIERS))
    # only the columns the tiers read, so that each tier's pass over the candidates reads little
    read = _columns_read(names_differ, PERIODS_MEET, *(sql for _, where, names in TIERS for sql in (where, names)))
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE candidate_rows AS
        SELECT {{{", ".join(f"'{c}': l.{c}" for c in read)}}} AS l,
               {{{", ".join(f"'{c}': r.{c}" for c in read)}}} AS r, {places}
        FROM {candidates_table} p
        JOIN named_inputs l ON l.unique_id = p.l_id
        JOIN named_inputs r ON r.unique_id = p.r_id
        WHERE l.unique_id < r.unique_id AND l.source <> r.source
          -- a mast or cash machine "at" a factory is its operator's, never the factory's
          AND coalesce(l.premises_use, '') <> 'ancillary' AND coalesce(r.premises_use, '') <> 'ancillary'""")
    for i, (label, _, names) in enumerate(TIERS):
        # names only for the pairs the tier places: CASE evaluates its THEN on those rows alone,
        # where an AND may be reordered to compare the lists of every candidate
        scored = [(a, b, shared) for a, b, shared in con.execute(f"""
            SELECT l.unique_id, r.unique_id,
                   len(list_intersect(list_distinct(l.address_tokens), list_distinct(r.address_tokens)))
            FROM candidate_rows
            WHERE CASE WHEN tier_{i} THEN coalesce({names} AND NOT ({names_differ} AND NOT {PERIODS_MEET}), false)
                       ELSE false END""").fetchall()
            if a not in joined and b not in joined]
        # a pair already in one establishment still counts as a candidate: a record joined to its
        # own business is not joined to a second one that its name happens to resemble
        taken = 0
        for a, b in unambiguous_pairs(scored, establishments):
            if establishments.join(a, b):
                joined.update((a, b))
                taken += 1
        report[label] = taken
    return report
