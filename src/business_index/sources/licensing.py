"""Licensing and licensing-like registers: Civica APP style exports, the LGA premises-licence
open-data schema, and the Food Standards Agency's FHRS files (XML and CSV).

All give trading names at premises; Civica exports often carry a UPRN, the others never do.
"""

from __future__ import annotations

import xml.parsers.expat
from functools import partial
from pathlib import Path

from business_index.config import SourceConfig
from business_index.records import BusinessRecord, BusinessRecordType, Lineage
from business_index.sources.base import FileStats, QuarantineLog, ReadResult, SourceFileError, read_bytes
from business_index.sources.rates import is_withheld
from business_index.sources.tabular import FieldValueProblem, TableRow, field_value, read_table
from business_index.sources.values import ValueProblem, clean_text, parse_date, parse_reference, parse_uprn

LICENSING_SYNONYMS: dict[str, tuple[str, ...]] = {
    "licence_ref": ("licencenumber", "licenceno", "licencereference", "licenceref", "casereference", "reference",
                    "applicationnumber", "referencenumber", "licenseno", "licensenumber"),
    "licence_type": ("licencetype", "applicationtype", "servicetypelabel", "licensetype", "type"),
    "status": ("status", "licencestatus", "currentstatus"),
    "trading_name": ("tradingname", "premisesname", "businessname", "nameofpremises"),
    "holder_name": ("licenceholder", "licenceholdername", "holdername", "holder", "applicant", "licenseholder"),
    "holder_type": ("holdertype", "applicanttype"),
    "address_text": ("premisesaddress", "locationtext", "address", "premisesaddresstext", "fulladdress"),
    "postcode": ("postcode", "premisespostcode"),
    "uprn": ("uprn", "premisesuprn"),
    "issue_date": ("issuedate", "dateissued", "casedate", "grantdate", "dategranted"),
    "expiry_date": ("expirydate", "dateexpires", "enddate", "expiry"),
    "last_seen_date": ("lastseendate", "lastseen", "lastinspectiondate", "lastupdated", "extractdate"),
    "dps_name": ("dpsname", "designatedpremisessupervisor", "dps"),
    "activities": ("entertainmenttypelabel", "licensableactivities", "activities"),
    "authority": ("organisationlabel",),
}
INDIVIDUAL_HOLDER_TYPES = frozenset({"individual", "person", "soletrader", "partnership", "private"})


def read_licensing(source: SourceConfig, paths: list[Path]) -> ReadResult:
    result = ReadResult(source.name)
    for path in paths:
        what = "an LGA premises-licence file" if source.format == "lga_premises_licences" else "a licensing export"
        read_table(source, path, result, LICENSING_SYNONYMS, ("licence_ref",), partial(_licence, source), what)
    return result


def _licence(source: SourceConfig, row: TableRow, log: QuarantineLog) -> BusinessRecord:
    licence_ref = parse_reference(row.get("licence_ref"))
    if not licence_ref:
        raise FieldValueProblem("licence_ref", "no licence number")
    date_of = partial(parse_date, order=source.date_order)
    holder = row.get("holder_name")
    holder_type = (clean_text(row.get("holder_type")) or "").lower().replace(" ", "")
    extra = {k: v for k in ("holder_type", "dps_name", "activities", "authority") if (v := clean_text(row.get(k)))}
    return BusinessRecord(
        lineage=log.lineage(row.line),
        source_kind=source.kind,
        record_type=BusinessRecordType.LICENCE,
        source_record_id=f"{licence_ref}:{row.number}" if source.format == "lga_premises_licences" else licence_ref,
        name=clean_text(row.get("trading_name")),
        trading_name=clean_text(row.get("trading_name")),
        holder_name=None if is_withheld(holder) else clean_text(holder),
        holder_is_individual=holder_type in INDIVIDUAL_HOLDER_TYPES,
        address_text=clean_text(row.get("address_text")),
        postcode=clean_text(row.get("postcode")),
        uprn=field_value("uprn", parse_uprn, row.get("uprn")),  # type: ignore[arg-type]
        licence_ref=licence_ref,
        licence_type=clean_text(row.get("licence_type")),
        status=clean_text(row.get("status")),
        start_date=field_value("issue_date", date_of, row.get("issue_date")),  # type: ignore[arg-type]
        end_date=field_value("expiry_date", date_of, row.get("expiry_date")),  # type: ignore[arg-type]
        last_seen_date=field_value("last_seen_date", date_of, row.get("last_seen_date")),  # type: ignore[arg-type]
        extra=extra,
    )


