"""The questions the API asks of a published index, as typed functions: each takes a cursor of
one build (``IndexReader.cursor`` or ``PostgresIndexReader.cursor``) and returns rows named by what
they hold. The routes shape answers; the SQL, and which published tables it reads, lives here.

The SQL is written once for both back-ends: ``?`` parameters, ``array_agg`` and ``ARRAY[...]``
rather than DuckDB's list syntax, ``strpos`` rather than ``contains``, and a nested column (a list
of structs, which PostgreSQL holds as jsonb) read whole with ``to_json`` and taken apart here.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Literal, NamedTuple

from business_index.records import LIVE_STATUSES_SQL
from business_index.store.index_reader import ADDRESS_ORDER, ADDRESS_ROW_COLUMNS, LIVE
from business_index.store.name_lookup import Cursor, SearchUnit


class PropertyRow(NamedTuple):
    uprn: int
    parent_uprn: int | None
    single_line_address: str
    postcode: str | None
    classification: str | None
    business_name: str | None
    name_source_kind: str | None
    name_source: str | None
    name_date: date | None
    establishment_id: str | None
    other_candidates_json: str | None
    organisation_id: str | None
    organisation_name: str | None


class HistoryRow(NamedTuple):
    establishment_id: str
    name: str | None
    organisation_id: str | None
    organisation_name: str | None
    first_seen: date | None
    last_seen: date | None
    still_open: bool
    current: bool


class LinkedRecordRow(NamedTuple):
    source: str
    record_type: str
    source_record_id: str
    public_name: str | None
    link_rule: str
    match_probability: float
    establishment_id: str | None
    organisation_id: str | None
    holder_name: str | None
    account_ref: str | None


class EstablishmentRefRow(NamedTuple):
    establishment_id: str
    name: str | None
    uprn: int | None
    address: str | None
    first_seen: date | None
    last_seen: date | None
    still_open: bool


class EstablishmentRow(NamedTuple):
    establishment_id: str
    name: str | None
    name_variants: list[str]
    uprn: int | None
    address: str | None
    postcode: str | None
    first_seen: date | None
    last_seen: date | None
    still_open: bool
    organisation_id: str | None
    organisation_name: str | None


class OrganisationRow(NamedTuple):
    organisation_id: str
    name: str | None
    name_variants: list[str]
    first_seen: date | None
    last_seen: date | None


class LiveProperty(NamedTuple):
    single_line_address: str
    gazetteer_organisation: str | None
    business_name: str | None
    name_source_kind: str | None
    establishment_id: str | None


ESTABLISHMENT_REF_COLUMNS = "establishment_id, name, uprn, address, first_seen, last_seen, still_open"


def find_addresses(con: Cursor, postcode: str | None, uprn: int | None, words: str | None,
                   classification: str | None, limit: int, offset: int) -> tuple[int, list[tuple[Any, ...]]]:
    """Live addresses (``ADDRESS_ROW_COLUMNS``, in ``ADDRESS_ORDER``) matching every criterion given:
    a normal postcode, a UPRN, words of any of its addresses, a classification code prefix; and
    how many match in all. At least one criterion must be given."""
    conditions: list[str] = [LIVE]
    params: list[object] = []
    if postcode is not None:
        conditions.append("a.postcode = ?")
        params.append(postcode)
    if uprn is not None:
        conditions.append("a.uprn = ?")
        params.append(uprn)
    if classification:
        conditions.append("starts_with(a.classification, ?)")
        params.append(classification.upper())
    if words and words.strip():
        conditions.append("a.uprn IN (SELECT uprn FROM address_aliases WHERE strpos(single_line_address, ?) > 0)")
        params.append(" ".join(words.upper().split()))
    if not params:
        raise ValueError("give at least one criterion")
    where = " AND ".join(conditions)
    total = con.execute(f"SELECT count(*) FROM addresses a WHERE {where}", params).fetchall()[0][0]
    rows = con.execute(f"""
        SELECT {ADDRESS_ROW_COLUMNS} FROM addresses a LEFT JOIN property_names p USING (uprn) WHERE {where}
        ORDER BY {ADDRESS_ORDER} LIMIT ? OFFSET ?""", [*params, limit, offset]).fetchall()
    return int(total), rows


def property_row(con: Cursor, uprn: int) -> PropertyRow | None:
    """A property (live or not) with its derived name, provenance and operator; None if unknown."""
    rows = con.execute("""
        SELECT a.uprn, a.parent_uprn, a.single_line_address, a.postcode, a.classification, p.business_name,
               p.name_source_kind, p.name_source, p.name_date, p.establishment_id, to_json(p.other_candidates),
               p.organisation_id, p.organisation_name
        FROM addresses a LEFT JOIN property_names p USING (uprn) WHERE a.uprn = ?""", [uprn]).fetchall()
    return PropertyRow(*rows[0]) if rows else None


def live_property(con: Cursor, uprn: int) -> LiveProperty | None:
    """A live property's address, its gazetteer organisation and derived name; None if not live."""
    rows = con.execute(f"""
        SELECT a.single_line_address, a.organisation, p.business_name, p.name_source_kind, p.establishment_id
        FROM addresses a LEFT JOIN property_names p USING (uprn)
        WHERE a.uprn = ? AND a.logical_status IN {LIVE_STATUSES_SQL}""", [uprn]).fetchall()
    return LiveProperty(*rows[0]) if rows else None


