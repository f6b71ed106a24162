"""The canonical record model shared by every source.

Readers (``business_index.sources``) turn each council format into these records and nothing else, so
every later stage sees one shape whatever the input was. Every record keeps its lineage: the source
name, the file and the 1-based physical line it came from.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from enum import StrEnum
from operator import attrgetter
from typing import Any, TypeVar

import pyarrow as pa

# A UPRN is 1 to 12 digits (BS 7666).
MAX_UPRN = 999_999_999_999
# The BLPU logical statuses of a property that exists now: 1 approved, 6 provisional (BS 7666);
# 8 historical and 9 rejected are kept for lineage but are never a live property.
LIVE_STATUSES = (1, 6)
LIVE_STATUSES_SQL = "(" + ", ".join(str(s) for s in LIVE_STATUSES) + ")"


class SourceKind(StrEnum):
    """What role a source plays; derivation rules refer to kinds."""

    GAZETTEER = "gazetteer"
    RATES = "rates"
    LICENSING = "licensing"
    OTHER = "other"
    # a register of legal entities (Companies House): it names companies, not premises, and is read
    # while linking, filtered to the businesses the council's records name
    REGISTER = "register"


class NameSourceKind(StrEnum):
    """Where a property's business name can come from: a source kind, or a name the data team
    approved through the API (a submission)."""

    APPROVED = "approved"
    GAZETTEER = "gazetteer"
    RATES = "rates"
    LICENSING = "licensing"
    OTHER = "other"


class BusinessRecordType(StrEnum):
    NDR_ACCOUNT = "ndr_account"
    VOA_LIST_ENTRY = "voa_list_entry"
    LICENCE = "licence"
    FOOD_ESTABLISHMENT = "food_establishment"


_Record = TypeVar("_Record", bound=type)


def _pickled_by_fields(cls: _Record) -> _Record:
    """Pickle a record as its class and its fields' values, its constructor's arguments: about half
    the time and three quarters the size of the default, which matters for the addresses that the
    LLPG reader's worker processes hand back (``sources/gazetteer_pool.py``)."""
    names = [f.name for f in fields(cls)]
    getter = attrgetter(*names)
    # attrgetter of one name gives the value itself, of several a tuple: the constructor takes a tuple
    values = getter if len(names) > 1 else (lambda record: (getter(record),))

    def __reduce__(self: object) -> tuple[type, tuple[object, ...]]:
        return (cls, values(self))

    setattr(cls, "__reduce__", __reduce__)  # noqa: B010 (a class attribute of a slotted class)
    return cls


@_pickled_by_fields
@dataclass(slots=True, frozen=True)
class Lineage:
    source: str
    file: str
    line: int


@_pickled_by_fields
@dataclass(slots=True)
class AddressRecord:
    """One property (BLPU) of the gazetteer with its display address (the approved LPI)."""

    uprn: int
    parent_uprn: int | None
    usrn: int | None
    lpi_key: str | None
    logical_status: int
    blpu_state: int | None
    sao_start_number: int | None
    sao_start_suffix: str | None
    sao_end_number: int | None
    sao_end_suffix: str | None
    sao_text: str | None
    pao_start_number: int | None
    pao_start_suffix: str | None
    pao_end_number: int | None
    pao_end_suffix: str | None
    pao_text: str | None
    street_description: str | None
    locality: str | None
    town: str | None
    postcode: str | None
    single_line_address: str
    classification: str | None
    organisation: str | None
    # the council that keeps the property's record (its gazetteer's custodian): whose area it is in
    local_custodian_code: int | None
    x_coordinate: float | None
    y_coordinate: float | None
    latitude: float | None
    longitude: float | None
    start_date: date | None
    end_date: date | None
    descriptive_street: bool
    lineage: Lineage


@_pickled_by_fields
@dataclass(slots=True)
class AddressAlias:
    """Every LPI of a property (approved, alternative, provisional, historical): search uses them all."""

    uprn: int
    lpi_key: str
    logical_status: int
    language: str
    single_line_address: str
    postcode: str | None
    start_date: date | None
    end_date: date | None
    lineage: Lineage


@dataclass(slots=True)
class CrossReference:
    """A gazetteer cross-reference (record 23): the UPRN's key in another council system."""

    uprn: int
    xref_key: str
    source_code: str
    reference: str
    start_date: date | None
    end_date: date | None
    lineage: Lineage


@dataclass(slots=True)
class BusinessRecord:
    """One row of a rates, licensing or other business source.

    ``name`` is the business name as that source records it (the ratepayer for an NDR account, the
    trading or premises name for a licence, the firm's name for a VOA entry). ``holder_name`` is the
    liable party or licence holder when the source gives it separately; it may be a private
    individual, which ``holder_is_individual`` flags so that public responses can leave it out.
    """

    lineage: Lineage
    source_kind: SourceKind
    record_type: BusinessRecordType
    source_record_id: str
    name: str | None = None
    trading_name: str | None = None
    holder_name: str | None = None
    holder_is_individual: bool = False
    name_withheld: bool = False
    address_lines: tuple[str, ...] = ()
    address_text: str | None = None
    postcode: str | None = None
    uprn: int | None = None
    property_ref: str | None = None
    account_ref: str | None = None
    licence_ref: str | None = None
    licence_type: str | None = None
    status: str | None = None
    description: str | None = None
    rateable_value: int | None = None
    start_date: date | None = None
    end_date: date | None = None
    last_seen_date: date | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True, frozen=True)
class QuarantinedRow:
    """An input row that could not be loaded, kept with the reason so nothing is silently lost."""

    lineage: Lineage
    field: str | None
    reason: str
    raw: str


def lineage_columns(records: Sequence[Any]) -> dict[str, list[Any]]:
    """The records' lineages as the index's source, file and line columns."""
    return {
        "source": [r.lineage.source for r in records],
        "file": [r.lineage.file for r in records],
        "line": [r.lineage.line for r in records],
    }


def record_columns(records: Sequence[Any], cls: type, skip: tuple[str, ...] = ("lineage",)) -> dict[str, list[Any]]:
    """Records of ``cls`` column by column, as the index's tables hold them (``store/index_writer.py``)."""
    names = [f.name for f in fields(cls) if f.name not in skip]
    columns = {name: [getattr(r, name) for r in records] for name in names}
    columns.update(lineage_columns(records))
    return columns


def business_record_table(records: Sequence[BusinessRecord]) -> pa.Table:
    """Business records as the index's ``business_records`` table holds them, but for
    ``record_id`` (given when they are written): an Arrow table, cheap to hand between processes."""
    columns = record_columns(records, BusinessRecord, skip=("lineage", "extra", "address_lines"))
    columns["source_kind"] = [str(v) for v in columns["source_kind"]]
    columns["record_type"] = [str(v) for v in columns["record_type"]]
    columns["address_lines"] = [list(r.address_lines) for r in records]
    columns["extra"] = [json.dumps(r.extra) if r.extra else None for r in records]
    return pa.table(columns)