FHRS_SYNONYMS: dict[str, tuple[str, ...]] = {
    "fhrs_id": ("fhrsid",),
    "la_business_id": ("localauthoritybusinessid",),
    "business_name": ("businessname",),
    "business_type": ("businesstype",),
    "address_1": ("addressline1",),
    "address_2": ("addressline2",),
    "address_3": ("addressline3",),
    "address_4": ("addressline4",),
    "postcode": ("postcode",),
    "rating_value": ("ratingvalue",),
    "rating_date": ("ratingdate",),
    "authority": ("localauthorityname",),
    "longitude": ("longitude",),
    "latitude": ("latitude",),
    "extract_date": ("extractdate",),
}


def read_fhrs_csv(source: SourceConfig, paths: list[Path]) -> ReadResult:
    result = ReadResult(source.name)
    for path in paths:
        read_table(source, path, result, FHRS_SYNONYMS, ("fhrs_id", "business_name"),
                   lambda row, log: _establishment(source, row.cells, log.lineage(row.line)),
                   "an FSA food hygiene (FHRS) file")
    return result


def _establishment(source: SourceConfig, cells: dict[str, str], lineage: Lineage) -> BusinessRecord:
    fhrs_id = clean_text(cells.get("fhrs_id"))
    if not fhrs_id:
        raise FieldValueProblem("fhrs_id", "no FHRSID")
    lines = tuple(t for t in (clean_text(cells.get(f"address_{i}")) for i in range(1, 5)) if t)
    rating_date = field_value("rating_date", parse_date, cells.get("rating_date"))
    extra = {k: v for k in ("la_business_id", "business_type", "rating_value", "authority", "longitude",
                            "latitude", "extract_date") if (v := clean_text(cells.get(k)))}
    return BusinessRecord(
        lineage=lineage,
        source_kind=source.kind,
        record_type=BusinessRecordType.FOOD_ESTABLISHMENT,
        source_record_id=fhrs_id,
        name=clean_text(cells.get("business_name")),
        trading_name=clean_text(cells.get("business_name")),
        address_lines=lines,
        address_text=", ".join(lines) if lines else None,
        postcode=clean_text(cells.get("postcode")),
        description=clean_text(cells.get("business_type")),
        last_seen_date=rating_date,  # type: ignore[arg-type]
        extra=extra,
    )


# FHRS XML: <EstablishmentDetail> elements; the element names below map to the CSV's fields.
_FHRS_XML_FIELDS = {
    "FHRSID": "fhrs_id", "LocalAuthorityBusinessID": "la_business_id", "BusinessName": "business_name",
    "BusinessType": "business_type", "AddressLine1": "address_1", "AddressLine2": "address_2",
    "AddressLine3": "address_3", "AddressLine4": "address_4", "PostCode": "postcode", "RatingValue": "rating_value",
    "RatingDate": "rating_date", "LocalAuthorityName": "authority", "Longitude": "longitude", "Latitude": "latitude",
}


def read_fhrs_xml(source: SourceConfig, paths: list[Path]) -> ReadResult:
    result = ReadResult(source.name)
    for path in paths:
        _read_fhrs_xml_file(source, path, result)
    return result


def _read_fhrs_xml_file(source: SourceConfig, path: Path, result: ReadResult) -> None:
    data = read_bytes(path)
    stats = FileStats(str(path))
    log = QuarantineLog(source.name, path, result, stats)
    parser = xml.parsers.expat.ParserCreate()
    state: dict[str, object] = {"cells": None, "line": 0, "extract": None, "root": None}
    text_parts: list[str] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        if state["root"] is None:
            state["root"] = name
        if name == "EstablishmentDetail":
            state["cells"] = {}
            state["line"] = parser.CurrentLineNumber
        text_parts.clear()

    def end(name: str) -> None:
        text = "".join(text_parts).strip()
        cells = state["cells"]
        if name == "ExtractDate":
            state["extract"] = text
        elif isinstance(cells, dict) and name in _FHRS_XML_FIELDS:
            cells[_FHRS_XML_FIELDS[name]] = text
        elif name == "EstablishmentDetail" and isinstance(cells, dict):
            stats.read += 1
            if state["extract"]:
                cells["extract_date"] = str(state["extract"])
            line = int(state["line"])  # type: ignore[call-overload]
            try:
                result.business_records.append(_establishment(source, cells, log.lineage(line)))
                stats.loaded += 1
            except (FieldValueProblem, ValueProblem) as problem:
                field_name = getattr(problem, "field_name", None)
                log.reject(line, field_name, str(problem), repr(cells)[:500])
            state["cells"] = None
        text_parts.clear()

    def characters(text: str) -> None:
        text_parts.append(text)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        raise SourceFileError(path, f"not well-formed XML at line {exc.lineno}: {xml.parsers.expat.ErrorString(exc.code)}"
                              f" ({stats.read} establishments read before it)") from exc
    if state["root"] != "FHRSEstablishment":
        raise SourceFileError(path, f"not an FSA FHRS XML file (root element {state['root']!r})")
    result.files.append(stats)
