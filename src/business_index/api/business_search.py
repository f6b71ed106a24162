"""Name search over establishments and organisations, shared by their routes and by supplier
screening: the typo-tolerant SQL (its least similarity is the ``search_min_similarity`` setting)
and the short references to an establishment or an organisation that answers embed."""

from typing import Any

from business_index.api import schemas
from business_index.api.common import BadRequest
from business_index.clean.names import name_key


def search_sql(unit: str, personal: bool, min_similarity: float) -> str:
    """Typo-tolerant search of establishments or organisations (``unit``): the best similarity
    between the query and any name their records carry (names of individuals only when the caller
    may see personal data) at least ``min_similarity``, optionally only those with a record at a postcode. Parameters: the
    name key twice, the postcode twice."""
    table = "establishments" if unit == "establishment_id" else "organisations"
    personal_filter = "" if personal else "AND NOT s.personal"
    return f"""
        WITH keys AS (
            SELECT s.{unit}, max(jaro_winkler_similarity(s.key, ?)) AS score
            FROM name_search s
            WHERE s.{unit} IS NOT NULL {personal_filter}
            GROUP BY s.{unit} HAVING max(jaro_winkler_similarity(s.key, ?)) >= {float(min_similarity)})
        SELECT u.*, round(k.score, 4) AS score
        FROM keys k JOIN {table} u USING ({unit})
        WHERE ? IS NULL OR u.{unit} IN (
            SELECT c.{unit} FROM record_establishments c
            JOIN business_records b USING (record_id)
            LEFT JOIN addresses a ON a.uprn = (SELECT l.uprn FROM record_links l WHERE l.record_id = b.record_id)
            WHERE replace(coalesce(a.postcode, b.postcode), ' ', '') = replace(?, ' ', ''))"""


ESTABLISHMENT_REF_COLUMNS = "establishment_id, name, uprn, address, first_seen, last_seen, still_open"


def establishment_ref(row: tuple[Any, ...]) -> schemas.EstablishmentRef:
    return schemas.EstablishmentRef(establishment_id=row[0], name=row[1], uprn=row[2], address=row[3],
                                    first_seen=row[4], last_seen=row[5], still_open=bool(row[6]))


def organisation_ref(organisation_id: str | None, name: str | None) -> schemas.OrganisationRef | None:
    return None if organisation_id is None else schemas.OrganisationRef(organisation_id=organisation_id, name=name)



def query_name_key(field: str, written: str) -> str:
    """The search key of a name a caller wrote; 400 naming ``field`` when nothing is left to search."""
    key = name_key(written)
    if not key:
        raise BadRequest(field, "the name has no letters or digits to search on")
    return key
