"""Companies from a register (Companies House) -> the organisations they are.

While linking, each register source is read a row at a time and a company is kept when the
council's records could mean it: it is registered at one of the borough's postcodes, or its name,
now or before a change of name, is a name a record uses (``keep_company``). Kept companies are
published in ``companies``; every name they have had is a key in ``company_name_keys``, which
organisation building reads: records naming a company by its old name and by its new one are
one organisation (``link/organisations.py``). ``organisation_companies`` says which registered
company each organisation is. Without a register nothing changes (both tables are empty).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb

from business_index.clean.names import name_key
from business_index.duckdb_utils import insert_rows
from business_index.postcodes import normalise_postcode
from business_index.sources.companies_house import Company, CompanyFileStats, read_companies

COMPANY_COLUMNS = ("company_number", "name", "status", "category", "incorporated", "dissolved", "postcode",
                   "address", "sic_codes", "previous_names", "source", "file", "line")


def create_company_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        CREATE OR REPLACE TABLE companies (
            company_number VARCHAR PRIMARY KEY, name VARCHAR, status VARCHAR, category VARCHAR, incorporated DATE,
            dissolved DATE, postcode VARCHAR, address VARCHAR, sic_codes VARCHAR[],
            previous_names STRUCT(name VARCHAR, until DATE)[], source VARCHAR, file VARCHAR, line BIGINT);
        CREATE OR REPLACE TEMP TABLE company_name_keys (company_number VARCHAR, key VARCHAR);
    """)


def read_registers(con: duckdb.DuckDBPyConnection, sources: Iterable[tuple[str, list[tuple[Path, str]]]]
                   ) -> list[CompanyFileStats]:
    """Read each register source's files (each a path and its name as written in sources.toml)
    into ``companies`` and ``company_name_keys``, keeping the companies the index's records could
    mean; returns each file's counts."""
    create_company_tables(con)
    postcodes = {pc for (pc,) in con.execute("""
        SELECT DISTINCT postcode FROM addresses WHERE postcode IS NOT NULL
        UNION SELECT DISTINCT postcode FROM record_features WHERE postcode IS NOT NULL""").fetchall()}
    keys = {k for (k,) in con.execute("SELECT DISTINCT unnest(name_keys) FROM record_features").fetchall()}
    all_stats = []
    seen: set[str] = set()
    for source, paths in sources:
        for path, written in paths:
            stats = CompanyFileStats(written)
            kept = []
            for company in read_companies(path, lambda c: keep_company(c, postcodes, keys), stats):
                if company.number not in seen:  # a company in two files of a source once
                    seen.add(company.number)
                    kept.append(company)
            insert_rows(con, "companies", list(COMPANY_COLUMNS), [
                (c.number, c.name, c.status, c.category, c.incorporated, c.dissolved, c.postcode, c.address,
                 list(c.sic_codes), [{"name": p.name, "until": p.until} for p in c.previous_names], source,
                 written, c.line) for c in kept])
            insert_rows(con, "company_name_keys", ["company_number", "key"], [
                (c.number, key) for c in kept
                for key in {name_key(n) for n in (c.name, *(p.name for p in c.previous_names))} if key])
            all_stats.append(stats)
    # a name two companies have had says nothing about which one a record means
    con.execute("""
        DELETE FROM company_name_keys WHERE key IN (
            SELECT key FROM company_name_keys GROUP BY key HAVING count(DISTINCT company_number) > 1)""")
    return all_stats


def keep_company(company: Company, postcodes: set[str], keys: set[str]) -> bool:
    """Whether the council's records could mean ``company``: registered at one of their postcodes,
    or named, now or before, as a record names a business."""
    if company.postcode and normalise_postcode(company.postcode) in postcodes:
        return True
    return any(name_key(n) in keys for n in (company.name, *(p.name for p in company.previous_names)))


def attach_companies(con: duckdb.DuckDBPyConnection) -> None:
    """``organisation_companies``: each organisation and the registered company its records name
    with a company's legal form, by any of the company's names."""
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'company_name_keys'").fetchall()[0][0]
    if not exists:
        create_company_tables(con)
    con.execute("""
        CREATE OR REPLACE TABLE organisation_companies AS
        SELECT DISTINCT re.organisation_id, k.company_number
        FROM record_establishments re
        JOIN (SELECT unique_id AS record_id, unnest(company_keys) AS key FROM record_features) f USING (record_id)
        JOIN company_name_keys k USING (key)
        WHERE re.organisation_id IS NOT NULL
        ORDER BY 1, 2""")