def gazetteer_organisations(con: Cursor, uprns: list[int]) -> dict[int, str | None]:
    """The organisation name the gazetteer gives each of ``uprns`` (None where it gives none)."""
    if not uprns:
        return {}
    return dict(con.execute("SELECT uprn, organisation FROM addresses WHERE uprn IN (SELECT unnest(?::BIGINT[]))",
                            [uprns]).fetchall())


def premises_history(con: Cursor, uprn: int) -> list[HistoryRow]:
    """Every establishment seen at a property: the current one first, then the latest seen."""
    return [HistoryRow(*r) for r in con.execute("""
        SELECT h.establishment_id, h.name, h.organisation_id, o.name, h.first_seen, h.last_seen,
               h.still_open, h.current
        FROM premises_history h LEFT JOIN organisations o USING (organisation_id)
        WHERE h.uprn = ? ORDER BY h.current DESC, h.last_seen DESC NULLS LAST, h.establishment_id""",
        [uprn]).fetchall()]


def linked_records(con: Cursor, uprn: int) -> list[LinkedRecordRow]:
    """The records linked to a property, with how and the establishment each belongs to. Holds
    personal fields: the caller decides what to show."""
    return [LinkedRecordRow(*r) for r in con.execute("""
        SELECT b.source, b.record_type, b.source_record_id, f.public_name, l.link_rule, l.match_probability,
               re.establishment_id, re.organisation_id, b.holder_name, b.account_ref
        FROM record_links l JOIN business_records b USING (record_id)
        JOIN record_names f USING (record_id)
        LEFT JOIN record_establishments re USING (record_id)
        WHERE l.uprn = ? ORDER BY b.source, b.record_id""", [uprn]).fetchall()]


def establishment_row(con: Cursor, establishment_id: str) -> EstablishmentRow | None:
    rows = con.execute("""
        SELECT e.establishment_id, e.name, e.name_variants, e.uprn, e.address, e.postcode, e.first_seen,
               e.last_seen, e.still_open, e.organisation_id, o.name
        FROM establishments e LEFT JOIN organisations o USING (organisation_id)
        WHERE e.establishment_id = ?""", [establishment_id]).fetchall()
    return EstablishmentRow(*rows[0]) if rows else None


def organisation_row(con: Cursor, organisation_id: str) -> OrganisationRow | None:
    rows = con.execute("""SELECT organisation_id, name, name_variants, first_seen, last_seen
                          FROM organisations WHERE organisation_id = ?""", [organisation_id]).fetchall()
    return OrganisationRow(*rows[0]) if rows else None


