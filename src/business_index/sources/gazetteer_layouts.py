"""Column layouts of the two LLPG exchange formats, NLPG DTF 7.3 and OS AddressBase Premium CSV.

The two share record numbers and most field names but not column counts or orders, so each record
type has one layout per format (docs: shared/docs/formats.md sections 2 and 3). The reader picks a
layout per row from the record identifier and the field count; the synthetic generator writes with
the same tables, so what we write is what we read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FieldKind = Literal["int", "text", "date", "float", "time"]
GazetteerFormat = Literal["dtf73", "abp"]


@dataclass(frozen=True, slots=True)
class Layout:
    format: GazetteerFormat
    record_type: int
    fields: tuple[tuple[str, FieldKind], ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.fields)

    @property
    def width(self) -> int:
        return len(self.fields)


_COMMON: tuple[tuple[str, FieldKind], ...] = (("RECORD_IDENTIFIER", "int"), ("CHANGE_TYPE", "text"), ("PRO_ORDER", "int"))


def _layout(fmt: GazetteerFormat, rec: int, *fields: tuple[str, FieldKind]) -> Layout:
    return Layout(fmt, rec, _COMMON + fields)


HEADER = Layout(
    "dtf73",
    10,
    (
        ("RECORD_IDENTIFIER", "int"),
        ("CUSTODIAN_NAME", "text"),
        ("LOCAL_CUSTODIAN_CODE", "int"),
        ("PROCESS_DATE", "date"),
        ("VOLUME_NUMBER", "int"),
        ("ENTRY_DATE", "date"),
        ("TIME_STAMP", "time"),
        ("VERSION", "text"),
        ("FILE_TYPE", "text"),
    ),
)
TRAILER = Layout(
    "dtf73",
    99,
    (
        ("RECORD_IDENTIFIER", "int"),
        ("NEXT_VOLUME_NUMBER", "int"),
        ("RECORD_COUNT", "int"),
        ("ENTRY_DATE", "date"),
        ("TIME_STAMP", "time"),
    ),
)
ABP_METADATA = Layout(
    "abp",
    29,
    (("RECORD_IDENTIFIER", "int"),)
    + tuple(
        (name, "text")
        for name in (
            "GAZ_NAME", "GAZ_SCOPE", "TER_OF_USE", "LINKED_DATA", "GAZ_OWNER", "NGAZ_FREQ",
            "CUSTODIAN_NAME", "CUSTODIAN_UPRN", "LOCAL_CUSTODIAN_CODE", "CO_ORD_SYSTEM",
            "CO_ORD_UNIT", "META_DATE", "CLASS_SCHEME", "GAZ_DATE", "LANGUAGE", "CHARACTER_SET",
        )
    ),
)

DTF73: dict[int, Layout] = {
    11: _layout(
        "dtf73", 11,
        ("USRN", "int"), ("RECORD_TYPE", "int"), ("SWA_ORG_REF_NAMING", "int"), ("STATE", "int"),
        ("STATE_DATE", "date"), ("STREET_SURFACE", "int"), ("STREET_CLASSIFICATION", "int"),
        ("VERSION", "int"), ("RECORD_ENTRY_DATE", "date"), ("LAST_UPDATE_DATE", "date"),
        ("STREET_START_DATE", "date"), ("STREET_END_DATE", "date"), ("STREET_START_X", "float"),
        ("STREET_START_Y", "float"), ("STREET_END_X", "float"), ("STREET_END_Y", "float"),
        ("STREET_TOLERANCE", "int"),
    ),
    15: _layout(
        "dtf73", 15,
        ("USRN", "int"), ("STREET_DESCRIPTOR", "text"), ("LOCALITY_NAME", "text"),
        ("TOWN_NAME", "text"), ("ADMINISTRATIVE_AREA", "text"), ("LANGUAGE", "text"),
    ),
    21: _layout(
        "dtf73", 21,
        ("UPRN", "int"), ("LOGICAL_STATUS", "int"), ("BLPU_STATE", "int"), ("BLPU_STATE_DATE", "date"),
        ("BLPU_CLASS", "text"), ("PARENT_UPRN", "int"), ("X_COORDINATE", "float"),
        ("Y_COORDINATE", "float"), ("RPC", "int"), ("LOCAL_CUSTODIAN_CODE", "int"),
        ("START_DATE", "date"), ("END_DATE", "date"), ("LAST_UPDATE_DATE", "date"),
        ("ENTRY_DATE", "date"), ("ORGANISATION", "text"), ("WARD_CODE", "text"),
        ("PARISH_CODE", "text"), ("CUSTODIAN_ONE", "text"), ("CUSTODIAN_TWO", "text"),
        ("CAN_KEY", "text"),
    ),
    23: _layout(
        "dtf73", 23,
        ("UPRN", "int"), ("XREF_KEY", "text"), ("START_DATE", "date"), ("LAST_UPDATE_DATE", "date"),
        ("ENTRY_DATE", "date"), ("END_DATE", "date"), ("CROSS_REFERENCE", "text"), ("SOURCE", "text"),
    ),
    24: _layout(
        "dtf73", 24,
        ("UPRN", "int"), ("LPI_KEY", "text"), ("LANGUAGE", "text"), ("LOGICAL_STATUS", "int"),
        ("START_DATE", "date"), ("END_DATE", "date"), ("ENTRY_DATE", "date"),
        ("LAST_UPDATE_DATE", "date"), ("SAO_START_NUMBER", "int"), ("SAO_START_SUFFIX", "text"),
        ("SAO_END_NUMBER", "int"), ("SAO_END_SUFFIX", "text"), ("SAO_TEXT", "text"),
        ("PAO_START_NUMBER", "int"), ("PAO_START_SUFFIX", "text"), ("PAO_END_NUMBER", "int"),
        ("PAO_END_SUFFIX", "text"), ("PAO_TEXT", "text"), ("USRN", "int"), ("LEVEL", "text"),
        ("POSTAL_ADDRESS", "text"), ("POSTCODE", "text"), ("POST_TOWN", "text"),
        ("OFFICIAL_FLAG", "text"), ("CUSTODIAN_ONE", "text"), ("CUSTODIAN_TWO", "text"),
        ("CAN_KEY", "text"),
    ),
}

ABP: dict[int, Layout] = {
    11: _layout(
        "abp", 11,
        ("USRN", "int"), ("RECORD_TYPE", "int"), ("SWA_ORG_REF_NAMING", "int"), ("STATE", "int"),
        ("STATE_DATE", "date"), ("STREET_SURFACE", "int"), ("STREET_CLASSIFICATION", "int"),
        ("VERSION", "int"), ("STREET_START_DATE", "date"), ("STREET_END_DATE", "date"),
        ("LAST_UPDATE_DATE", "date"), ("RECORD_ENTRY_DATE", "date"), ("STREET_START_X", "float"),
        ("STREET_START_Y", "float"), ("STREET_START_LAT", "float"), ("STREET_START_LONG", "float"),
        ("STREET_END_X", "float"), ("STREET_END_Y", "float"), ("STREET_END_LAT", "float"),
        ("STREET_END_LONG", "float"), ("STREET_TOLERANCE", "int"),
    ),
    15: _layout(
        "abp", 15,
        ("USRN", "int"), ("STREET_DESCRIPTOR", "text"), ("LOCALITY_NAME", "text"),
        ("TOWN_NAME", "text"), ("ADMINISTRATIVE_AREA", "text"), ("LANGUAGE", "text"),
        ("START_DATE", "date"), ("END_DATE", "date"), ("LAST_UPDATE_DATE", "date"),
        ("ENTRY_DATE", "date"),
    ),
    21: _layout(
        "abp", 21,
        ("UPRN", "int"), ("LOGICAL_STATUS", "int"), ("BLPU_STATE", "int"), ("BLPU_STATE_DATE", "date"),
        ("PARENT_UPRN", "int"), ("X_COORDINATE", "float"), ("Y_COORDINATE", "float"),
        ("LATITUDE", "float"), ("LONGITUDE", "float"), ("RPC", "int"), ("LOCAL_CUSTODIAN_CODE", "int"),
        ("COUNTRY", "text"), ("START_DATE", "date"), ("END_DATE", "date"), ("LAST_UPDATE_DATE", "date"),
        ("ENTRY_DATE", "date"), ("ADDRESSBASE_POSTAL", "text"), ("POSTCODE_LOCATOR", "text"),
        ("MULTI_OCC_COUNT", "int"),
    ),
    23: _layout(
        "abp", 23,
        ("UPRN", "int"), ("XREF_KEY", "text"), ("CROSS_REFERENCE", "text"), ("VERSION", "int"),
        ("SOURCE", "text"), ("START_DATE", "date"), ("END_DATE", "date"), ("LAST_UPDATE_DATE", "date"),
        ("ENTRY_DATE", "date"),
    ),
    24: _layout(
        "abp", 24,
        ("UPRN", "int"), ("LPI_KEY", "text"), ("LANGUAGE", "text"), ("LOGICAL_STATUS", "int"),
        ("START_DATE", "date"), ("END_DATE", "date"), ("LAST_UPDATE_DATE", "date"), ("ENTRY_DATE", "date"),
        ("SAO_START_NUMBER", "int"), ("SAO_START_SUFFIX", "text"), ("SAO_END_NUMBER", "int"),
        ("SAO_END_SUFFIX", "text"), ("SAO_TEXT", "text"), ("PAO_START_NUMBER", "int"),
        ("PAO_START_SUFFIX", "text"), ("PAO_END_NUMBER", "int"), ("PAO_END_SUFFIX", "text"),
        ("PAO_TEXT", "text"), ("USRN", "int"), ("USRN_MATCH_INDICATOR", "text"), ("AREA_NAME", "text"),
        ("LEVEL", "text"), ("OFFICIAL_FLAG", "text"),
    ),
    28: _layout(
        "abp", 28,
        ("UPRN", "int"), ("UDPRN", "int"), ("ORGANISATION_NAME", "text"), ("DEPARTMENT_NAME", "text"),
        ("SUB_BUILDING_NAME", "text"), ("BUILDING_NAME", "text"), ("BUILDING_NUMBER", "int"),
        ("DEPENDENT_THOROUGHFARE", "text"), ("THOROUGHFARE", "text"),
        ("DOUBLE_DEPENDENT_LOCALITY", "text"), ("DEPENDENT_LOCALITY", "text"), ("POST_TOWN", "text"),
        ("POSTCODE", "text"), ("POSTCODE_TYPE", "text"), ("DELIVERY_POINT_SUFFIX", "text"),
        ("WELSH_DEPENDENT_THOROUGHFARE", "text"), ("WELSH_THOROUGHFARE", "text"),
        ("WELSH_DOUBLE_DEPENDENT_LOCALITY", "text"), ("WELSH_DEPENDENT_LOCALITY", "text"),
        ("WELSH_POST_TOWN", "text"), ("PO_BOX_NUMBER", "text"), ("PROCESS_DATE", "date"),
        ("START_DATE", "date"), ("END_DATE", "date"), ("LAST_UPDATE_DATE", "date"), ("ENTRY_DATE", "date"),
    ),
    30: _layout(
        "abp", 30,
        ("UPRN", "int"), ("SUCC_KEY", "text"), ("START_DATE", "date"), ("END_DATE", "date"),
        ("LAST_UPDATE_DATE", "date"), ("ENTRY_DATE", "date"), ("SUCCESSOR", "int"),
    ),
    31: _layout(
        "abp", 31,
        ("UPRN", "int"), ("ORG_KEY", "text"), ("ORGANISATION", "text"), ("LEGAL_NAME", "text"),
        ("START_DATE", "date"), ("END_DATE", "date"), ("LAST_UPDATE_DATE", "date"), ("ENTRY_DATE", "date"),
    ),
    32: _layout(
        "abp", 32,
        ("UPRN", "int"), ("CLASS_KEY", "text"), ("CLASSIFICATION_CODE", "text"), ("CLASS_SCHEME", "text"),
        ("SCHEME_VERSION", "text"), ("START_DATE", "date"), ("END_DATE", "date"),
        ("LAST_UPDATE_DATE", "date"), ("ENTRY_DATE", "date"),
    ),
}

LAYOUTS: dict[GazetteerFormat, dict[int, Layout]] = {"dtf73": DTF73, "abp": ABP}

# The natural key of each record type, for applying change-only updates (formats.md 1.3).
NATURAL_KEYS: dict[int, tuple[str, ...]] = {
    11: ("USRN",),
    15: ("USRN", "LANGUAGE"),
    21: ("UPRN",),
    23: ("XREF_KEY",),
    24: ("LPI_KEY",),
    28: ("UDPRN",),
    30: ("SUCC_KEY",),
    31: ("ORG_KEY",),
    32: ("CLASS_KEY",),
}

# DTF 7.3 record types we read past on purpose: street cross references, ESUs, provenance,
# BLPU extents, key sequence. They are counted as loaded (kept raw), never silently dropped.
IGNORED_RECORD_TYPES = frozenset({12, 13, 14, 16, 17, 18, 19, 20, 22, 25, 26, 27, 98})
ENVELOPE_RECORD_TYPES = frozenset({10, 29, 99})


def detect_layout(record_type: int, n_fields: int) -> Layout | None:
    """The layout a row of this record type and width belongs to, or None if it fits neither."""
    for table in (DTF73, ABP):
        layout = table.get(record_type)
        if layout is not None and layout.width == n_fields:
            return layout
    return None


# Fix the widths against formats.md, so a typo in the tables above fails at import, not in a build.
_EXPECTED_WIDTHS = {
    ("dtf73", 11): 20, ("dtf73", 15): 9, ("dtf73", 21): 23, ("dtf73", 23): 11, ("dtf73", 24): 30,
    ("abp", 11): 24, ("abp", 15): 13, ("abp", 21): 22, ("abp", 23): 12, ("abp", 24): 26,
    ("abp", 28): 29, ("abp", 30): 10, ("abp", 31): 11, ("abp", 32): 12,
}
for (_fmt, _rec), _width in _EXPECTED_WIDTHS.items():
    assert LAYOUTS[_fmt][_rec].width == _width, (_fmt, _rec, LAYOUTS[_fmt][_rec].width)  # type: ignore[index]
