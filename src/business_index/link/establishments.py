"""Records -> establishments: one business trading at one premises over one period (the *local
unit* of the ONS business register).

Council files name two different things: who is liable for a premises (rates name an operating
company, a pub company, an academy trust, the council) and what trades there (food hygiene,
licensing and the gazetteer give the trading name). An establishment holds both: "Acme Taverns
Ltd" in rates and "The Red Lion" in food hygiene at 1 High Street, over the same years, are one
establishment. So records join an establishment by **place and time**, with names as evidence for
or against rather than as the gate. In order, each rule only ever joining what is unambiguous:

1. **One name at one premises**: records the business model puts under one name (``name_clusters``)
   at the same premises (``link/premises.py``). A chain's forty shops are forty establishments.
2. **A name with no place**: a named record with no UPRN, postcode or rates reference joins its
   name's establishment when that name is at just one premises (a market pitch or an advertising
   right is a place of its own, not a missing one).
3. **Names that agree across sources at one premises** (``link/cross_source.py``): a company and
   its trading name, a pub named in its pub company's address.
4. **Place and time alone**: a rates record and a trading record (food hygiene, licensing) at the
   same numbered premises or the same named site, whose periods overlap, when each is the other's
   only candidate at that time and the business fits the premises' rated use (a pre-school does
   not trade from a firm's offices; ``clean/words/premises_uses.toml``). A withheld ratepayer at the
   premises of one food business is that business; a ratepayer whose liability began after the
   food business was last seen is its successor, not the same establishment.
5. **Nameless records** (withheld ratepayers, VOA entries with no firm name) not joined yet: the one
   establishment active at their premises in their period (the very same number: with no name to
   go on, 12C is not 12), or one their address names.

Every record ends in exactly one establishment (a withheld ratepayer no rule placed is an
establishment of its own, whose name is unknown). Part premises, units of one building and
floors are different premises unless a rule above says otherwise; a separately rated ATM, mast,
advertising right or car park is never joined by place alone.
"""

from __future__ import annotations

import duckdb

from business_index.clean.premises_uses import fitting_pairs
from business_index.duckdb_utils import insert_rows
from business_index.link.cross_source import (
    CLEARLY_NEARER,
    join_across_sources,
    premises_candidates,
    unambiguous_pairs,
)
from business_index.link.premises import (
    DIFFERENT_UPRNS,
    SAME_NUMBERED_PREMISES,
    SAME_POSTCODE_UNNUMBERED,
    SAME_SITE,
    same_numbered_premises,
)
from business_index.link.union_find import UnionFind

STILL_LIABLE = "DATE '2999-12-31'"  # business_inputs.active_to of a liability with no end

# two records under one name are at one premises: the same place by any notion of
# ``link/premises.py``, or (one of them without a postcode) the same building number on one street
ONE_NAME_ONE_PREMISES = f"""(
    {SAME_NUMBERED_PREMISES} OR {SAME_POSTCODE_UNNUMBERED}
    OR (l.premises_key = r.premises_key)
    OR ((l.postcode IS NULL OR r.postcode IS NULL) AND l.uprn IS NULL AND r.uprn IS NULL
        AND l.street = r.street AND l.number_base = r.number_base))"""



def _words_unexplained(one: str, other: str) -> str:
    """The words of ``one``'s name that ``other``'s name does not explain: not in it, no slip of a
    word in it, not half of two of its words written as one ("TREE" of "TREEHOUSE")."""
    return f"""list_filter({one}.name_tokens, lambda a: a NOT IN ('THE', 'AND', 'OF', 'AT')
        AND NOT list_contains({other}.name_bigrams, a)
        AND len(list_filter({other}.name_tokens, lambda b: jaro_winkler_similarity(a, b) >= 0.9
                                                          OR (contains(b, a) AND list_contains({one}.name_bigrams, b)))) = 0)"""