def records_by_source(con: Cursor, unit: SearchUnit, ids: list[str]) -> dict[str, dict[str, int]]:
    """For each establishment or organisation (``unit``) of ``ids``: its records per source."""
    table = "establishment_source_counts" if unit == "establishment_id" else "organisation_source_counts"
    counts: dict[str, dict[str, int]] = {}
    for unit_id, source, n in con.execute(
            f"SELECT {unit}, source, records FROM {table} WHERE {unit} IN (SELECT unnest(?::VARCHAR[]))",
            [ids]).fetchall():
        counts.setdefault(unit_id, {})[source] = n
    return counts


def establishments_of(con: Cursor, organisation_ids: list[str]
                      ) -> dict[str, list[EstablishmentRefRow]]:
    """Each organisation's establishments, still open first, then by name."""
    units: dict[str, list[EstablishmentRefRow]] = {}
    for row in con.execute(f"""
            SELECT organisation_id, {ESTABLISHMENT_REF_COLUMNS} FROM establishments
            WHERE organisation_id IN (SELECT unnest(?::VARCHAR[]))
            ORDER BY still_open DESC NULLS LAST, name, establishment_id""", [organisation_ids]).fetchall():
        units.setdefault(row[0], []).append(EstablishmentRefRow(*row[1:]))
    return units


def recorded_names(con: Cursor, organisation_ids: list[str], personal: bool) -> dict[str, list[str]]:
    """Every spelling each organisation's records use: their public names, or with ``personal``
    every name and trading name as recorded."""
    # the members first: joining names to every record before choosing the organisations scans them all
    spelled = ("""SELECT m.organisation_id, b.name AS n FROM members m JOIN business_records b USING (record_id)
                  UNION SELECT m.organisation_id, b.trading_name FROM members m JOIN business_records b USING (record_id)"""
               if personal else
               """SELECT m.organisation_id, f.public_name AS n FROM members m JOIN record_names f USING (record_id)""")
    return {organisation_id: list(names) for organisation_id, names in con.execute(f"""
        WITH members AS (
            SELECT record_id, organisation_id FROM record_establishments
            WHERE organisation_id IN (SELECT unnest(?::VARCHAR[]))),
        spelled AS ({spelled})
        SELECT organisation_id, array_agg(DISTINCT n ORDER BY n) FROM spelled WHERE n IS NOT NULL
        GROUP BY organisation_id""", [organisation_ids]).fetchall()}


def property_points(con: Cursor, uprns: list[int]) -> dict[int, tuple[float, float]]:
    """The gazetteer's coordinates (easting and northing) of each of ``uprns`` that has them."""
    return {int(u): (float(x), float(y)) for u, x, y in con.execute("""
        SELECT uprn, x_coordinate, y_coordinate FROM addresses
        WHERE uprn IN (SELECT unnest(?::BIGINT[])) AND x_coordinate IS NOT NULL AND y_coordinate IS NOT NULL""",
        [uprns]).fetchall()}


class SourceQuality(NamedTuple):
    source: str
    read: int
    loaded: int
    quarantined: int


def source_quality(con: Cursor) -> list[SourceQuality]:
    """Per source: rows read, loaded and quarantined."""
    return [SourceQuality(*r) for r in con.execute("""
        SELECT source, sum(read)::BIGINT, sum(loaded)::BIGINT, sum(quarantined)::BIGINT FROM source_files
        GROUP BY source ORDER BY source""").fetchall()]


def quarantine_reasons(con: Cursor) -> list[tuple[str, str | None, str, int]]:
    """(source, field, reason, rows) of the quarantine, most rows first."""
    return con.execute("""
        SELECT source, field, reason, count(*) FROM quarantine GROUP BY source, field, reason ORDER BY 4 DESC, 1, 3, 2 NULLS FIRST
        LIMIT 200""").fetchall()


def quarantined_rows(con: Cursor, source: str, reason: str, limit: int
                     ) -> list[tuple[str, int, str | None, str, str]]:
    """(file, line, field, reason, raw) of the quarantined rows of one source and reason."""
    return con.execute("""
        SELECT file, line, field, reason, raw FROM quarantine WHERE source = ? AND reason = ?
        ORDER BY file, line LIMIT ?""", [source, reason, limit]).fetchall()


