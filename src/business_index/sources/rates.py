"""Business rates: council NDR account exports (headed CSV, columns by synonym) and the VOA
rating list entries ('*'-delimited, no header).

The NDR property reference (billing-authority reference) is the key the LLPG cross references
hold; it is kept as text with the Excel apostrophe removed, because leading zeros matter.
"""

from __future__ import annotations

import csv
import re
from functools import partial
from pathlib import Path

from business_index.config import SourceConfig
from business_index.records import BusinessRecord, BusinessRecordType, SourceKind
from business_index.sources.base import (
    QuarantineLog,
    ReadResult,
    SourceFileError,
    iter_delimited,
    open_lines,
)
from business_index.sources.tabular import FieldValueProblem, TableRow, field_value, read_table
from business_index.sources.values import clean_text, parse_date, parse_money, parse_reference, parse_uprn

NDR_SYNONYMS: dict[str, tuple[str, ...]] = {
    "property_ref": ("propertyreferencenumber", "propertyreference", "propertyref", "propertyrefno", "placeref",
                     "billingauthorityreferencenumber", "billingauthorityreference", "bareference", "baref",
                     "propref"),
    "account_ref": ("accountnumber", "accountreference", "accountref", "accountno", "account"),
    "ratepayer": ("primaryliablepartyname", "foiname", "liablepartyname", "ratepayername", "ratepayer",
                  "accountholder", "accountname", "leadliable", "leadliablename", "occupiername", "name"),
    "trading_name": ("tradingname", "firmstradingname", "tradingas"),
    "address_full": ("fullpropertyaddress", "propertyaddress", "propaddress"),
    "address_1": ("propaddress1", "propertyaddress1", "propertyaddressline1", "propaddr1"),
    "address_2": ("propaddress2", "propertyaddress2", "propertyaddressline2", "propaddr2"),
    "address_3": ("propaddress3", "propertyaddress3", "propertyaddressline3", "propaddr3"),
    "address_4": ("propaddress4", "propertyaddress4", "propertyaddressline4", "propaddr4"),
    "address_5": ("propaddress5", "propertyaddress5", "propertyaddressline5", "propaddr5"),
    "postcode": ("proppostcode", "propertypostcode", "postcode"),
    "description": ("propdesc", "propertydescription", "description", "primarydescription"),
    "analysis_code": ("analysiscode", "voacode", "primarydescriptioncode"),
    "rateable_value": ("currentrateablevalue", "rateableval", "rateablevalue", "rv"),
    "start_date": ("accountstartdate", "liabstart", "startdateofliability", "liabilitystartdate",
                   "occupationdate", "startdate"),
    "end_date": ("accountenddate", "liabend", "liabilityenddate", "enddate"),
    "exemption": ("currentpropertyexemptioncode", "exemcd", "exemptioncode"),
    "relief": ("currentrelieftype", "mandrlfcd", "relieftype"),
    "uprn": ("uprn",),
}
ADDRESS_FIELDS = ("address_1", "address_2", "address_3", "address_4", "address_5")
WITHHELD_MARKERS = re.compile(
    r"^(personal details not supplied|name withheld|withheld|redacted|private individual|"
    r"not supplied|information withheld|\*+|x+)$", re.IGNORECASE)


def is_withheld(name: str | None) -> bool:
    """Blank, or one of the markers councils publish in place of an individual's name."""
    return name is None or not name.strip() or bool(WITHHELD_MARKERS.match(name.strip()))


def read_ndr(source: SourceConfig, paths: list[Path]) -> ReadResult:
    result = ReadResult(source.name)
    for path in paths:
        read_table(source, path, result, NDR_SYNONYMS, ("property_ref",),
                   partial(_ndr_record, source), "an NDR (business rates) export")
    return result


