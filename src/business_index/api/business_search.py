"""What the establishment, organisation and screening routes share: the search key of a name a
caller wrote, and the short references to an establishment or an organisation that answers embed.
The search itself is ``store.name_lookup``."""

from business_index.api import schemas
from business_index.api.common import BadRequest
from business_index.clean.names import name_key
from business_index.store.index_queries import EstablishmentRefRow


def establishment_ref(row: EstablishmentRefRow) -> schemas.EstablishmentRef:
    return schemas.EstablishmentRef(establishment_id=row.establishment_id, name=row.name, uprn=row.uprn,
                                    address=row.address, first_seen=row.first_seen, last_seen=row.last_seen,
                                    still_open=bool(row.still_open))


def organisation_ref(organisation_id: str | None, name: str | None) -> schemas.OrganisationRef | None:
    return None if organisation_id is None else schemas.OrganisationRef(organisation_id=organisation_id, name=name)


def query_name_key(field: str, written: str) -> str:
    """The search key of a name a caller wrote; 400 naming ``field`` when nothing is left to search."""
    key = name_key(written)
    if not key:
        raise BadRequest(field, "the name has no letters or digits to search on")
    return key
