"""The borough as the generator imagines it: streets, properties, businesses and who occupied what.

This is the truth. Writers then render it through each council system's eyes (``writers``), with
the mess those systems add (``messiness``).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from business_index.synthetic import vocab
from business_index.synthetic.messiness import title
from business_index.synthetic.places import HACKNEY, Place, place_of

AS_OF = date(2026, 11, 1)  # the supply date of the full gazetteer; records are current as of this day
CHANGE_DATE = date(2026, 11, 15)  # the change-only update follows a fortnight later


@dataclass(slots=True)
class Street:
    usrn: int
    name: str
    locality: str | None
    town: str
    district: str
    sector: int
    x0: float
    y0: float
    x1: float
    y1: float
    postcodes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Lpi:
    key: str
    logical_status: int  # 1 approved, 3 alternative, 8 historical
    sao_start: int | None = None
    sao_suffix: str | None = None
    sao_end: int | None = None
    sao_text: str | None = None
    pao_start: int | None = None
    pao_suffix: str | None = None
    pao_end: int | None = None
    pao_end_suffix: str | None = None
    pao_text: str | None = None
    start_date: date = date(2000, 1, 1)
    end_date: date | None = None
    official: str = "Y"
    level: str | None = None


@dataclass(slots=True)
class Property:
    uprn: int
    parent_uprn: int | None
    street: Street
    lpi: Lpi
    postcode: str
    classification: str
    x: float
    y: float
    logical_status: int = 1
    blpu_state: int = 2
    start_date: date = date(2000, 1, 1)
    end_date: date | None = None
    commercial: bool = False
    other_lpis: list[Lpi] = field(default_factory=list)
    organisation: str | None = None  # LLPG organisation name after the change-only update
    organisation_in_full: str | None = None  # what the full supply says (may be stale or missing)
    postcode_in_full: str | None = None  # a wrong postcode in the full supply, corrected by the COU
    ndr_ref: str | None = None
    uarn: int | None = None
    ndr_xref_key: str | None = None  # None: the LLPG lacks the NDR cross reference
    other_xrefs: list[tuple[str, str, str]] = field(default_factory=list)  # (key, source, reference)
    in_full_supply: bool = True  # False: inserted by the change-only update
    deleted_by_update: bool = False
    occupancies: list[Occupancy] = field(default_factory=list)


@dataclass(slots=True)
class Business:
    business_id: str
    trading_name: str
    legal_name: str | None
    proprietor: str | None
    kind: str  # company, sole_trader, partnership, charity, chain, landlord
    class_code: str
    former_trading_name: str | None = None
    renamed_on: date | None = None
    case: str | None = None  # which adversarial case this business belongs to, if any


@dataclass(slots=True)
class Occupancy:
    business: Business
    property: Property
    start: date
    end: date | None
    account_ref: str
    branch: str | None = None
    trading_name: str | None = None  # this premises' own name, where the business trades under several

    def trades_as(self) -> str:
        """The name the business trades under at this premises."""
        return self.trading_name or self.business.trading_name


@dataclass(slots=True)
class Ancillary:
    """A separately rated part of a host's premises (a cash machine): its operator's, never the host's."""
    operator: Business
    host: Property
    ndr_ref: str
    account_ref: str
    start: date


@dataclass(slots=True)
class Borough:
    seed: int
    custodian_code: str
    ndr_source_code: str
    streets: list[Street]
    properties: list[Property]
    businesses: list[Business]
    occupancies: list[Occupancy]
    cases: dict[str, object]
    advertiser: Business | None = None  # rated for advertising rights that have no property
    ancillaries: list[Ancillary] = field(default_factory=list)
    number: int = 0  # which borough of a dataset of many (0: the Hackney-like one of `bx generate`)
    place: Place = HACKNEY


# How far apart two boroughs' id ranges start (times the borough number). Each range holds far more
# than a borough of a million properties uses (UPRNs step by 2 on average, NDR references by 20,
# accounts by 30 and UARNs by 2,500 a premises), so the boroughs of one dataset never share an id;
# tests/synthetic checks it.
UPRN_SPAN = 10_000_000
USRN_SPAN = 1_000_000
NDR_SPAN = 10_000_000
ACCOUNT_SPAN = 40_000_000
UARN_SPAN = 1_000_000_000
BUSINESS_SPAN = 10_000_000