# two names each with a word the other does not explain, and no company or proprietor in common:
# "Homerton Florist" and the "Homerton Opticians" after it, "Market & Canal" and "Market & Ladle",
# are two businesses at one premises, whatever model score joined their names
NAMES_DIFFER = f"""(len({_words_unexplained('l', 'r')}) > 0 AND len({_words_unexplained('r', 'l')}) > 0
    AND NOT list_has_any(l.company_keys, r.company_keys) AND NOT coalesce(l.proprietor_key = r.proprietor_key, false))"""

# the records' periods overlap; a food business with no rating date was trading on its extract date
PERIODS_OVERLAP = ("(l.active_from <= r.active_to AND coalesce(r.active_from, r.active_to) <= l.active_to)")

# names as evidence against: a rates address that names a business at the premises ("Flatbridge
# Cafe, 7 Hurricane Close") is not the premises of a business whose name shares none of its words
NAMED_PREMISES_DISAGREE = """(l.source_kind = 'rates' AND len(l.premises_business_words) > 0
    AND NOT list_has_any(l.premises_business_words, list_concat(r.name_tokens, r.name_bigrams, l.name_tokens)))"""

# two different registered companies are two legal entities: a contract caterer ("Aramark Limited")
# in another company's warehouse is not that company's establishment
TWO_COMPANIES = ("(len(l.company_keys) > 0 AND len(r.company_keys) > 0 "
                 "AND NOT list_has_any(l.company_keys, r.company_keys))")

# a cash machine, mast or advertising right is its operator's, never joined to its host by place
EITHER_ANCILLARY = "(l.premises_use = 'ancillary' OR r.premises_use = 'ancillary')"

# a licence issued well before the liability began was the previous occupier's (a licence runs on
# for its term after its holder leaves); a hygiene rating date says nothing of when trading began
LICENCE_NOT_OLDER = ("(r.started_on IS NULL OR l.started_on IS NULL "
                     "OR r.started_on >= l.started_on - INTERVAL 90 DAY)")

# a rates hereditament (l) can hold a trading business (r) of this use
USE_FITS = """(l.source_kind <> 'rates' OR r.source_kind <> 'licensing'
    OR l.premises_use IS NULL OR r.premises_use IS NULL
    OR EXISTS (SELECT 1 FROM use_fits u WHERE u.trading_use = r.premises_use AND u.rated_use = l.premises_use))"""

# a nameless record whose address holds every distinctive word (two or more) of a business's name,
# nearby, unless the address says the unit is AT a place ("Hand Car Wash At David Lloyd" names its
# host, not itself)
ADDRESS_NAMES_BUSINESS = ("(l.sector = r.sector AND len(r.distinctive_words) > 1 "
                          "AND list_has_all(l.address_tokens, r.distinctive_words) "
                          "AND NOT list_contains(l.address_tokens, 'AT'))")


# a nameless record at a place named by its first line ("The Crown, High Street") and a business
# whose name holds every word of it, one of them distinctive ("The Crown Pub and Dining"), nearby
FIRST_LINE_NAMES_BUSINESS = ("(l.sector = r.sector AND l.number IS NULL AND len(l.first_line_words) > 0 "
                             "AND list_has_all(r.name_tokens, l.first_line_words) "
                             "AND list_has_any(l.first_line_words, r.distinctive_words))")


