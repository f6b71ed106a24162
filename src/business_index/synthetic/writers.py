"""Render the imagined borough through each council system's eyes, in the formats councils hold.

Each writer returns the ground truth of what it wrote: for every business record, the file, the
line, its id in its own system, its true UPRN and its true business.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from business_index.sources.gazetteer_layouts import ABP, ABP_METADATA, DTF73, HEADER, TRAILER, Layout
from business_index.synthetic.borough import AS_OF, CHANGE_DATE, Borough, Business, Occupancy, Property
from business_index.synthetic.messiness import (
    EIGHTEEN_WAYS,
    title,
    trading_as,
    vary_name,
    vary_number,
    vary_street,
    vary_sub_address,
)
from business_index.synthetic.places import HACKNEY, Place
from business_index.synthetic.vocab import LICENCE_TYPES, VOA_DESCRIPTIONS

WITHHELD = ("", "Personal details not supplied", "PERSONAL DETAILS NOT SUPPLIED", "Name withheld")


@dataclass(slots=True)
class TruthRow:
    source: str
    file: str
    line: int
    source_record_id: str
    true_uprn: int | None
    true_business_id: str | None


# --------------------------------------------------------------------------------------------------
# Gazetteer (LLPG) in DTF 7.3 and AddressBase Premium layouts


def _quote(value: object) -> str:
    return "" if value is None else '"' + str(value).replace('"', '""') + '"'


def _plain(value: object) -> str:
    return "" if value is None else str(value)


def _two_decimals(value: object) -> str:
    return "" if value is None else f"{value:.2f}"


def _iso(value: object) -> str:
    return "" if value is None else value.isoformat() if isinstance(value, date) else str(value)


_FORMATTERS = {"text": _quote, "int": _plain, "float": _two_decimals, "date": _iso, "time": _plain}
_COMPILED: dict[Layout, tuple] = {}


def _formatters(layout: Layout) -> tuple:
    compiled = _COMPILED.get(layout)
    if compiled is None:
        compiled = _COMPILED[layout] = tuple((name, _FORMATTERS[kind]) for name, kind in layout.fields)
    return compiled


class _GazetteerFile:
    """Writes rows by field name through a layout, keeping PRO_ORDER and the trailer count."""

    def __init__(self, path: Path, fmt: str, custodian: str, file_type: str, supply_date: date,
                 place: Place = HACKNEY):
        self.handle = path.open("w", encoding="utf-8", newline="")
        self.fmt = fmt
        self.order = 0
        self.count = 0
        header = {"RECORD_IDENTIFIER": 10, "CUSTODIAN_NAME": place.council,
                  "LOCAL_CUSTODIAN_CODE": int(custodian), "PROCESS_DATE": supply_date, "VOLUME_NUMBER": 1,
                  "ENTRY_DATE": supply_date, "TIME_STAMP": "02:15:00", "VERSION": "7.3" if fmt == "dtf73" else "1.0",
                  "FILE_TYPE": file_type}
        self._line(HEADER, header)
        if fmt == "abp":
            meta: dict[str, object] = {name: None for name in ABP_METADATA.names}
            meta.update(RECORD_IDENTIFIER=29, GAZ_NAME="AddressBase Premium (synthetic)",
                        GAZ_SCOPE=place.administrative_area.title(),
                        CUSTODIAN_NAME=place.council, LOCAL_CUSTODIAN_CODE=custodian,
                        CO_ORD_SYSTEM="British National Grid", CO_ORD_UNIT="METRE", META_DATE=str(supply_date),
                        CLASS_SCHEME="AddressBase Premium Classification Scheme", LANGUAGE="ENG",
                        CHARACTER_SET="UTF-8")
            self._line(ABP_METADATA, meta)
        self.supply_date = supply_date

    def _line(self, layout: Layout, values: dict) -> None:
        get = values.get
        self.handle.write(",".join([fmt(get(name)) for name, fmt in _formatters(layout)]) + "\n")

    def write(self, record_type: int, change: str, values: dict) -> None:
        layout = (DTF73 if self.fmt == "dtf73" else ABP)[record_type]
        self.order += 1
        self.count += 1
        values["RECORD_IDENTIFIER"] = record_type
        values["CHANGE_TYPE"] = change
        values["PRO_ORDER"] = self.order
        self._line(layout, values)

    def close(self) -> None:
        self._line(TRAILER, {"RECORD_IDENTIFIER": 99, "NEXT_VOLUME_NUMBER": 0, "RECORD_COUNT": self.count,
                             "ENTRY_DATE": self.supply_date, "TIME_STAMP": "02:15:00"})
        self.handle.close()


def _street_values(street, fmt: str, custodian: str) -> dict:  # type: ignore[no-untyped-def]
    return {"USRN": street.usrn, "RECORD_TYPE": 1, "SWA_ORG_REF_NAMING": int(custodian), "STATE": 2,
            "STATE_DATE": date(1990, 1, 1), "STREET_SURFACE": 1, "STREET_CLASSIFICATION": 8, "VERSION": 1,
            "RECORD_ENTRY_DATE": date(1995, 4, 1), "LAST_UPDATE_DATE": date(2020, 1, 1),
            "STREET_START_DATE": date(1990, 1, 1), "STREET_START_X": street.x0, "STREET_START_Y": street.y0,
            "STREET_END_X": street.x1, "STREET_END_Y": street.y1, "STREET_TOLERANCE": 10}


def _descriptor_values(street, place: Place) -> dict:  # type: ignore[no-untyped-def]
    return {"USRN": street.usrn, "STREET_DESCRIPTOR": street.name, "LOCALITY_NAME": street.locality,
            "TOWN_NAME": street.town, "ADMINISTRATIVE_AREA": place.administrative_area, "LANGUAGE": "ENG",
            "START_DATE": date(1990, 1, 1), "LAST_UPDATE_DATE": date(2020, 1, 1), "ENTRY_DATE": date(1995, 4, 1)}


def _latlon(x: float, y: float) -> tuple[float, float]:
    # A local linear approximation of the BNG -> WGS84 transform around Hackney; good to a few metres
    # there and to a few kilometres at the far ends of England (boroughs placed elsewhere), which is
    # all a synthetic borough needs.
    return round(51.5455 + (y - 185000) / 111_250, 7), round(-0.0550 + (x - 534500) / 69_400, 7)


def _blpu_values(prop: Property, fmt: str, organisation: str | None, postcode: str, place: Place) -> dict:
    lat, lon = _latlon(prop.x, prop.y)
    values = {"UPRN": prop.uprn, "LOGICAL_STATUS": prop.logical_status, "BLPU_STATE": prop.blpu_state,
              "BLPU_STATE_DATE": prop.start_date, "PARENT_UPRN": prop.parent_uprn, "X_COORDINATE": prop.x,
              "Y_COORDINATE": prop.y, "RPC": 1, "LOCAL_CUSTODIAN_CODE": int(place.custodian_code),
              "START_DATE": prop.start_date, "END_DATE": prop.end_date,
              "LAST_UPDATE_DATE": prop.end_date or prop.start_date, "ENTRY_DATE": prop.start_date}
    if fmt == "dtf73":
        values.update(BLPU_CLASS=prop.classification[:4], ORGANISATION=organisation, WARD_CODE=place.ward_code)
    else:
        values.update(LATITUDE=lat, LONGITUDE=lon, COUNTRY="E", ADDRESSBASE_POSTAL="D" if not prop.parent_uprn else "C",
                      POSTCODE_LOCATOR=postcode, MULTI_OCC_COUNT=0)
    return values


def _lpi_values(prop: Property, lpi, fmt: str, postcode: str) -> dict:  # type: ignore[no-untyped-def]
    values = {"UPRN": prop.uprn, "LPI_KEY": lpi.key, "LANGUAGE": "ENG", "LOGICAL_STATUS": lpi.logical_status,
              "START_DATE": lpi.start_date, "END_DATE": lpi.end_date, "ENTRY_DATE": lpi.start_date,
              "LAST_UPDATE_DATE": lpi.end_date or lpi.start_date, "SAO_START_NUMBER": lpi.sao_start,
              "SAO_START_SUFFIX": lpi.sao_suffix, "SAO_END_NUMBER": lpi.sao_end, "SAO_TEXT": lpi.sao_text,
              "PAO_START_NUMBER": lpi.pao_start, "PAO_START_SUFFIX": lpi.pao_suffix, "PAO_END_NUMBER": lpi.pao_end,
              "PAO_END_SUFFIX": lpi.pao_end_suffix, "PAO_TEXT": lpi.pao_text, "USRN": prop.street.usrn,
              "LEVEL": lpi.level, "OFFICIAL_FLAG": lpi.official}
    if fmt == "dtf73":
        values.update(POSTAL_ADDRESS="Y", POSTCODE=postcode, POST_TOWN=prop.street.town)
    else:
        values.update(USRN_MATCH_INDICATOR="1")
    return values


def _xref_values(uprn: int, key: str, source: str, reference: str, start: date, end: date | None = None) -> dict:
    return {"UPRN": uprn, "XREF_KEY": key, "CROSS_REFERENCE": reference, "SOURCE": source, "VERSION": None,
            "START_DATE": start, "END_DATE": end, "LAST_UPDATE_DATE": start, "ENTRY_DATE": start}


def write_gazetteer(borough: Borough, fmt: str, full_path: Path, change_path: Path) -> dict[str, int]:
    """Write the full supply and the change-only update in one layout; returns row counts."""
    cc = borough.custodian_code
    place = borough.place
    full = _GazetteerFile(full_path, fmt, cc, "F", AS_OF, place)
    in_full = [p for p in borough.properties if p.in_full_supply]
    org_keys = {p.uprn: f"{cc}O{i:09d}" for i, p in enumerate(borough.properties, 1)}
    class_keys = {p.uprn: f"{cc}C{i:09d}" for i, p in enumerate(borough.properties, 1)}
    streets_in_use = {p.street.usrn for p in borough.properties}
    for street in borough.streets:
        if street.usrn in streets_in_use:
            full.write(11, "I", _street_values(street, fmt, cc))
    for street in borough.streets:
        if street.usrn in streets_in_use:
            full.write(15, "I", _descriptor_values(street, place))
    for prop in in_full:
        full.write(21, "I", _blpu_values(prop, fmt, prop.organisation_in_full, prop.postcode_in_full or prop.postcode,
                                         place))
    for prop in in_full:
        if prop.ndr_xref_key:
            full.write(23, "I", _xref_values(prop.uprn, prop.ndr_xref_key, borough.ndr_source_code, prop.ndr_ref or "",
                                              prop.start_date))
        for key, source, reference in prop.other_xrefs:
            full.write(23, "I", _xref_values(prop.uprn, key, source, reference, prop.start_date))
    for prop in in_full:
        postcode = prop.postcode_in_full or prop.postcode
        full.write(24, "I", _lpi_values(prop, prop.lpi, fmt, postcode))
        for other in prop.other_lpis:
            full.write(24, "I", _lpi_values(prop, other, fmt, postcode))
    if fmt == "abp":
        for prop in in_full:
            if prop.organisation_in_full:
                full.write(31, "I", _org_values(prop, org_keys[prop.uprn], prop.organisation_in_full))
        for prop in in_full:
            full.write(32, "I", _class_values(prop, class_keys[prop.uprn]))
        for i, prop in enumerate(p for p in in_full if p.organisation_in_full and p.commercial):
            if i % 3 == 0:  # Royal Mail knows some of the organisations too
                full.write(28, "I", _delivery_point_values(prop, 50_000_000 + borough.number * 2_000_000 + i))
    full.close()

    change = _GazetteerFile(change_path, fmt, cc, "C", CHANGE_DATE, place)
    for prop in borough.properties:
        if not prop.in_full_supply:
            change.write(21, "I", _blpu_values(prop, fmt, prop.organisation, prop.postcode, place))
            change.write(24, "I", _lpi_values(prop, prop.lpi, fmt, prop.postcode))
            if prop.ndr_xref_key:
                change.write(23, "I", _xref_values(prop.uprn, prop.ndr_xref_key, borough.ndr_source_code,
                                                   prop.ndr_ref or "", prop.start_date))
            if fmt == "abp":
                change.write(32, "I", _class_values(prop, class_keys[prop.uprn]))
                if prop.organisation:
                    change.write(31, "I", _org_values(prop, org_keys[prop.uprn], prop.organisation))
            continue
        if prop.organisation != prop.organisation_in_full:
            if fmt == "dtf73":
                change.write(21, "U", _blpu_values(prop, fmt, prop.organisation, prop.postcode, place))
            else:
                kind = "U" if prop.organisation_in_full else "I"
                change.write(31, kind, _org_values(prop, org_keys[prop.uprn], prop.organisation or ""))
        if prop.postcode_in_full:
            if fmt == "dtf73":
                change.write(24, "U", _lpi_values(prop, prop.lpi, fmt, prop.postcode))
            else:
                change.write(21, "U", _blpu_values(prop, fmt, prop.organisation, prop.postcode, place))
        if prop.deleted_by_update:
            # half the deletes name their cross references explicitly; the rest rely on the cascade
            if prop.uprn % 2 == 0:
                for key, source, reference in prop.other_xrefs:
                    change.write(23, "D", _xref_values(prop.uprn, key, source, reference, prop.start_date))
            change.write(21, "D", _blpu_values(prop, fmt, None, prop.postcode, place))
    change.close()
    return {"full_rows": full.count, "change_rows": change.count}


def _org_values(prop: Property, key: str, name: str) -> dict:
    return {"UPRN": prop.uprn, "ORG_KEY": key, "ORGANISATION": name, "LEGAL_NAME": None,
            "START_DATE": prop.start_date, "LAST_UPDATE_DATE": CHANGE_DATE, "ENTRY_DATE": prop.start_date}


def _class_values(prop: Property, key: str) -> dict:
    return {"UPRN": prop.uprn, "CLASS_KEY": key, "CLASSIFICATION_CODE": prop.classification,
            "CLASS_SCHEME": "AddressBase Premium Classification Scheme", "SCHEME_VERSION": "1.0",
            "START_DATE": prop.start_date, "LAST_UPDATE_DATE": prop.start_date, "ENTRY_DATE": prop.start_date}


def _delivery_point_values(prop: Property, udprn: int) -> dict:
    return {"UPRN": prop.uprn, "UDPRN": udprn, "ORGANISATION_NAME": prop.organisation_in_full,
            "SUB_BUILDING_NAME": prop.lpi.sao_text, "BUILDING_NAME": prop.lpi.pao_text,
            "BUILDING_NUMBER": prop.lpi.pao_start, "THOROUGHFARE": prop.street.name, "POST_TOWN": prop.street.town,
            "POSTCODE": prop.postcode, "POSTCODE_TYPE": "S", "DELIVERY_POINT_SUFFIX": "1A",
            "PROCESS_DATE": AS_OF, "START_DATE": prop.start_date, "LAST_UPDATE_DATE": AS_OF, "ENTRY_DATE": prop.start_date}


# --------------------------------------------------------------------------------------------------
# How a clerk writes an address


def _number_token(rng: random.Random, prop: Property) -> str:
    lpi = prop.lpi
    return vary_number(rng, lpi.pao_start, lpi.pao_suffix, lpi.pao_end, lpi.pao_end_suffix)


def messy_address_lines(rng: random.Random, prop: Property, mess: float = 1.0,
                        place: Place = HACKNEY) -> tuple[list[str], str]:
    """Address lines and postcode as a council system might hold them for ``prop`` (in ``place``)."""
    lpi = prop.lpi
    sao = vary_sub_address(rng, lpi.sao_text, str(lpi.sao_start or "")) if (lpi.sao_text or lpi.sao_start) else ""
    street = title(vary_street(rng, prop.street.name, mess))
    number = _number_token(rng, prop)
    lines: list[str] = []
    if sao:
        lines.append(sao)
    if lpi.pao_text:
        lines.append(title(lpi.pao_text))
    if number and rng.random() < 0.08 * mess:
        lines += [number, street]  # number on a line of its own
    else:
        lines.append(f"{number} {street}".strip())
    if sao and len(lines) >= 2 and rng.random() < 0.15 * mess:  # merged lines
        lines[0:2] = [f"{lines[0]} {lines[1]}"]
    if prop.street.locality and rng.random() < 0.5:
        lines.append(title(prop.street.locality))
    if rng.random() < 0.6:
        lines.append(rng.choice(place.town_as_written))
    if len(lines) > 2 and rng.random() < 0.04 * mess:  # reordered lines
        lines[-1], lines[-2] = lines[-2], lines[-1]
    return lines, messy_postcode(rng, prop, mess)


def messy_postcode(rng: random.Random, prop: Property, mess: float = 1.0) -> str:
    roll = rng.random()
    postcode = prop.postcode
    if roll < 0.06 * mess:
        return ""
    if roll < 0.10 * mess and len(prop.street.postcodes) > 1:
        return rng.choice([pc for pc in prop.street.postcodes if pc != postcode])  # a neighbouring postcode
    if roll < 0.12 * mess:
        outward, inward = postcode.split(" ")
        return f"{outward} {inward[0]}{inward[2]}{inward[1]}"  # letters swapped
    if roll < 0.18:
        return postcode.replace(" ", "")
    if roll < 0.20:
        return postcode.lower()
    return postcode


# --------------------------------------------------------------------------------------------------
# Names each system records


def _name_for(rng: random.Random, business: Business, when: date, role: str, mess: float = 1.0,
              occ: Occupancy | None = None) -> str:
    """The name a system records for ``business`` as of ``when``; role is ratepayer/trading/holder
    (at the premises of ``occ``, which may trade under a name of its own)."""
    trading = occ.trades_as() if occ is not None else business.trading_name
    if business.former_trading_name and business.renamed_on and when < business.renamed_on:
        trading = business.former_trading_name
    if role == "trading":
        return vary_name(rng, trading, mess)
    if business.kind == "sole_trader":
        if role == "holder":
            return business.proprietor or trading
        return trading_as(rng, business.proprietor or "", trading) if rng.random() < 0.5 else vary_name(rng, trading, mess)
    if business.kind == "partnership":
        return f"{business.proprietor} t/a {trading}" if rng.random() < 0.5 else business.proprietor or trading
    return vary_name(rng, business.legal_name or trading, mess)


class EighteenWays:
    """Hands out the supplier's 18 spellings, one per record, in a fixed order.

    Each writer starts at its own offset (NDR 0, VOA 3, licensing 6: the supplier has three premises,
    one NDR account and one VOA entry each, and four licences at each), so writers can run apart.
    """

    OFFSETS = {"ndr": 0, "voa": 3, "licensing": 6}

    def __init__(self, borough: Borough, writer: str):
        case = borough.cases.get("eighteen_way_supplier")
        self.business_id = case["business_id"] if isinstance(case, dict) else None
        self.next = self.OFFSETS[writer]

    def take(self, business: Business) -> str | None:
        if business.business_id != self.business_id or self.next >= len(EIGHTEEN_WAYS):
            return None
        _, spell = EIGHTEEN_WAYS[self.next]
        self.next += 1
        legal = business.legal_name or business.trading_name
        return spell(business.trading_name, legal, business.proprietor or "")


def _fmt_date(rng: random.Random, value: date | None) -> str:
    """NDR exports mix ISO dates, UK dates and Excel serial day numbers."""
    if value is None:
        return ""
    roll = rng.random()
    if roll < 0.55:
        return value.isoformat()
    if roll < 0.85:
        return value.strftime("%d/%m/%Y")
    return str((value - date(1899, 12, 30)).days)


# --------------------------------------------------------------------------------------------------
# Business rates: the council's NDR export and the VOA list entries

NDR_HEADER = ["Property Reference Number", "Account Number", "Primary Liable party name", "Trading Name",
              "Property Address 1", "Property Address 2", "Property Address 3", "Property Address 4",
              "Property Postcode", "Analysis Code", "Property Description", "Current Rateable Value",
              "Account Start date", "Account End Date", "Current Relief Type", "Current Property Exemption Code"]


def _rated_occupancies(borough: Borough) -> Iterator[Occupancy]:
    for prop in sorted((p for p in borough.properties if p.ndr_ref), key=lambda p: p.ndr_ref or ""):
        yield from prop.occupancies


def write_ndr(borough: Borough, path: Path, rng: random.Random, eighteen: EighteenWays) -> list[TruthRow]:
    truth: list[TruthRow] = []
    rel = path.name
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(NDR_HEADER)
        line = 1
        for occ in _rated_occupancies(borough):
            prop, business = occ.property, occ.business
            if occ.end is not None and rng.random() < 0.4:
                continue  # closed accounts are only partly kept in the export
            special = eighteen.take(business)
            withheld = business.kind == "sole_trader" and rng.random() < 0.7
            ratepayer = special or ("" if withheld else _name_for(rng, business, occ.start, "ratepayer"))
            if withheld:
                ratepayer = rng.choice(WITHHELD)
            trading_name = _name_for(rng, business, AS_OF, "trading", 0.6, occ) if rng.random() < 0.35 else ""
            lines, postcode = messy_address_lines(rng, prop, place=borough.place)
            lines = (lines + ["", "", "", ""])[:4] if len(lines) <= 4 else lines[:3] + [", ".join(lines[3:])]
            code, desc, _ = VOA_DESCRIPTIONS.get(prop.classification, ("CS", "SHOP AND PREMISES", "249"))
            rv = rng.randrange(20, 900) * 100
            money = f"£{rv:,}" if rng.random() < 0.7 else str(rv)
            exemption = "EPRN" if business.kind == "landlord" else ""
            relief = "Small Business Relief England" if rv < 15000 and rng.random() < 0.6 else ""
            ref = prop.ndr_ref or ""
            writer.writerow([("'" if rng.random() < 0.5 else "") + ref, occ.account_ref, ratepayer, trading_name,
                             *lines, postcode, code, desc, money, _fmt_date(rng, occ.start), _fmt_date(rng, occ.end),
                             relief, exemption])
            line += 1
            truth.append(TruthRow("ndr", rel, line, occ.account_ref, prop.uprn, business.business_id))
        # hereditaments with no property in the gazetteer: advertising rights and a market pitch
        for i, street in enumerate(borough.streets[: max(len(borough.streets) // 20, 1)]):
            advertiser = borough.advertiser
            assert advertiser is not None
            n = borough.number * 1_000_000 + i  # each borough of a dataset numbers its own
            account = f"7{n:08d}"
            writer.writerow([f"'9{n:08d}", account, advertiser.legal_name, "", f"Advertising Right Adj {i + 1}",
                             title(street.name), title(street.town), "", street.postcodes[0], "MX", "ADVERTISING RIGHT",
                             "£1,250", "2019-04-01", "", "", ""])
            line += 1
            truth.append(TruthRow("ndr", rel, line, account, None, advertiser.business_id))
        # cash machines rated apart from the shops that host them
        for ancillary in borough.ancillaries:
            host = ancillary.host
            lines, postcode = messy_address_lines(rng, host, place=borough.place)
            lines = (["ATM At"] + lines + ["", "", ""])[:4]
            writer.writerow([f"'{ancillary.ndr_ref}", ancillary.account_ref, ancillary.operator.legal_name, "",
                             *lines, postcode, "MX", "SELF SERVICE ATM AND PREMISES", "£2,750",
                             _fmt_date(rng, ancillary.start), "", "", ""])
            line += 1
            truth.append(TruthRow("ndr", rel, line, ancillary.account_ref, host.uprn, ancillary.operator.business_id))
    return truth


def write_voa(borough: Borough, path: Path, rng: random.Random, eighteen: EighteenWays) -> list[TruthRow]:
    """The VOA list entries file: '*'-delimited, no header, 28 fields and a trailing '*'."""
    truth: list[TruthRow] = []
    rel = path.name
    entry = 0
    with path.open("w", encoding="latin-1", errors="replace", newline="") as handle:
        for prop in sorted((p for p in borough.properties if p.ndr_ref), key=lambda p: p.ndr_ref or ""):
            current = [o for o in prop.occupancies if o.end is None]
            occ = current[-1] if current else None
            firm = ""
            business_id = None
            if occ is not None:
                special = eighteen.take(occ.business)
                if special or (occ.business.kind != "landlord" and rng.random() < 0.3):
                    firm = (special or _name_for(rng, occ.business, AS_OF, "trading", 0.5, occ)).upper()
                    business_id = occ.business.business_id
            code, desc, scat = VOA_DESCRIPTIONS.get(prop.classification, ("CS", "SHOP AND PREMISES", "249"))
            lpi = prop.lpi
            number_or_name = " ".join(x for x in (lpi.sao_text or (str(lpi.sao_start) if lpi.sao_start else ""),
                                                  lpi.pao_text or "",
                                                  vary_number(rng, lpi.pao_start, lpi.pao_suffix, lpi.pao_end, None)) if x)
            full_identifier = ", ".join(x for x in (number_or_name, prop.street.name, prop.street.town, prop.postcode)
                                        if x)
            entry += 1
            fields = [str(entry), borough.custodian_code, "", prop.ndr_ref or "", code, desc, str(prop.uarn),
                      full_identifier, firm, number_or_name, prop.street.name, prop.street.town,
                      borough.place.administrative_area, "", prop.postcode,
                      "01-APR-2023", "", str(rng.randrange(20, 900) * 100), "", f"{rng.randrange(10**7, 10**8)}",
                      "01-APR-2023", scat + "G", "", "", "", "", "01-APR-2023", ""]
            handle.write("*".join(fields) + "*\n")
            truth.append(TruthRow("voa", rel, entry, str(prop.uarn), prop.uprn, business_id))
    return truth


# --------------------------------------------------------------------------------------------------
# Licensing: a Civica APP style export

LICENSING_HEADER = ["Licence Number", "Licence Type", "Status", "Trading Name", "Licence Holder", "Holder Type",
                    "Premises Address", "Postcode", "UPRN", "Issue Date", "Expiry Date", "Last Seen Date"]


def write_licensing(borough: Borough, path: Path, rng: random.Random, eighteen: EighteenWays) -> list[TruthRow]:
    truth: list[TruthRow] = []
    rel = path.name
    live = {p.uprn: p for p in borough.properties}
    parent_of_only_child = _parents_with_one_commercial_child(borough)
    number = borough.number * 10_000_000  # licence numbers of the boroughs of one dataset never meet
    supplier_id = eighteen.business_id
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(LICENSING_HEADER)
        line = 1
        for occ in borough.occupancies:
            prop, business = occ.property, occ.business
            types = LICENCE_TYPES.get(prop.classification)
            if business.business_id == supplier_id:
                types = ("Food Business Registration", "Premises Licence", "Scrap Metal Dealer", "Shop Front Trading")
                n_licences = 4
            elif not types or business.kind == "landlord":
                continue
            else:
                chance = 0.75 if occ.end is None else 0.45
                n_licences = 0 if rng.random() > chance else (1 if rng.random() < 0.65 else 2)
            for k in range(n_licences):
                number += 1
                issued = occ.start + timedelta(days=rng.randrange(0, 200))
                if business.renamed_on and k == 0 and occ.start < business.renamed_on:
                    issued = min(issued, business.renamed_on - timedelta(days=30))
                end = occ.end or AS_OF
                last_seen = end - timedelta(days=rng.randrange(0, 250))
                last_seen = max(last_seen, issued)
                if business.renamed_on and k > 0 and occ.end is None:
                    issued = max(issued, business.renamed_on)
                    last_seen = max(last_seen, issued)
                expiry = issued + timedelta(days=365 * rng.choice((1, 3, 5, 10)))
                status = "Current" if occ.end is None and expiry > AS_OF else rng.choice(("Expired", "Surrendered",
                                                                                          "Lapsed", "Revoked"))
                special = eighteen.take(business)
                trading = special or _name_for(rng, business, last_seen, "trading", 0.7, occ)
                if occ.branch and rng.random() < 0.5:
                    trading = f"{trading} - {occ.branch}" if rng.random() < 0.5 else f"{trading} ({occ.branch})"
                holder_type = "Individual" if business.kind in ("sole_trader", "partnership") else "Company"
                holder = _name_for(rng, business, last_seen, "holder", 0.5)
                lines, postcode = messy_address_lines(rng, prop, 0.8, borough.place)
                address = ", ".join(lines)
                if postcode and rng.random() < 0.3:
                    address = f"{address}, {postcode}"
                    postcode = "" if rng.random() < 0.5 else postcode
                uprn_text = ""
                roll = rng.random()
                if roll < 0.84:
                    uprn_text = str(prop.uprn)
                elif roll < 0.85 and prop.parent_uprn in parent_of_only_child:
                    uprn_text = str(prop.parent_uprn)  # recorded against the building, not the unit
                elif roll < 0.86:
                    uprn_text = str(prop.uprn + 7 if prop.uprn + 7 not in live else prop.uprn + 1_000_000)  # a slip
                elif roll < 0.88:
                    uprn_text = f"{prop.uprn}.00" if rng.random() < 0.5 else f"{prop.uprn}"
                licence_no = f"{issued.year % 100:02d}/{number:05d}/{_licence_code(types[k % len(types)])}"
                writer.writerow([licence_no, types[k % len(types)], status, trading, holder, holder_type, address,
                                 postcode, uprn_text, issued.strftime("%d/%m/%Y"), expiry.strftime("%d/%m/%Y"),
                                 last_seen.strftime("%d/%m/%Y")])
                line += 1
                truth.append(TruthRow("licensing", rel, line, licence_no, prop.uprn, business.business_id))
        # street-trading pitches: licences at places that are not properties
        traders = [o for o in borough.occupancies if o.end is None and o.business.kind == "sole_trader"][:: 97]
        for i, occ in enumerate(traders[: max(len(borough.streets) // 15, 1)]):
            number += 1
            licence_no = f"25/{number:05d}/STR"
            street = borough.streets[i % len(borough.streets)]
            writer.writerow([licence_no, "Street Trading", "Current", _name_for(rng, occ.business, AS_OF, "trading"),
                             occ.business.proprietor, "Individual", f"Pitch {i + 3}, {title(street.name)} Market",
                             "", "", "01/04/2025", "31/03/2027", "14/10/2026"])
            line += 1
            truth.append(TruthRow("licensing", rel, line, licence_no, None, occ.business.business_id))
    return truth


def _licence_code(licence_type: str) -> str:
    return "".join(word[0] for word in licence_type.split(" ")).upper()


def _parents_with_one_commercial_child(borough: Borough) -> set[int]:
    counts: dict[int, int] = {}
    for prop in borough.properties:
        if prop.parent_uprn and prop.commercial:
            counts[prop.parent_uprn] = counts.get(prop.parent_uprn, 0) + 1
    return {uprn for uprn, n in counts.items() if n == 1}


def write_csv(path: Path, header: list[str], rows: Iterable[Iterable[object]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