class _Ids:
    """Deterministic id sequences for keys, references and UPRNs; borough ``number`` n starts each
    sequence n spans on (LPI and cross-reference keys differ by their custodian code instead)."""

    def __init__(self, rng: random.Random, custodian: str, number: int = 0):
        self.rng = rng
        self.custodian = custodian
        self.uprn = 100021000000 + number * UPRN_SPAN + rng.randrange(0, 5000)
        self.child_uprn = 10008000000 + number * UPRN_SPAN + rng.randrange(0, 5000)
        self.lpi = 0
        self.xref = 0
        self.usrn = 20900000 + number * USRN_SPAN + rng.randrange(0, 500)
        self.ndr = 120000 + number * NDR_SPAN + rng.randrange(0, 1000)
        self.account = 80000000 + number * ACCOUNT_SPAN + rng.randrange(0, 100000)
        self.uarn = 1200000000 + number * UARN_SPAN + rng.randrange(0, 10000000)
        self.business = number * BUSINESS_SPAN

    def next_uprn(self, child: bool = False) -> int:
        if child:
            self.child_uprn += self.rng.randrange(1, 3)
            return self.child_uprn
        self.uprn += self.rng.randrange(1, 4)
        return self.uprn

    def next_lpi(self) -> str:
        self.lpi += 1
        return f"{self.custodian}L{self.lpi:09d}"

    def next_xref(self) -> str:
        self.xref += 1
        return f"{self.custodian}X{self.xref:09d}"

    def next_usrn(self) -> int:
        self.usrn += self.rng.randrange(1, 9)
        return self.usrn

    def next_ndr(self) -> str:
        self.ndr += self.rng.randrange(1, 40)
        return f"{self.ndr:09d}"

    def next_account(self) -> str:
        self.account += self.rng.randrange(1, 60)
        return f"{self.account:09d}"

    def next_uarn(self) -> int:
        self.uarn += self.rng.randrange(1, 5000)
        return self.uarn

    def next_business(self) -> str:
        self.business += 1
        return f"B{self.business:07d}"


def _weighted(rng: random.Random, pairs: tuple) -> str:
    total = sum(w for _, w in pairs)
    roll = rng.random() * total
    for value, weight in pairs:
        roll -= weight
        if roll < 0:
            return value
    return pairs[-1][0]


def _days_between(rng: random.Random, start: date, end: date) -> date:
    span = max((end - start).days, 1)
    return start + timedelta(days=int(rng.random() * span))


class _StreetMaker:
    def __init__(self, rng: random.Random, ids: _Ids, place: Place = HACKNEY):
        self.rng = rng
        self.ids = ids
        self.place = place
        self.names: dict[str, None] = {}
        self.postcodes: dict[str, None] = {}
        self.real = list(place.real_streets)

    def make(self) -> Street:
        rng = self.rng
        name = ""
        while not name or name in self.names:
            if self.real:
                name = self.real.pop(0)
            else:
                stem = rng.choice(vocab.STREET_STEMS)
                name = f"{stem} {_weighted(rng, vocab.STREET_SUFFIXES)}"
                if name in self.names:
                    name = f"{rng.choice(vocab.STREET_STEMS)} {name}"
        self.names[name] = None
        place = self.place
        district = rng.choice(place.districts)
        x0 = place.x + rng.random() * 4000
        y0 = place.y + rng.random() * 4000
        angle_x, angle_y = rng.uniform(-1, 1), rng.uniform(-1, 1)
        length = rng.uniform(150, 900)
        return Street(
            usrn=self.ids.next_usrn(), name=name,
            locality=rng.choice(place.localities) if rng.random() < 0.6 else None,
            town=place.post_town, district=district, sector=rng.randrange(1, 10),
            x0=round(x0, 2), y0=round(y0, 2),
            x1=round(x0 + angle_x * length, 2), y1=round(y0 + angle_y * length, 2),
        )

    def new_postcode(self, street: Street) -> str:
        """A postcode unit not used before, in the street's sector while that sector has room."""
        rng = self.rng
        letters = vocab.POSTCODE_UNIT_LETTERS
        for attempt in range(10_000):
            if attempt and attempt % 40 == 0:  # the sector is (nearly) full: move the street on
                street.district = rng.choice(self.place.districts + self.place.overflow_districts)
                street.sector = rng.randrange(0, 10)
            code = f"{street.district} {street.sector}{rng.choice(letters)}{rng.choice(letters)}"
            if code not in self.postcodes:
                self.postcodes[code] = None
                street.postcodes.append(code)
                return code
        raise RuntimeError(f"no free postcode left: the borough is larger than {self.place.post_town}'s postcode space")


_TYPE_WORDS = {code: words for code, _, words, _ in vocab.BUSINESS_TYPES}


