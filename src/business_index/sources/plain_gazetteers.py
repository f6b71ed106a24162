"""Gazetteers held as one row per property: a list of UPRNs with single-line addresses
(``uprn_addresses``), and OS AddressBase Plus (``abplus``). Both are headed CSV files whose columns
are found by header name, so a column set that varies between releases or councils still loads.

Each row is one property: an ``AddressRecord`` (status 1, approved) and exactly one
``AddressAlias`` (status 1, English). A row that cannot be loaded (no UPRN or not a UPRN, a UPRN
already loaded, no address, a coordinate that is not a number) is quarantined with its line, its
column and the reason.

Contract with the matcher (``link/features.py``): an AB Plus address has ``lpi_key`` ``U<uprn>``
on both the address and its alias, so the matcher reads its structured fields, as it does an
LLPG's. A ``uprn_addresses`` address has no ``lpi_key`` and its alias ``U<uprn>``: its structured
fields come from ``single_line.py``'s splitter, which the matcher does not trust; it re-parses the
alias's single line instead.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from pathlib import Path

from business_index.config import SourceConfig
from business_index.postcodes import find_postcode, normalise_postcode
from business_index.records import AddressAlias, AddressRecord, Lineage
from business_index.sources.base import QuarantineLog, ReadResult
from business_index.sources.gazetteer import address_line, is_descriptive_street, tidy_postcode
from business_index.sources.single_line import split_single_line
from business_index.sources.tabular import FieldValueProblem, TableRow, field_value, read_rows
from business_index.sources.values import ValueProblem, clean_text, is_missing, parse_date, parse_uprn

UPRN_ADDRESS_SYNONYMS: dict[str, tuple[str, ...]] = {
    "uprn": ("uprn", "propertyuprn", "uniquepropertyreferencenumber"),
    "address": ("singlelineaddress", "fulladdress", "address", "propertyaddress", "addresstext"),
    "postcode": ("postcode", "postcodelocator", "propertypostcode"),
    "parent_uprn": ("parentuprn",),
    "classification": ("class", "blpuclass", "classification", "classificationcode"),
    "x_coordinate": ("xcoordinate", "easting", "x"),
    "y_coordinate": ("ycoordinate", "northing", "y"),
    "latitude": ("latitude", "lat"),
    "longitude": ("longitude", "long", "lon", "lng"),
    "organisation": ("organisation", "organisationname", "organization", "organizationname"),
    "local_custodian_code": ("localcustodiancode", "custodiancode"),
}

# AddressBase Plus: the OS column names (formats.md s.2.1), compared as header_key does
ABPLUS_SYNONYMS: dict[str, tuple[str, ...]] = {
    "uprn": ("uprn",),
    "change_type": ("changetype",),
    "state": ("state",),
    "classification": ("class",),
    "parent_uprn": ("parentuprn",),
    "x_coordinate": ("xcoordinate",),
    "y_coordinate": ("ycoordinate",),
    "latitude": ("latitude",),
    "longitude": ("longitude",),
    "la_start_date": ("lastartdate",),
    "rm_organisation_name": ("rmorganisationname",),
    "la_organisation": ("laorganisation",),
    "local_custodian_code": ("localcustodiancode",),
    "sao_start_number": ("saostartnumber",),
    "sao_start_suffix": ("saostartsuffix",),
    "sao_end_number": ("saoendnumber",),
    "sao_end_suffix": ("saoendsuffix",),
    "sao_text": ("saotext",),
    "pao_start_number": ("paostartnumber",),
    "pao_start_suffix": ("paostartsuffix",),
    "pao_end_number": ("paoendnumber",),
    "pao_end_suffix": ("paoendsuffix",),
    "pao_text": ("paotext",),
    "usrn": ("usrn",),
    "street_description": ("streetdescription",),
    "locality": ("locality",),
    "dependent_locality": ("dependentlocality",),
    "town_name": ("townname",),
    "post_town": ("posttown",),
    "postcode_locator": ("postcodelocator",),
    "postcode": ("postcode",),
}

# whole numbers held in INTEGER columns (SAO/PAO numbers, BLPU state) and in BIGINT ones (USRN)
_INTEGER_LIMIT = 2**31
_USRN_LIMIT = 10**12
_WHOLE = re.compile(r"^\+?(\d{1,15})(?:\.0+)?$")
# grid coordinates in metres; anything larger is not a place in Great Britain or anywhere near it
_GRID_LIMIT = 10_000_000.0


@dataclass(slots=True)
class _Loaded:
    """The UPRNs a source has loaded so far (a UPRN is one property: a second row for it is refused),
    and per-file notes."""

    first: dict[int, Lineage] = field(default_factory=dict)
    postcode_disagrees: int = 0

    def claim(self, uprn: int, lineage: Lineage) -> None:
        seen = self.first.get(uprn)
        if seen is not None:
            where = f"line {seen.line}" if seen.file == lineage.file else f"{seen.file} line {seen.line}"
            raise FieldValueProblem("uprn", f"UPRN {uprn} appears twice: already loaded from {where}")
        self.first[uprn] = lineage


def read_uprn_addresses(source: SourceConfig, paths: list[Path]) -> ReadResult:
    """A headed CSV of UPRNs with single-line addresses (and optionally postcode, parent, class,
    coordinates, organisation)."""
    result = ReadResult(source.name)
    loaded = _Loaded()
    for path in paths:
        loaded.postcode_disagrees = 0
        read_rows(source, path, result, UPRN_ADDRESS_SYNONYMS, ("uprn", "address"),
                  partial(_uprn_address_row, result, loaded),
                  "a list of UPRNs and addresses (columns UPRN and ADDRESS)")
        if loaded.postcode_disagrees and result.files:
            result.files[-1].warnings.append(
                f"{path}: {loaded.postcode_disagrees} addresses hold a postcode other than the postcode "
                "column's; the column's is kept")
    return result


def _uprn_address_row(result: ReadResult, loaded: _Loaded, row: TableRow, log: QuarantineLog) -> None:
    uprn = _uprn(row)
    address = clean_text(row.get("address"))
    if not address:
        raise FieldValueProblem("address", "empty: no address for this UPRN")
    parts = split_single_line(address)
    if parts.is_empty:
        raise FieldValueProblem("address", f"{address[:60]!r} holds no address, only a postcode or punctuation")
    column = clean_text(row.get("postcode"))
    postcode = tidy_postcode(column) if column else (parts.postcode or find_postcode(address))
    x, y, latitude, longitude = _coordinates(row)
    parent = field_value("parent_uprn", parse_uprn, row.get("parent_uprn"))
    line, disagrees = _given_line(address, postcode)
    lineage = log.lineage(row.line)
    loaded.claim(uprn, lineage)
    loaded.postcode_disagrees += disagrees
    result.addresses.append(AddressRecord(
        uprn=uprn, parent_uprn=parent, usrn=None,  # type: ignore[arg-type]
        lpi_key=None,  # no LPI: the matcher re-parses the alias's single line (module notes)
        logical_status=1, blpu_state=None,
        sao_start_number=parts.sao_start_number, sao_start_suffix=parts.sao_start_suffix,
        sao_end_number=parts.sao_end_number, sao_end_suffix=parts.sao_end_suffix, sao_text=parts.sao_text,
        pao_start_number=parts.pao_start_number, pao_start_suffix=parts.pao_start_suffix,
        pao_end_number=parts.pao_end_number, pao_end_suffix=parts.pao_end_suffix, pao_text=parts.pao_text,
        street_description=parts.street_description, locality=parts.locality, town=parts.town,
        postcode=postcode, single_line_address=line,
        classification=clean_text(row.get("classification")), organisation=clean_text(row.get("organisation")),
        local_custodian_code=_custodian(row),
        x_coordinate=x, y_coordinate=y, latitude=latitude, longitude=longitude,
        start_date=None, end_date=None, descriptive_street=False, lineage=lineage,
    ))
    result.aliases.append(_alias(uprn, line, postcode, None, lineage))


def _given_line(address: str, postcode: str | None) -> tuple[str, bool]:
    """The address as given, written as the LLPG reader writes its lines (upper case, parts joined
    by ', ', a trailing postcode part in its written form), with ``postcode`` appended unless it is
    there already; and whether the address holds a postcode other than ``postcode``."""
    parts = [" ".join(part.split()) for part in address.upper().split(",")]
    parts = [part for part in parts if part]
    if parts and (written := normalise_postcode(parts[-1])):
        parts[-1] = written  # "ss141aa" -> "SS14 1AA"
    line = ", ".join(parts)
    if postcode is None or line.endswith(postcode):
        return line, False
    given = find_postcode(line)
    if given == postcode:
        return line, False
    if given is not None:
        return line, True  # the address says another postcode: kept as given, the column's is the record's
    return f"{line}, {postcode}", False


def read_abplus(source: SourceConfig, paths: list[Path]) -> ReadResult:
    """OS AddressBase Plus CSV, one row per UPRN, columns by header name."""
    result = ReadResult(source.name)
    loaded = _Loaded()
    for path in paths:
        read_rows(source, path, result, ABPLUS_SYNONYMS, ("uprn", "street_description"),
                  partial(_abplus_row, source, result, loaded),
                  "an AddressBase Plus CSV with its header row (OS supply the header as a file of its own: "
                  "put it first)")
    return result


def _abplus_row(source: SourceConfig, result: ReadResult, loaded: _Loaded, row: TableRow, log: QuarantineLog) -> None:
    uprn = _uprn(row)
    change = (clean_text(row.get("change_type")) or "I").upper()
    if change == "D":
        raise FieldValueProblem("change_type", "a delete (D) from a change-only update: this format reads "
                                               "full supplies, where every row is a current property")
    text = {name: clean_text(row.get(name)) for name in (
        "sao_start_suffix", "sao_end_suffix", "sao_text", "pao_start_suffix", "pao_end_suffix", "pao_text",
        "street_description")}
    numbers = {name: _whole(row, name) for name in (
        "sao_start_number", "sao_end_number", "pao_start_number", "pao_end_number")}
    if not (text["sao_text"] or text["pao_text"] or text["street_description"]
            or numbers["sao_start_number"] is not None or numbers["pao_start_number"] is not None):
        raise FieldValueProblem("pao_text", "no address: SAO, PAO and street are all empty")
    parts: dict[str, object] = {
        **text, **numbers,
        "usrn": _whole(row, "usrn", _USRN_LIMIT),
        "locality": clean_text(row.get("locality")) or clean_text(row.get("dependent_locality")),
        "town": clean_text(row.get("town_name")) or clean_text(row.get("post_town")),
    }
    postcode = tidy_postcode(clean_text(row.get("postcode_locator")) or clean_text(row.get("postcode")))
    x, y, latitude, longitude = _coordinates(row)
    parent = field_value("parent_uprn", parse_uprn, row.get("parent_uprn"))
    state = _whole(row, "state")
    start: date | None = field_value(  # type: ignore[assignment]
        "la_start_date", partial(parse_date, order=source.date_order), row.get("la_start_date"))
    line = address_line(parts, postcode)
    lineage = log.lineage(row.line)
    loaded.claim(uprn, lineage)
    result.addresses.append(AddressRecord(
        uprn=uprn, parent_uprn=parent, usrn=parts["usrn"],  # type: ignore[arg-type]
        lpi_key=f"U{uprn}",  # the matcher reads the structured fields, as it does an LLPG's
        logical_status=1, blpu_state=state,
        sao_start_number=numbers["sao_start_number"], sao_start_suffix=text["sao_start_suffix"],
        sao_end_number=numbers["sao_end_number"], sao_end_suffix=text["sao_end_suffix"], sao_text=text["sao_text"],
        pao_start_number=numbers["pao_start_number"], pao_start_suffix=text["pao_start_suffix"],
        pao_end_number=numbers["pao_end_number"], pao_end_suffix=text["pao_end_suffix"], pao_text=text["pao_text"],
        street_description=text["street_description"], locality=parts["locality"],  # type: ignore[arg-type]
        town=parts["town"], postcode=postcode, single_line_address=line,  # type: ignore[arg-type]
        classification=clean_text(row.get("classification")),
        organisation=clean_text(row.get("la_organisation")) or clean_text(row.get("rm_organisation_name")),
        local_custodian_code=_custodian(row),
        x_coordinate=x, y_coordinate=y, latitude=latitude, longitude=longitude,
        start_date=start, end_date=None,
        descriptive_street=is_descriptive_street(text["street_description"]), lineage=lineage,
    ))
    result.aliases.append(_alias(uprn, line, postcode, start, lineage))


def _alias(uprn: int, line: str, postcode: str | None, start: date | None, lineage: Lineage) -> AddressAlias:
    return AddressAlias(uprn=uprn, lpi_key=f"U{uprn}", logical_status=1, language="ENG", single_line_address=line,
                        postcode=postcode, start_date=start, end_date=None, lineage=lineage)


def _uprn(row: TableRow) -> int:
    uprn = field_value("uprn", parse_uprn, row.get("uprn"))
    if uprn is None:
        raise FieldValueProblem("uprn", "empty: the row belongs to no property")
    return uprn  # type: ignore[return-value]


def _whole(row: TableRow, name: str, limit: int = _INTEGER_LIMIT) -> int | None:
    value = row.get(name)
    if is_missing(value):
        return None
    match = _WHOLE.match(value.strip())  # type: ignore[union-attr]
    if not match:
        raise FieldValueProblem(name, f"{value!r} is not a whole number of 0 or more")
    number = int(match[1])
    if number >= limit:
        raise FieldValueProblem(name, f"{value!r} is too large for {name}")
    return number


def _number(value: str | None, low: float, high: float) -> float | None:
    if is_missing(value):
        return None
    text = value.strip()  # type: ignore[union-attr]
    try:
        number = float(text)
    except ValueError:
        raise ValueProblem(f"{text[:40]!r} is not a number") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise ValueProblem(f"{text[:40]!r} is not a coordinate (expected {low:g} to {high:g})")
    return number


def _coordinates(row: TableRow) -> tuple[float | None, float | None, float | None, float | None]:
    """Easting, northing (metres), latitude and longitude (degrees), each optional."""
    grid = partial(_number, low=-_GRID_LIMIT, high=_GRID_LIMIT)
    return (field_value("x_coordinate", grid, row.get("x_coordinate")),  # type: ignore[return-value]
            field_value("y_coordinate", grid, row.get("y_coordinate")),
            field_value("latitude", partial(_number, low=-90.0, high=90.0), row.get("latitude")),
            field_value("longitude", partial(_number, low=-180.0, high=180.0), row.get("longitude")))


def _custodian(row: TableRow) -> int | None:
    """The council keeping the property's record: a code of at most four digits (OS's local
    custodian codes, 114 to 9999)."""
    return _whole(row, "local_custodian_code", limit=10_000)