def _ndr_record(source: SourceConfig, row: TableRow, log: QuarantineLog) -> BusinessRecord:
    property_ref = parse_reference(row.get("property_ref"))
    if not property_ref:
        raise FieldValueProblem("property_ref", "no property reference")
    account_ref = parse_reference(row.get("account_ref"))
    ratepayer = row.get("ratepayer")
    withheld = is_withheld(ratepayer)
    lines = tuple(t for t in (clean_text(row.get(f)) for f in ADDRESS_FIELDS) if t)
    date_of = partial(parse_date, order=source.date_order)
    extra = {k: v for k in ("analysis_code", "exemption", "relief") if (v := clean_text(row.get(k)))}
    return BusinessRecord(
        lineage=log.lineage(row.line),
        source_kind=source.kind,
        record_type=BusinessRecordType.NDR_ACCOUNT,
        # the account number when the export has one; else the property reference and the row
        # number (a property repeats for successive ratepayers)
        source_record_id=account_ref or f"{property_ref}:{row.number}",
        name=None if withheld else clean_text(ratepayer),
        trading_name=clean_text(row.get("trading_name")),
        holder_name=None if withheld else clean_text(ratepayer),
        holder_is_individual=withheld,
        name_withheld=withheld,
        address_lines=lines,
        address_text=clean_text(row.get("address_full")) or (", ".join(lines) if lines else None),
        postcode=clean_text(row.get("postcode")),
        uprn=field_value("uprn", parse_uprn, row.get("uprn")),  # type: ignore[arg-type]
        property_ref=property_ref,
        account_ref=account_ref,
        description=clean_text(row.get("description")),
        rateable_value=field_value("rateable_value", parse_money, row.get("rateable_value")),  # type: ignore[arg-type]
        start_date=field_value("start_date", date_of, row.get("start_date")),  # type: ignore[arg-type]
        end_date=field_value("end_date", date_of, row.get("end_date")),  # type: ignore[arg-type]
        extra=extra,
    )


# VOA list entries: 0-based positions (formats.md s.6)
VOA_FIELDS = ("entry_number", "billing_authority_code", "community_code", "ba_reference", "description_code",
              "description", "uarn", "full_property_identifier", "firms_name", "number_or_name", "street", "town",
              "postal_district", "county", "postcode", "effective_date", "composite", "rateable_value",
              "appeal_code", "assessment_reference", "alteration_date", "scat_code", "sub_street_3",
              "sub_street_2", "sub_street_1", "case_number", "current_from_date", "current_to_date")


def read_voa(source: SourceConfig, paths: list[Path]) -> ReadResult:
    result = ReadResult(source.name)
    for path in paths:
        _read_voa_file(source, path, result)
    return result


def _read_voa_file(source: SourceConfig, path: Path, result: ReadResult) -> None:
    lines, stats, log = open_lines(source.name, path, result, source.encoding or "latin-1")
    encoding = stats.encoding
    width = len(VOA_FIELDS)
    for record in iter_delimited(lines, delimiter="*", quoting=csv.QUOTE_NONE, encoding=encoding):
        stats.read += 1
        fields = record.fields
        if fields is None:
            log.reject(record.line, None, record.problem or "unreadable", record.raw)
            continue
        if len(fields) == width + 1 and fields[-1] == "":
            fields = fields[:-1]  # every line ends with '*'
        if len(fields) != width:
            if stats.loaded == 0 and stats.quarantined >= 9:
                raise SourceFileError(path, "not a VOA list-entries file: rows do not have 28 '*'-separated fields")
            log.reject(record.line, None, f"row has {len(fields)} '*'-separated fields; expected {width}", record.raw)
            continue
        cells = dict(zip(VOA_FIELDS, fields, strict=True))
        try:
            business = _voa_record(source, cells, log.lineage(record.line))
        except FieldValueProblem as problem:
            log.reject(record.line, problem.field_name, str(problem), record.raw)
            continue
        result.business_records.append(business)
        stats.loaded += 1
    result.files.append(stats)


def _voa_record(source: SourceConfig, cells: dict[str, str], lineage) -> BusinessRecord:  # type: ignore[no-untyped-def]
    ba_reference = parse_reference(cells["ba_reference"])
    if not ba_reference:
        raise FieldValueProblem("ba_reference", "no billing-authority reference")
    uarn = clean_text(cells["uarn"])
    lines = tuple(t for t in (clean_text(cells[k]) for k in ("number_or_name", "street", "town", "postal_district",
                                                              "county")) if t)
    extra = {k: v for k in ("uarn", "scat_code", "description_code", "billing_authority_code")
             if (v := clean_text(cells[k]))}
    firm = clean_text(cells["firms_name"])
    return BusinessRecord(
        lineage=lineage,
        source_kind=SourceKind(source.kind),
        record_type=BusinessRecordType.VOA_LIST_ENTRY,
        source_record_id=uarn or f"entry:{clean_text(cells['entry_number'])}",
        name=firm,
        address_lines=lines,
        address_text=clean_text(cells["full_property_identifier"]),
        postcode=clean_text(cells["postcode"]),
        property_ref=ba_reference,
        description=clean_text(cells["description"]),
        rateable_value=field_value("rateable_value", parse_money, cells["rateable_value"]),  # type: ignore[arg-type]
        start_date=field_value("effective_date", parse_date, cells["effective_date"]),  # type: ignore[arg-type]
        end_date=field_value("current_to_date", parse_date, cells["current_to_date"]),  # type: ignore[arg-type]
        extra=extra,
    )