class _NameMaker:
    """Invents business names that fit a type of premises, never the same one twice by accident."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: dict[str, None] = {}

    def company_name(self, form: str) -> str:
        """A registered company name unrelated to any trading name; the register never repeats one."""
        rng = self.rng
        while True:
            stem = f"{rng.choice(vocab.NOUNS)}{rng.choice(('X', 'ON', 'IA', 'CO', 'TEC', 'WAY', 'LY', 'IO'))}"
            if rng.random() < 0.6:
                stem = f"{stem} {rng.choice(vocab.STREET_STEMS).title()}"
            if rng.random() < 0.3:
                stem = f"{stem} {rng.choice(('Holdings', 'Trading', 'Ventures', 'Group', 'Enterprises'))}"
            key = stem.upper()
            if key not in self.used:
                self.used[key] = None
                return f"{stem} {form}".upper()

    def person(self) -> str:
        return f"{self.rng.choice(vocab.FORENAMES)} {self.rng.choice(vocab.SURNAMES)}"

    def trading_name(self, class_code: str, street: Street) -> str:
        rng = self.rng
        types = _TYPE_WORDS[class_code]
        for attempt in range(8):
            kind = rng.random()
            word = rng.choice(types)
            if class_code == "CR06":
                name = (f"The {rng.choice(vocab.PUB_ANIMALS)} and {rng.choice(vocab.PUB_THINGS)}"
                        if rng.random() < 0.5 else f"The {rng.choice(vocab.ADJECTIVES)} {rng.choice(vocab.PUB_ANIMALS)}")
            elif kind < 0.25:
                name = f"{rng.choice(vocab.FORENAMES)}'s {word}"
            elif kind < 0.45:
                place = title(street.locality or street.name.rsplit(" ", 1)[0])
                name = f"{place} {word}"
            elif kind < 0.75:
                name = f"{rng.choice(vocab.ADJECTIVES)} {rng.choice(vocab.NOUNS)} {word}"
            elif kind < 0.88:
                name = f"{rng.choice(vocab.SURNAMES)} & {rng.choice(vocab.SURNAMES)}" + (
                    f" {word}" if class_code in ("CO01", "CM01") else "")
            else:
                name = f"{rng.choice(vocab.NOUNS)} & {rng.choice(vocab.NOUNS)}"
            if attempt >= 4:  # common shapes are used up in a large borough: add a family name
                name = f"{rng.choice(vocab.SURNAMES)}'s {name.removeprefix('The ')}"
            # "Shah & Murphy" and "Murphy & Shah" are one name written two ways, not two businesses
            words = " ".join(sorted(name.upper().replace("&", "AND").replace("THE ", "").split()))
            if words not in self.used:
                self.used[words] = None
                return name
        name = f"{name} {len(self.used)}"
        self.used[name] = None
        return name


def build_borough(seed: int, n_properties: int, custodian_code: str | None = None,
                  ndr_source_code: str | None = None, number: int = 0,
                  national: Sequence[Business] = (), registered: set[str] | None = None) -> Borough:
    """Imagine a borough of ``n_properties`` gazetteer properties (BLPUs) and its businesses.

    ``number`` places it (``places.PLACES``) and gives it id ranges of its own, so boroughs of
    different numbers can share one dataset; 0 is the Hackney-like borough of ``bx generate``.
    ``national`` chains (``national_chains``) take over some of the borough's own chains.
    ``registered``: company names the boroughs before this one of the dataset registered (updated
    with this borough's); a name already taken gets the town in front, ``LEEDS X LIMITED``.
    """
    place = place_of(number)
    borough_number = number  # ``number`` is reused below for house numbers
    custodian_code = custodian_code or place.custodian_code
    rng = random.Random(seed)
    ids = _Ids(rng, custodian_code, borough_number)
    streets_maker = _StreetMaker(rng, ids, place)
    names = _NameMaker(rng)
    streets: list[Street] = []
    properties: list[Property] = []
    commercial: list[Property] = []

    def add(prop: Property) -> Property:
        properties.append(prop)
        if prop.commercial:
            commercial.append(prop)
        return prop

    def lpi(**kw: object) -> Lpi:
        return Lpi(key=ids.next_lpi(), logical_status=1, start_date=_days_between(rng, date(1995, 1, 1), date(2015, 1, 1)),
                   **kw)  # type: ignore[arg-type]

    def business_class() -> str:
        return _weighted(rng, tuple((c, w) for c, w, _, _ in vocab.BUSINESS_TYPES))

    def point(street: Street, t: float) -> tuple[float, float]:
        return (round(street.x0 + (street.x1 - street.x0) * t + rng.uniform(-8, 8), 2),
                round(street.y0 + (street.y1 - street.y0) * t + rng.uniform(-8, 8), 2))

    # Streets and properties: walk each street's numbers, choosing what stands at each.
    while len(properties) < n_properties:
        street = streets_maker.make()
        streets.append(street)
        n_numbers = rng.randrange(20, 90)
        postcode = streets_maker.new_postcode(street)
        in_postcode = 0
        commercial_street = rng.random() < 0.45
        number = 0
        for i in range(n_numbers):
            if len(properties) >= n_properties:
                break
            number += 1 if rng.random() < 0.92 else 2
            if in_postcode >= rng.randrange(10, 24):
                postcode = streets_maker.new_postcode(street)
                in_postcode = 0
            x, y = point(street, i / max(n_numbers, 1))
            roll = rng.random()
            shop_bias = 0.35 if commercial_street else 0.0
            if roll < 0.30 - shop_bias / 2:  # a house
                suffix = "A" if rng.random() < 0.04 else None
                add(Property(ids.next_uprn(), None, street, lpi(pao_start=number, pao_suffix=suffix), postcode,
                             _weighted(rng, vocab.RESIDENTIAL_CLASSES[:3]), x, y))
                in_postcode += 1
            elif roll < 0.48 - shop_bias / 3:  # a house converted to flats
                parent = add(Property(ids.next_uprn(), None, street, lpi(pao_start=number), postcode, "PP", x, y))
                for flat in range(rng.randrange(2, 5)):
                    label = "ABCDEF"[flat] if rng.random() < 0.6 else str(flat + 1)
                    add(Property(ids.next_uprn(child=True), parent.uprn, street,
                                 lpi(sao_text=f"FLAT {label}", pao_start=number), postcode, "RD06", x, y))
                in_postcode += 1
            elif roll < 0.80:  # a shop, usually with a flat above
                suffix = "A" if rng.random() < 0.07 else None
                end = number + 2 if rng.random() < 0.06 else None
                if end:
                    number = end
                if rng.random() < 0.55:
                    parent = add(Property(ids.next_uprn(), None, street,
                                          lpi(pao_start=end and end - 2 or number, pao_suffix=suffix, pao_end=end),
                                          postcode, "PP", x, y))
                    sao = rng.choice(("GROUND FLOOR", "GROUND FLOOR", "BASEMENT AND GROUND FLOOR"))
                    add(Property(ids.next_uprn(child=True), parent.uprn, street,
                                 lpi(sao_text=sao, pao_start=parent.lpi.pao_start, pao_suffix=suffix, pao_end=end,
                                     level="0"),
                                 postcode, business_class(), x, y, commercial=True))
                    add(Property(ids.next_uprn(child=True), parent.uprn, street,
                                 lpi(sao_text="FIRST FLOOR FLAT", pao_start=parent.lpi.pao_start, pao_suffix=suffix,
                                     pao_end=end, level="1"),
                                 postcode, "RD06", x, y))
                else:
                    add(Property(ids.next_uprn(), None, street,
                                 lpi(pao_start=end and end - 2 or number, pao_suffix=suffix, pao_end=end),
                                 postcode, business_class(), x, y, commercial=True))
                in_postcode += 1
            elif roll < 0.90:  # a named building of business units or railway arches
                arches = rng.random() < 0.3
                building = (None if arches else
                            f"{rng.choice(vocab.STREET_STEMS)} {rng.choice(('HOUSE', 'STUDIOS', 'WORKS', 'BUSINESS CENTRE', 'YARD'))}")
                parent = add(Property(ids.next_uprn(), None, street, lpi(pao_text=building, pao_start=number),
                                      postcode, "PP", x, y))
                for unit in range(rng.randrange(3, 9)):
                    sao = f"ARCH {number * 10 + unit}" if arches else f"UNIT {unit + 1}"
                    add(Property(ids.next_uprn(child=True), parent.uprn, street,
                                 lpi(sao_text=sao, pao_text=building, pao_start=number), postcode,
                                 rng.choice(("CI03", "CO01", "CI03", "CR07", "CO01")) if not arches else
                                 rng.choice(("CI03", "CI03", "CR07", "CL06")),
                                 x, y, commercial=True))
                in_postcode += 2
            else:  # a block of flats
                block = f"{rng.choice(vocab.STREET_STEMS)} {rng.choice(('HOUSE', 'COURT', 'LODGE', 'MANSIONS'))}"
                parent = add(Property(ids.next_uprn(), None, street, lpi(pao_text=block, pao_start=number), postcode,
                                      "PP", x, y))
                for flat in range(rng.randrange(6, 21)):
                    add(Property(ids.next_uprn(child=True), parent.uprn, street,
                                 lpi(sao_start=flat + 1, pao_text=block, pao_start=number), postcode, "RD06", x, y))
                in_postcode += 3
    del properties[n_properties:]
    kept = _uprn_set(properties)
    commercial = [p for p in commercial if p.uprn in kept]

    _add_alternative_and_historical(rng, ids, properties)
    borough = Borough(seed, custodian_code, ndr_source_code or f"{custodian_code}ND", streets, properties, [], [], {},
                      number=borough_number, place=place)
    _occupy(rng, ids, names, borough, commercial)
    _add_cross_references(rng, ids, borough, commercial)
    _add_ancillaries(rng, ids, names, borough, commercial)
    _plan_change_only_update(rng, ids, names, borough, streets_maker)
    borough.advertiser = Business(ids.next_business(), "Streetside Media", "STREETSIDE MEDIA LIMITED", None,
                                  "company", "CO01", case="no_uprn")
    borough.businesses.append(borough.advertiser)
    if national:
        _join_national_chains(random.Random(f"{seed}-national"), borough, national)
    if registered is not None:
        _register_company_names(borough, registered)
    return borough


def _register_company_names(borough: Borough, registered: set[str]) -> None:
    """The register never repeats a company name, nationally: two boroughs' "ALBION ESTATES
    LIMITED" would be one company, which a linker rightly joins, so a borough's company whose name
    an earlier borough took is registered with its town in front, ``LEEDS ALBION ESTATES LIMITED``
    (not ``ALBION ESTATES (LEEDS) LIMITED``: a bracketed place is a qualifier the name key drops,
    ``clean/names.py``, so that would still read as one name). Trading names may repeat (two towns'
    Golden Star Cafes are two businesses); national chains are one company everywhere."""
    town = borough.place.post_town
    mine: set[str] = set()
    for business in borough.businesses:
        name = business.legal_name
        if not name or business.business_id.startswith("N"):
            continue
        # only earlier boroughs' names count: a borough's own repeats are as `bx generate` makes them
        if name in registered:
            name = f"{town} {name}"
            n = 2
            while name in registered:
                name = f"{town} {n} {business.legal_name}"
                n += 1
            business.legal_name = name
        mine.add(name)
    registered.update(mine)


NATIONAL_CHAIN_CLASSES = ("CR08", "CR07", "CR10", "CR08")


def national_chains(seed: int, n: int = 40) -> list[Business]:
    """Brands with branches in many boroughs of one dataset, each one company with an id (N...) of
    its own; ``build_borough(national=...)`` hands some of a borough's chains over to them."""
    rng = random.Random(f"{seed}-national-chains")
    chains: list[Business] = []
    brands: set[str] = set()
    while len(chains) < n:
        class_code = NATIONAL_CHAIN_CLASSES[len(chains) % len(NATIONAL_CHAIN_CLASSES)]
        # a coined word ("Figwise") no local business is named after, then what the shop sells
        brand = f"{rng.choice(vocab.NOUNS)}{rng.choice(('wise', 'mart', 'co', 'ly', 'well', 'way'))} " \
                f"{rng.choice(_TYPE_WORDS[class_code])}"
        if brand in brands:
            continue
        brands.add(brand)
        legal = f"{brand.upper()} {rng.choice(('RETAIL LIMITED', 'LIMITED', 'STORES LIMITED', 'UK LIMITED', 'PLC'))}"
        chains.append(Business(f"N{len(chains) + 1:06d}", brand, legal, None, "chain", class_code, case="chain"))
    return chains


def _join_national_chains(rng: random.Random, borough: Borough, national: Sequence[Business]) -> None:
    """A quarter of the borough's chains become branches of national chains of the same kind of
    shop: the same company, name and id in every borough that has one, so an organisation spans
    boroughs. Runs after the borough is built, on its own random numbers, so the rest of the
    borough is what it would have been."""
    local = [b for b in borough.businesses if b.case == "chain"]
    free = {code: rng.sample([c for c in national if c.class_code == code],
                             sum(1 for c in national if c.class_code == code))
            for code in dict.fromkeys(NATIONAL_CHAIN_CLASSES)}  # in a fixed order, unlike a set's
    renamed: dict[str, tuple[str, str]] = {}  # national id -> (local brand, national brand), in capitals
    for chain in local[::4]:
        if not free.get(chain.class_code):
            continue
        brand = free[chain.class_code].pop()  # each national chain once a borough: ids stay one business
        renamed[brand.business_id] = (chain.trading_name.upper(), brand.trading_name.upper())
        chain.business_id, chain.trading_name, chain.legal_name = brand.business_id, brand.trading_name, brand.legal_name
    # the gazetteer's organisation names of their premises follow the fascia
    for occ in borough.occupancies:
        names = renamed.get(occ.business.business_id)
        if names is None:
            continue
        old, new = names
        prop = occ.property
        if prop.organisation == old:
            prop.organisation = new
        if prop.organisation_in_full == old:
            prop.organisation_in_full = new
    borough.cases["chains"] = [c.business_id for c in local]
    borough.cases["national_chains"] = sorted(renamed)


def _uprn_set(properties: list[Property]) -> set[int]:
    return {p.uprn for p in properties}


def _add_alternative_and_historical(rng: random.Random, ids: _Ids, properties: list[Property]) -> None:
    for prop in properties:
        roll = rng.random()
        base = prop.lpi
        if roll < 0.06 and base.pao_start is not None:
            # alternative: the number written with the building name, or a suffix spaced out
            prop.other_lpis.append(Lpi(ids.next_lpi(), 3, base.sao_start, base.sao_suffix, base.sao_end, base.sao_text,
                                       base.pao_start, base.pao_suffix, base.pao_end, base.pao_end_suffix,
                                       base.pao_text or f"{prop.street.name.split(' ')[0]} BUILDINGS",
                                       start_date=base.start_date, official="N"))
        elif roll < 0.09:
            # historical: the address before renumbering or renaming
            prop.other_lpis.append(Lpi(ids.next_lpi(), 8, base.sao_start, base.sao_suffix, base.sao_end,
                                       base.sao_text, (base.pao_start or 1) + 100, None, None, None, base.pao_text,
                                       start_date=date(1990, 1, 1), end_date=base.start_date))
    # a few demolished properties, kept as historical BLPUs
    for prop in properties[:: max(len(properties) // 60, 7)]:
        if not prop.commercial and prop.parent_uprn is None and prop.classification != "PP":
            prop.logical_status = 8
            prop.blpu_state = 4
            prop.end_date = date(2019, 6, 30)
            prop.lpi.logical_status = 8
            prop.lpi.end_date = prop.end_date


def _make_business(rng: random.Random, ids: _Ids, names: _NameMaker, class_code: str, street: Street,
                   kind: str | None = None) -> Business:
    trading = names.trading_name(class_code, street)
    kind = kind or _weighted(rng, (("company", 55), ("sole_trader", 32), ("partnership", 8), ("charity", 5)))
    proprietor = names.person() if kind in ("sole_trader", "partnership") else None
    legal: str | None = None
    if kind == "company":
        form = _weighted(rng, vocab.LEGAL_FORMS[:5]) or "LIMITED"
        # 12% of companies have a name unrelated to their trading name (unique on the register, like any)
        legal = names.company_name(form) if rng.random() < 0.12 else f"{trading.upper()} {form}"
    elif kind == "charity":
        legal = f"{trading} Trust".upper() if rng.random() < 0.5 else f"{trading.upper()} CIC"
    elif kind == "partnership":
        proprietor = f"{proprietor} & {names.person()}"
    return Business(ids.next_business(), trading, legal, proprietor, kind, class_code)


def _occupy(rng: random.Random, ids: _Ids, names: _NameMaker, borough: Borough, commercial: list[Property]) -> None:
    businesses = borough.businesses
    occupancies = borough.occupancies

    def occupy(business: Business, prop: Property, start: date, end: date | None, branch: str | None = None,
               trading_name: str | None = None) -> None:
        occ = Occupancy(business, prop, start, end, ids.next_account(), branch, trading_name)
        prop.occupancies.append(occ)
        occupancies.append(occ)

    # Chains: a few brands with many premises each, trading under one name from one company.
    n_chains = max(2, len(commercial) // 400)
    chains: list[Business] = []
    for _ in range(n_chains):
        class_code = rng.choice(("CR08", "CR07", "CR10", "CR08"))
        brand = names.trading_name(class_code, rng.choice(borough.streets))
        brand = brand.replace("'s ", " ") if rng.random() < 0.5 else brand
        legal = f"{brand.upper()} {rng.choice(('RETAIL LIMITED', 'LIMITED', 'STORES LIMITED', 'UK LIMITED', 'PLC'))}"
        chain = Business(ids.next_business(), brand, legal, None, "chain", class_code, case="chain")
        chains.append(chain)
        businesses.append(chain)

    # Pub companies: one company rated for many pubs, each trading under a name of its own.
    pub_companies: list[Business] = []
    for _ in range(max(1, len(commercial) // 800)):
        stem = rng.choice(vocab.STREET_STEMS).title()
        word = rng.choice(("Inns", "Taverns", "Pub Company", "Leisure"))
        pubco = Business(ids.next_business(), f"{stem} {word}", f"{stem} {word} LIMITED".upper(), None, "company",
                         "CR06", case="pub_company")
        pub_companies.append(pubco)
        businesses.append(pubco)

    multi_site: list[Business] = []
    landlords: dict[str, Business] = {}
    for prop in commercial:
        roll = rng.random()
        if roll < 0.10 and chains:  # a chain branch
            chain = rng.choice(chains)
            prop.classification = chain.class_code
            occupy(chain, prop, _days_between(rng, date(2005, 1, 1), date(2024, 1, 1)), None,
                   branch=title(prop.street.locality or prop.street.name))
        elif roll < 0.12 and prop.parent_uprn is None:  # a pub of a pub company
            pubco = rng.choice(pub_companies)
            prop.classification = "CR06"
            occupy(pubco, prop, _days_between(rng, date(2000, 1, 1), date(2022, 1, 1)), None,
                   trading_name=names.trading_name("CR06", prop.street))
        elif roll < 0.88:
            if multi_site and rng.random() < 0.05:  # the same small business opens a second premises
                business = multi_site.pop(rng.randrange(len(multi_site)))
                prop.classification = business.class_code
            else:
                business = _make_business(rng, ids, names, prop.classification, prop.street)
                businesses.append(business)
                if rng.random() < 0.08:
                    multi_site.append(business)
            occupy(business, prop, _days_between(rng, date(2008, 1, 1), date(2026, 6, 1)), None)
        else:  # vacant: the landlord, one of a few property companies, is liable for empty rates
            stem = rng.choice(vocab.STREET_STEMS)
            landlord = landlords.get(stem)
            if landlord is None:
                landlord = Business(ids.next_business(), f"{stem.title()} Estates", f"{stem} ESTATES LIMITED", None,
                                    "landlord", "CO01")
                landlords[stem] = landlord
                businesses.append(landlord)
            occupy(landlord, prop, _days_between(rng, date(2023, 1, 1), date(2026, 6, 1)), None)
        # earlier occupiers of the same premises
        current_start = prop.occupancies[-1].start
        previous = 1 if rng.random() < 0.35 else 0
        previous += 1 if previous and rng.random() < 0.2 else 0
        end = current_start - timedelta(days=rng.randrange(1, 120))
        for _ in range(previous):
            start = end - timedelta(days=rng.randrange(300, 3000))
            business = _make_business(rng, ids, names, prop.classification, prop.street)
            businesses.append(business)
            occupy(business, prop, start, end)
            end = start - timedelta(days=rng.randrange(1, 120))
        prop.occupancies.sort(key=lambda o: o.start)

    # Businesses that changed their trading name while at their premises.
    sole = [b for b in businesses if b.kind in ("company", "sole_trader") and b.case is None]
    for business in sole[:: max(len(sole) // max(len(sole) // 60, 1), 1)][: max(len(sole) // 60, 2)]:
        business.former_trading_name = business.trading_name
        business.trading_name = names.trading_name(business.class_code, borough.streets[0])
        business.renamed_on = date(2023, 4, 1)
        business.case = "renamed"

    _plant_eighteen_way_supplier(rng, ids, names, borough, commercial, occupy)
    _plant_near_identical_names(rng, ids, names, borough, commercial, occupy)
    _plant_busy_premises(rng, ids, names, borough, commercial, occupy)

    # The LLPG's organisation name: the fascia name of the current occupier on part of the
    # commercial properties, sometimes still the previous occupier's.
    for prop in commercial:
        current = [o for o in prop.occupancies if o.end is None and o.business.kind != "landlord"]
        if not current:
            continue
        occupier = current[-1]
        roll = rng.random()
        if roll < 0.50:
            prop.organisation = occupier.trades_as().upper()
            prop.organisation_in_full = prop.organisation
        elif roll < 0.56 and len(prop.occupancies) > 1:
            stale = prop.occupancies[-2].trades_as().upper()
            prop.organisation_in_full = stale
            prop.organisation = stale
    borough.cases.setdefault("chains", [c.business_id for c in chains])
    borough.cases["pub_companies"] = [p.business_id for p in pub_companies]


def _hand_over(prop: Property, business: Business, start: date, occupy) -> None:  # type: ignore[no-untyped-def]
    """``business`` takes over ``prop`` from its current occupier on ``start`` (or just after them)."""
    for occ in prop.occupancies:
        if occ.end is None:
            start = max(start, occ.start + timedelta(days=60))
            occ.end = start - timedelta(days=1)
    occupy(business, prop, start, None)
    prop.occupancies.sort(key=lambda o: o.start)


def _plant_eighteen_way_supplier(rng, ids, names, borough, commercial, occupy) -> None:  # type: ignore[no-untyped-def]
    """The case that motivated the index: one supplier written 18 different ways across systems."""
    candidates = [p for p in commercial if not p.occupancies or p.occupancies[-1].business.kind != "chain"]
    premises = candidates[len(candidates) // 3:: max(len(candidates) // 4, 1)][:3] or candidates[:1]
    street = premises[0].street
    trading = f"{title(street.locality or street.name.split(' ')[0])} Catering Supplies"
    supplier = Business(ids.next_business(), trading, f"{trading.upper()} LIMITED", names.person(), "company",
                        "CI03", case="eighteen_way_supplier")
    borough.businesses.append(supplier)
    for i, prop in enumerate(premises):
        prop.classification = "CI03"
        prop.organisation = prop.organisation_in_full = None
        _hand_over(prop, supplier, date(2021, 4, 1) + timedelta(days=30 * i), occupy)
    borough.cases["eighteen_way_supplier"] = {"business_id": supplier.business_id, "trading_name": trading,
                                              "uprns": [p.uprn for p in premises]}
    # its decoy: a different business with a near-identical name elsewhere
    decoy_prop = candidates[-1]
    decoy = Business(ids.next_business(), trading.replace("Supplies", "Services"),
                     trading.replace("Supplies", "Services").upper() + " LIMITED", None, "company", "CI03",
                     case="near_identical")
    borough.businesses.append(decoy)
    decoy_prop.classification = "CI03"
    _hand_over(decoy_prop, decoy, date(2022, 2, 1), occupy)
    borough.cases["near_identical"] = [[supplier.business_id, decoy.business_id]]


def _plant_near_identical_names(rng, ids, names, borough, commercial, occupy) -> None:  # type: ignore[no-untyped-def]
    """Different businesses whose names differ by a letter or a word, at different premises."""
    pairs = borough.cases.setdefault("near_identical", [])
    vacant = [p for p in commercial if p.occupancies and p.occupancies[-1].business.kind == "landlord"]
    for k in range(min(max(len(commercial) // 300, 2), len(vacant) // 2)):
        a_prop, b_prop = vacant[2 * k], vacant[2 * k + 1]
        base = names.trading_name("CR08", a_prop.street)
        twist = rng.choice((base + "s", base.replace(" ", " & ", 1), "New " + base, base + " 2"))
        pair = []
        for prop, name in ((a_prop, base), (b_prop, twist)):
            prop.classification = "CR08"
            business = Business(ids.next_business(), name, f"{name.upper()} LIMITED", None, "company", "CR08",
                                case="near_identical")
            borough.businesses.append(business)
            _hand_over(prop, business, date(2024, 2, 1), occupy)
            pair.append(business.business_id)
        pairs.append(pair)


def _plant_busy_premises(rng, ids, names, borough, commercial, occupy) -> None:  # type: ignore[no-untyped-def]
    """Premises that held four different businesses over the years."""
    chosen = [p for p in commercial[5::max(len(commercial) // 5, 1)] if p.occupancies][:3]
    for prop in chosen:
        first_start = prop.occupancies[0].start
        end = first_start - timedelta(days=20)
        for _ in range(4 - len(prop.occupancies)):
            start = end - timedelta(days=rng.randrange(400, 1500))
            business = _make_business(rng, ids, names, prop.classification, prop.street)
            borough.businesses.append(business)
            occupy(business, prop, start, end)
            end = start - timedelta(days=20)
        prop.occupancies.sort(key=lambda o: o.start)
    borough.cases["busy_premises"] = [p.uprn for p in chosen]


def _add_cross_references(rng: random.Random, ids: _Ids, borough: Borough, commercial: list[Property]) -> None:
    for prop in commercial:
        if prop.logical_status != 1:
            continue
        prop.ndr_ref = ids.next_ndr()
        prop.uarn = ids.next_uarn()
        if rng.random() < 0.90:
            prop.ndr_xref_key = ids.next_xref()
    for prop in borough.properties:
        if not prop.commercial and prop.classification.startswith("RD") and rng.random() < 0.15:
            prop.other_xrefs.append((ids.next_xref(), f"{borough.custodian_code}CT",
                                     f"{rng.randrange(10**8, 10**9)}"))


def _add_ancillaries(rng: random.Random, ids: _Ids, names: _NameMaker, borough: Borough,
                     commercial: list[Property]) -> None:
    """Cash machines rated apart from the shops that host them, by the machines' operators."""
    operators = [Business(ids.next_business(), name.title(), f"{name} LIMITED", None, "company", "CR08",
                          case="ancillary_operator") for name in (names.company_name("").strip() for _ in range(2))]
    borough.businesses.extend(operators)
    hosts = [p for p in commercial if p.ndr_ref and p.logical_status == 1 and p.in_full_supply
             and any(o.end is None and o.business.kind != "landlord" for o in p.occupancies)]
    for i, host in enumerate(hosts[3:: 150]):
        borough.ancillaries.append(Ancillary(operators[i % 2], host, ids.next_ndr(), ids.next_account(),
                                             _days_between(rng, date(2012, 1, 1), date(2024, 1, 1))))
    borough.cases["ancillaries"] = [a.host.uprn for a in borough.ancillaries]


def _plan_change_only_update(rng, ids, names, borough, streets_maker) -> None:  # type: ignore[no-untyped-def]
    """What the change-only update file will carry: new premises, corrected names and postcodes, deletes."""
    props = borough.properties
    commercial = [p for p in props if p.commercial and p.logical_status == 1]
    # new business premises added after the full supply, already trading
    n_new = max(3, len(props) // 500)
    for _ in range(n_new):
        street = rng.choice(borough.streets)
        number = 200 + rng.randrange(1, 400)
        x, y = round(street.x1 + rng.uniform(-10, 10), 2), round(street.y1 + rng.uniform(-10, 10), 2)
        class_code = rng.choice(("CR07", "CR08", "CO01"))
        prop = Property(ids.next_uprn(), None, street,
                        Lpi(ids.next_lpi(), 1, pao_start=number, start_date=date(2026, 11, 10)),
                        street.postcodes[-1], class_code, x, y, start_date=date(2026, 11, 10), commercial=True,
                        in_full_supply=False)
        prop.ndr_ref = ids.next_ndr()
        prop.uarn = ids.next_uarn()
        prop.ndr_xref_key = ids.next_xref()
        business = _make_business(rng, ids, names, class_code, street)
        borough.businesses.append(business)
        occ = Occupancy(business, prop, date(2026, 11, 10), None, ids.next_account())
        prop.occupancies.append(occ)
        borough.occupancies.append(occ)
        if rng.random() < 0.5:
            prop.organisation = business.trading_name.upper()
        props.append(prop)
    # organisation names corrected: stale or missing in the full supply, current after the update
    for prop in commercial[7:: max(len(commercial) // max(len(props) // 400, 1), 1)]:
        current = [o for o in prop.occupancies if o.end is None and o.business.kind != "landlord"]
        if current and prop.organisation != current[-1].trades_as().upper():
            prop.organisation_in_full = prop.organisation
            prop.organisation = current[-1].trades_as().upper()
    # postcodes wrong in the full supply, corrected by the update
    for prop in commercial[3:: max(len(commercial) // max(len(props) // 600, 1), 1)]:
        if len(prop.street.postcodes) > 1:
            prop.postcode_in_full = next(pc for pc in prop.street.postcodes if pc != prop.postcode)
    # residential records entered in error, deleted by the update (their children go with them)
    houses = [p for p in props if not p.commercial and p.classification.startswith("RD") and p.parent_uprn is None
              and p.logical_status == 1]
    n_deletes = max(len(props) // 800, 2)
    for prop in houses[5:: max(len(houses) // n_deletes, 1)][:n_deletes]:
        prop.deleted_by_update = True
