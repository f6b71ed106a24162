"""Establishments -> organisations: the legal entity or group behind them (the *enterprise* of the
ONS business register). An organisation has many establishments; an establishment has one
operating organisation, or none known.

An organisation is built from the names of whoever is liable for or holds each establishment: the
ratepayer, or any name written with a company's legal form. Under one name (``name_clusters``:
the registered name in all its spellings, "Acme Taverns Ltd", "ACME TAVERNS LIMITED") every
establishment it operates is one organisation, so Acme's forty pubs are forty establishments of one
organisation. A trading name never joins establishments of different operators into one
organisation: two pubs called "The Red Lion" run by two pub companies stay apart. Only where an
establishment has no operator on record does its trading name stand for it.

How far a name reaches depends on what it is. The name model's clusters (names in all their
spellings, trading names included) are made within one council's area (``business_inputs``'s
``council``, where the record's council rule lives): two towns' "Ayse's Grill" are two businesses,
though the name is rare, and so are "Hassett Estates Ltd" in one and "Birmingham Hassett Estates
Ltd" in another, both trading as "Hassett Estates". Across councils only a registered name joins
them: one council's organisation joins another's when the name most of its records write with a
company's legal form ("Kestrel Taverns Ltd", "KESTREL TAVERNS LIMITED") is the same, or is a name
the register says one company has had.
"""

from __future__ import annotations

from collections import Counter

import duckdb

from business_index.duckdb_utils import insert_rows
from business_index.link.union_find import UnionFind


def build_organisations(con: duckdb.DuckDBPyConnection) -> int:
    """Write ``organisation_clusters`` (record_id, record_key, cluster_id) from
    ``establishment_clusters``, ``name_clusters`` and the records' own registered names; a record
    whose establishment has no named record has no organisation. Returns the number of
    organisations."""
    rows = con.execute("""
        WITH members AS (
            SELECT e.cluster_id AS establishment, n.cluster_id AS name_cluster, i.operator, f.company_keys,
                   i.council
            FROM establishment_clusters e
            JOIN name_clusters n USING (record_id)
            JOIN business_inputs i ON i.unique_id = e.record_id
            JOIN record_features f ON f.unique_id = e.record_id),
        speaks AS (  -- the operators' names where there are any, else the trading names
            SELECT establishment, bool_or(operator) AS has_operator FROM members GROUP BY 1)
        SELECT m.establishment, m.name_cluster, m.council,
               -- each record's registered names, as often as records write them
               list_sort(flatten(list(m.company_keys))) AS company_keys
        FROM members m JOIN speaks s USING (establishment)
        WHERE m.operator OR NOT s.has_operator
        GROUP BY ALL
        ORDER BY 1, 2, 3""").fetchall()
    names: UnionFind[str] = UnionFind()
    # within a council: the name model's clusters, and the names of one establishment's operators
    first_name: dict[str, str] = {}
    for establishment, name_cluster, council, _ in rows:
        local_name = f"{name_cluster}@{council}"
        if establishment in first_name:
            names.join(first_name[establishment], local_name)
        else:
            first_name[establishment] = local_name
            names.find(local_name)
    # across councils: each council's organisation by the registered name most of its records
    # write. Only that name: a local pub company's records may also write one of its pubs' names
    # with a legal form ("The Star Cock Ltd"), which another town's pub of that name shares, and
    # every such name joining would chain the country's pub companies into one
    written: dict[str, Counter[str]] = {}
    for _, name_cluster, council, company_keys in rows:
        if company_keys:
            written.setdefault(names.find(f"{name_cluster}@{council}"), Counter()).update(company_keys)
    for local, counts in written.items():
        most = max(counts.values())
        names.join(local, f"company:{min(k for k, n in counts.items() if n == most)}")
    # the names a registered company has had, now and before a change of name, are one company's
    for (keys,) in _names_of_one_company(con):
        for key in keys[1:]:
            names.join(f"company:{keys[0]}", f"company:{key}")
    con.execute("CREATE OR REPLACE TEMP TABLE establishment_organisations (establishment VARCHAR, cluster_id VARCHAR)")
    insert_rows(con, "establishment_organisations", ["establishment", "cluster_id"],
                [(e, f"o{names.find(n)}") for e, n in first_name.items()])
    con.execute("""
        CREATE OR REPLACE TEMP TABLE organisation_clusters AS
        SELECT e.record_id, e.record_key, o.cluster_id
        FROM establishment_clusters e JOIN establishment_organisations o ON o.establishment = e.cluster_id""")
    return len({names.find(n) for n in first_name.values()})


def _names_of_one_company(con: duckdb.DuckDBPyConnection) -> list[tuple[list[str]]]:
    """For each registered company (``link/companies.py``) the keys of the names it has had that
    records write with a company's legal form, when more than one; none without a register."""
    if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'company_name_keys'").fetchall()[0][0]:
        return []
    return con.execute("""
        SELECT list(DISTINCT k.key ORDER BY k.key)
        FROM company_name_keys k
        SEMI JOIN (SELECT unnest(company_keys) AS key FROM record_features) f USING (key)
        GROUP BY k.company_number HAVING count(DISTINCT k.key) > 1""").fetchall()