def links_by_rule(con: Cursor) -> list[tuple[str, int]]:
    """How many records each linking rule placed, and how many were left unmatched."""
    rows = con.execute("SELECT link_rule, count(*) FROM record_links GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()
    unmatched = con.execute("SELECT count(*) FROM unmatched_records").fetchall()[0][0]
    return [(str(rule), int(n)) for rule, n in rows] + [("left unmatched", int(unmatched))]


def name_sources(con: Cursor) -> list[tuple[str, int]]:
    """Where the properties' derived business names come from."""
    return [(str(kind or "no name"), int(n)) for kind, n in con.execute(
        "SELECT name_source_kind, count(*) FROM property_names GROUP BY 1 ORDER BY 2 DESC, 1 NULLS FIRST").fetchall()]


def unmatched_sample(con: Cursor, limit: int) -> list[tuple[Any, ...]]:
    """Records no rule placed: source, line, the address as written, why, and the best candidates
    (UPRN and probability) with their addresses."""
    rows = [(source, line, address or text, postcode, reason, json.loads(best) if best else [])
            for source, line, address, text, postcode, reason, best in con.execute("""
        SELECT b.source, b.line, nullif(array_to_string(b.address_lines, ', '), ''), b.address_text, b.postcode,
               u.reason, to_json(u.best_candidates)
        FROM unmatched_records u JOIN business_records b USING (record_id)
        ORDER BY b.source, b.line LIMIT ?""", [limit]).fetchall()]
    addresses = dict(con.execute("""
        SELECT uprn, single_line_address FROM addresses WHERE uprn IN (SELECT unnest(?::BIGINT[]))""",
        [[int(c["uprn"]) for *_, best in rows for c in best]]).fetchall())
    return [(*row[:5], [f"{c['uprn']} {addresses.get(int(c['uprn']), '')} ({c['match_probability']})" for c in row[5]])
            for row in rows]


def most_spelled(con: Cursor, limit: int) -> list[tuple[str, str | None, int, int]]:
    """The organisations whose records spell their name the most ways for each premises (a chain's
    branches each have a name; one supplier written eighteen ways at three premises stands out):
    (id, name, spellings, establishments)."""
    return con.execute("""
        SELECT organisation_id, name, coalesce(array_length(name_variants, 1), 0) AS spellings, establishment_count
        FROM organisations
        ORDER BY CAST(coalesce(array_length(name_variants, 1), 0) AS DOUBLE PRECISION) / greatest(establishment_count, 1)
                 DESC, spellings DESC, organisation_id
        LIMIT ?""", [limit]).fetchall()


def build_facts(con: Cursor) -> dict[str, str]:
    return dict(con.execute("SELECT key, value FROM build_info ORDER BY key").fetchall())


class ExtensionRow(NamedTuple):
    name: str | None
    uprns: list[int]
    addresses: list[str]
    rateable_value: int | None  # whole pounds, as rates records hold them
    licences: int
    spellings: int


def extension_rows(con: Cursor, unit: SearchUnit | Literal["uprn"], ids: list[str]
                   ) -> dict[str, ExtensionRow]:
    """For each establishment, organisation or property (``unit``) of ``ids``: its name, UPRNs and
    addresses, the rateable value of its open rates accounts, its licences and how many public
    spellings its records use."""
    if unit == "uprn":
        members = """SELECT l.uprn::VARCHAR AS id, l.record_id FROM record_links l
                     WHERE l.uprn::VARCHAR IN (SELECT unnest(?::VARCHAR[]))"""
        names = """SELECT uprn::VARCHAR AS id, business_name AS name FROM property_names
                   WHERE uprn::VARCHAR IN (SELECT unnest(?::VARCHAR[]))"""
        places = """SELECT uprn::VARCHAR AS id, uprn FROM property_names
                    WHERE uprn::VARCHAR IN (SELECT unnest(?::VARCHAR[]))"""
    else:
        table = "establishments" if unit == "establishment_id" else "organisations"
        members = f"""SELECT {unit} AS id, record_id FROM record_establishments
                      WHERE {unit} IN (SELECT unnest(?::VARCHAR[]))"""
        names = f"""SELECT {unit} AS id, name FROM {table} WHERE {unit} IN (SELECT unnest(?::VARCHAR[]))"""
        places = f"""SELECT {unit} AS id, uprn FROM establishments
                     WHERE {unit} IN (SELECT unnest(?::VARCHAR[])) AND uprn IS NOT NULL"""
    rows = con.execute(f"""
        WITH members AS ({members}), named AS ({names}),
        -- a hereditament's value once, though its account and its list entry both state it
        rated AS (
            SELECT hereditaments.id, CAST(sum(hereditaments.value) AS BIGINT) AS rateable_value FROM (
                SELECT m.id, coalesce(b.property_ref, b.record_id::VARCHAR) AS hereditament, max(b.rateable_value) AS value
                FROM members m JOIN business_records b USING (record_id)
                WHERE b.source_kind = 'rates' AND b.end_date IS NULL AND b.rateable_value IS NOT NULL
                GROUP BY 1, 2) AS hereditaments
            GROUP BY 1),
        counted AS (
            SELECT m.id, count(*) FILTER (WHERE b.record_type = 'licence') AS licences,
                   count(DISTINCT lower(rn.public_name)) AS spellings
            FROM members m JOIN business_records b USING (record_id) LEFT JOIN record_names rn USING (record_id)
            GROUP BY 1)
        SELECT n.id, n.name, rated.rateable_value, coalesce(r.licences, 0), coalesce(r.spellings, 0)
        FROM named n LEFT JOIN counted r USING (id) LEFT JOIN rated USING (id)""", [ids, ids]).fetchall()
    located: dict[str, list[tuple[int, str]]] = {}
    for unit_id, uprn, address in con.execute(f"""
            SELECT DISTINCT p.id, p.uprn, a.single_line_address FROM ({places}) AS p
            LEFT JOIN addresses a ON a.uprn = p.uprn ORDER BY p.id, p.uprn""", [ids]).fetchall():
        located.setdefault(str(unit_id), []).append((int(uprn), address))
    return {str(r[0]): ExtensionRow(r[1], [u for u, _ in located.get(str(r[0]), [])],
                                    [a for _, a in located.get(str(r[0]), []) if a is not None], r[2], int(r[3]),
                                    int(r[4]))
            for r in rows}


def name_prefix(con: Cursor, unit: SearchUnit, prefix: str, limit: int) -> list[tuple[str, str]]:
    """Establishments or organisations (``unit``) whose name starts with ``prefix`` (any case),
    the most recorded first: (id, name)."""
    table = "establishments" if unit == "establishment_id" else "organisations"
    return [(str(i), str(n)) for i, n in con.execute(f"""
        SELECT {unit}, name FROM {table} WHERE starts_with(lower(name), lower(?))
        ORDER BY record_count DESC, {unit} LIMIT ?""", [prefix, limit]).fetchall()]



class CompanyRow(NamedTuple):
    company_number: str
    name: str
    status: str | None
    category: str | None
    incorporated: date | None
    previous_names: list[str]


def companies_of(con: Cursor, organisation_ids: list[str]) -> dict[str, list[CompanyRow]]:
    """Each organisation's registered companies (from a Companies House source), with every name
    the company had before."""
    found: dict[str, list[CompanyRow]] = {}
    for organisation_id, *values, previous in con.execute("""
            SELECT o.organisation_id, c.company_number, c.name, c.status, c.category, c.incorporated,
                   to_json(c.previous_names)
            FROM organisation_companies o JOIN companies c USING (company_number)
            WHERE o.organisation_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY 1, 2""", [organisation_ids]).fetchall():
        found.setdefault(organisation_id, []).append(
            CompanyRow(*values, [p["name"] for p in json.loads(previous or "[]")]))  # type: ignore[call-arg]
    return found