def build_establishments(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Write ``establishment_clusters`` (record_id, record_key, cluster_id) for every record of
    ``business_inputs``, from ``name_clusters`` (record_id, cluster_id) of the named ones; returns
    how many pairs each rule joined."""
    record_ids = [r[0] for r in con.execute("SELECT unique_id FROM business_inputs ORDER BY 1").fetchall()]
    establishments: UnionFind[int] = UnionFind(record_ids)
    report: dict[str, int] = {}
    report["one name at one premises"] = _join_all(establishments, con.execute(f"""
        WITH clustered AS MATERIALIZED (
            SELECT c.cluster_id, i.unique_id, i.uprn, i.source, i.property_ref, i.sector, i.number_base,
                   i.postcode, i.premises_key, i.street
            FROM name_clusters c JOIN named_inputs i ON i.unique_id = c.record_id),
        candidates AS ({_one_name_candidates("clustered")})
        SELECT l.unique_id, r.unique_id
        FROM candidates p
        JOIN named_inputs l ON l.unique_id = p.l_id
        JOIN named_inputs r ON r.unique_id = p.r_id
        WHERE {ONE_NAME_ONE_PREMISES} AND NOT {NAMES_DIFFER}
        ORDER BY 1, 2""").fetchall())
    report["the rating list entry and the current liability"] = _join_list_entries(con, establishments)
    report["a name with no place, at its only premises"] = _join_placeless(con, establishments)
    premises_candidates(con, "named_inputs", "named_inputs", "cross_source_candidates")
    report.update(join_across_sources(con, establishments, "cross_source_candidates", NAMES_DIFFER))
    con.execute("CREATE OR REPLACE TEMP TABLE use_fits (trading_use VARCHAR, rated_use VARCHAR)")
    insert_rows(con, "use_fits", ["trading_use", "rated_use"], fitting_pairs())
    report["place and time, the only candidates"] = _join_by_place_and_time(con, establishments)
    report["nameless, at one establishment's premises"] = _attach_nameless(con, establishments)
    con.execute("CREATE OR REPLACE TEMP TABLE establishment_roots (record_id BIGINT, cluster_id VARCHAR)")
    insert_rows(con, "establishment_roots", ["record_id", "cluster_id"],
                [(r, f"e{establishments.find(r)}") for r in record_ids])
    con.execute("""
        CREATE OR REPLACE TEMP TABLE establishment_clusters AS
        SELECT e.record_id, i.record_key, e.cluster_id
        FROM establishment_roots e JOIN business_inputs i ON i.unique_id = e.record_id""")
    return report


# every way ``ONE_NAME_ONE_PREMISES`` can hold needs the two records to agree on one of these: the
# same UPRN, rates reference, building number in one sector (one postcode is one sector), postcode,
# premises key, or street and building number
_ONE_PREMISES_KEYS = ("uprn", "source, property_ref", "sector, number_base", "postcode", "premises_key",
                      "street, number_base")


def _one_name_candidates(clustered: str) -> str:
    """SQL for the pairs (l_id < r_id) of ``clustered`` (a name's cluster_id and the records' places)
    that could be at one premises: an
    equi-join on the name and each of ``_ONE_PREMISES_KEYS``, so that a chain's records across the
    country are paired only with those at a place they could share, not each with every other."""
    return "\n        UNION ".join(
        f"SELECT l.unique_id AS l_id, r.unique_id AS r_id FROM {clustered} l JOIN {clustered} r "
        f"USING (cluster_id, {key}) WHERE l.unique_id < r.unique_id" for key in _ONE_PREMISES_KEYS)


def _join_all(establishments: UnionFind[int], pairs: list[tuple[int, int]]) -> int:
    return sum(establishments.join(a, b) for a, b in pairs)


def _join_list_entries(con: duckdb.DuckDBPyConnection, establishments: UnionFind[int]) -> int:
    """A VOA list entry names whoever occupies the hereditament now: it is the establishment of the
    hereditament's one open liability in the council's rates."""
    # the same UPRN or the same rates reference: two equi-joins, not one join on an OR (which is
    # planned as a comparison of every liability with every list entry)
    pairs = [f"""
        SELECT l.unique_id AS l_id, r.unique_id AS r_id
        FROM business_inputs l JOIN business_inputs r ON {on}
        WHERE l.record_type = 'ndr_account' AND r.record_type = 'voa_list_entry'
          AND l.active_to >= {STILL_LIABLE} AND NOT {DIFFERENT_UPRNS}"""
             for on in ("l.uprn = r.uprn", "ltrim(l.property_ref, '0') = ltrim(r.property_ref, '0')")]
    scored = con.execute(f"SELECT l_id, r_id, 0 FROM ({pairs[0]} UNION {pairs[1]}) ORDER BY l_id, r_id").fetchall()
    return _join_all(establishments, unambiguous_pairs(scored, establishments))


def _join_placeless(con: duckdb.DuckDBPyConnection, establishments: UnionFind[int]) -> int:
    rows = con.execute("""
        SELECT c.cluster_id, i.unique_id,
               i.uprn IS NULL AND i.postcode IS NULL AND i.property_ref IS NULL AND NOT i.not_a_property AS placeless
        FROM name_clusters c JOIN named_inputs i ON i.unique_id = c.record_id""").fetchall()
    placed: dict[str, set[int]] = {}
    placeless: dict[str, list[int]] = {}
    for cluster, record, no_place in rows:
        (placeless.setdefault(cluster, []).append(record) if no_place
         else placed.setdefault(cluster, set()).add(establishments.find(record)))
    joined = 0
    for cluster, records in placeless.items():
        roots = placed.get(cluster, set())
        if len(roots) == 1:
            root = next(iter(roots))
            joined += _join_all(establishments, [(root, record) for record in records])
    return joined


def _join_by_place_and_time(con: duckdb.DuckDBPyConnection, establishments: UnionFind[int]) -> int:
    premises_candidates(con, "business_inputs", "business_inputs", "place_time_candidates")
    # nearest first: the same flat or floor (or none on either) and more words of the address in
    # common; a ground-floor takeaway is not the first-floor office at the same number
    scored = con.execute(f"""
        SELECT l.unique_id, r.unique_id,
               len(list_intersect(list_distinct(l.address_tokens), list_distinct(r.address_tokens)))
               + CASE WHEN l.sub_premises IS NOT DISTINCT FROM r.sub_premises THEN {CLEARLY_NEARER} ELSE 0 END
        FROM place_time_candidates p
        JOIN business_inputs l ON l.unique_id = p.l_id
        JOIN business_inputs r ON r.unique_id = p.r_id
        WHERE l.source_kind = 'rates' AND r.source_kind = 'licensing'
          AND NOT l.not_a_property AND NOT r.not_a_property
          AND ({same_numbered_premises("number_start")} OR {SAME_SITE})
          AND {PERIODS_OVERLAP} AND {LICENCE_NOT_OLDER} AND {USE_FITS} AND NOT {NAMED_PREMISES_DISAGREE}
          AND NOT {TWO_COMPANIES}
    """).fetchall()
    # a record's own establishment counts among its candidates, so a rates record already joined
    # to one food business is not joined to a second
    return _join_all(establishments, unambiguous_pairs(scored, establishments))


def _attach_nameless(con: duckdb.DuckDBPyConnection, establishments: UnionFind[int]) -> int:
    con.execute("CREATE OR REPLACE TEMP TABLE nameless_inputs AS SELECT * FROM business_inputs WHERE NOT named")
    premises_candidates(con, "nameless_inputs", "named_inputs", "nameless_candidates")
    pairs = con.execute(f"""
        SELECT l.unique_id, r.unique_id
        FROM nameless_candidates p
        JOIN nameless_inputs l ON l.unique_id = p.l_id
        JOIN named_inputs r ON r.unique_id = p.r_id
        WHERE l.active_from IS NOT NULL AND r.active_from <= l.active_to AND l.active_from <= r.active_to
          AND ({same_numbered_premises("number")} OR {ADDRESS_NAMES_BUSINESS} OR {FIRST_LINE_NAMES_BUSINESS})
          AND NOT {EITHER_ANCILLARY}
          AND {LICENCE_NOT_OLDER} AND {USE_FITS} AND NOT {NAMED_PREMISES_DISAGREE}""").fetchall()
    sizes: dict[int, int] = {}
    for record in establishments.parent:
        root = establishments.find(record)
        sizes[root] = sizes.get(root, 0) + 1
    candidates: dict[int, set[int]] = {}
    for nameless, named in pairs:
        if sizes[establishments.find(nameless)] == 1:  # not joined by an earlier rule
            candidates.setdefault(nameless, set()).add(establishments.find(named))
    return _join_all(establishments, [(nameless, next(iter(roots))) for nameless, roots in candidates.items()
                                      if len(roots) == 1])
