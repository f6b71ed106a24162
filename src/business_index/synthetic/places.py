"""Where each generated borough stands: its council, custodian code, post town, postcode area,
localities and patch of the National Grid.

Borough 0 is the Hackney-like borough ``bx generate`` has always made. Boroughs 1 and up let many
boroughs live together in one dataset (``synthetic/national.py``): each has a postcode area of its
own (so no postcode is shared), a custodian code of its own (so LPI and cross-reference keys differ)
and its own number, which ``borough._Ids`` uses to move every UPRN, USRN and reference into a range
of its own. Towns, postcode areas and localities are real names (public facts); the custodian codes
(99NN) and ward codes of boroughs 1 and up are synthetic, no real council's.
"""

from __future__ import annotations

from dataclasses import dataclass

from business_index.synthetic import vocab


@dataclass(frozen=True, slots=True)
class Place:
    slug: str  # for folder names
    council: str  # the custodian's name, as the gazetteer header writes it
    council_name: str  # as sources.toml names it
    administrative_area: str
    post_town: str
    town_as_written: tuple[str, ...]  # how clerks write the town at the end of an address
    custodian_code: str
    districts: tuple[str, ...]  # postcode districts, repeated to weight them
    overflow_districts: tuple[str, ...]  # where streets spill when the districts' sectors fill up
    localities: tuple[str, ...]
    real_streets: tuple[str, ...]  # street names used first, before invented ones
    x: float  # the south-west corner of the borough's 4 km square on the National Grid
    y: float
    ward_code: str


HACKNEY = Place(
    slug="hackney", council="LONDON BOROUGH OF HACKNEY (SYNTHETIC)",
    council_name="London Borough of Hackney (synthetic)", administrative_area="HACKNEY",
    post_town="LONDON", town_as_written=("London", "LONDON", "Hackney", "Hackney, London"), custodian_code="5360",
    districts=vocab.POSTCODE_DISTRICTS, overflow_districts=vocab.OVERFLOW_DISTRICTS, localities=vocab.LOCALITIES,
    real_streets=vocab.REAL_STREETS, x=533000, y=183500, ward_code="E05009367",
)

# (town, postcode area, localities, easting and northing near the town centre)
_TOWNS: tuple[tuple[str, str, tuple[str, ...], int, int], ...] = (
    ("LEEDS", "LS", ("HEADINGLEY", "CHAPELTOWN", "HOLBECK", "ARMLEY", "ROUNDHAY", "KIRKSTALL"), 428000, 432000),
    ("MANCHESTER", "M", ("ANCOATS", "RUSHOLME", "DIDSBURY", "LEVENSHULME", "HULME", "CHORLTON"), 382000, 396000),
    ("BIRMINGHAM", "B", ("DIGBETH", "EDGBASTON", "HANDSWORTH", "MOSELEY", "SPARKBROOK", "ERDINGTON"), 405000, 285000),
    ("BRISTOL", "BS", ("BEDMINSTER", "CLIFTON", "EASTON", "SOUTHVILLE", "REDLAND", "ST PAULS"), 357000, 171000),
    ("LIVERPOOL", "L", ("ANFIELD", "TOXTETH", "WAVERTREE", "EVERTON", "ALLERTON", "WALTON"), 333000, 388000),
    ("SHEFFIELD", "S", ("CROOKES", "WALKLEY", "HEELEY", "SHARROW", "DARNALL", "HILLSBOROUGH"), 433000, 385000),
    ("NOTTINGHAM", "NG", ("SNEINTON", "LENTON", "BASFORD", "SHERWOOD", "RADFORD", "BULWELL"), 455000, 338000),
    ("LEICESTER", "LE", ("BELGRAVE", "AYLESTONE", "CLARENDON PARK", "EVINGTON", "HUMBERSTONE", "KNIGHTON"),
     456000, 302000),
    ("NEWCASTLE UPON TYNE", "NE", ("JESMOND", "BYKER", "HEATON", "FENHAM", "GOSFORTH", "ELSWICK"), 422000, 562000),
    ("COVENTRY", "CV", ("EARLSDON", "FOLESHILL", "TILE HILL", "WHOBERLEY", "CHEYLESMORE", "WYKEN"), 431000, 277000),
    ("BRIGHTON", "BN", ("KEMPTOWN", "HOVE", "PRESTON PARK", "MOULSECOOMB", "HANOVER", "WHITEHAWK"), 529000, 103000),
    ("PLYMOUTH", "PL", ("STONEHOUSE", "DEVONPORT", "MUTLEY", "PLYMSTOCK", "PEVERELL", "KEYHAM"), 246000, 53000),
    ("NORWICH", "NR", ("EATON", "THORPE HAMLET", "MILE CROSS", "LAKENHAM", "HELLESDON", "EARLHAM"), 621000, 306000),
    ("CARDIFF", "CF", ("CANTON", "CATHAYS", "ROATH", "GRANGETOWN", "SPLOTT", "LLANDAFF"), 316000, 174000),
    ("SOUTHAMPTON", "SO", ("SHIRLEY", "PORTSWOOD", "BITTERNE", "WOOLSTON", "SHOLING", "BASSETT"), 440000, 110000),
    ("READING", "RG", ("CAVERSHAM", "WHITLEY", "TILEHURST", "EARLEY", "SOUTHCOTE", "KATESGROVE"), 469000, 171000),
    ("DERBY", "DE", ("NORMANTON", "ALVASTON", "DARLEY ABBEY", "LITTLEOVER", "CHADDESDEN", "MICKLEOVER"),
     433000, 334000),
    ("YORK", "YO", ("ACOMB", "HEWORTH", "FULFORD", "HAXBY", "DRINGHOUSES", "TANG HALL"), 458000, 450000),
    ("EXETER", "EX", ("HEAVITREE", "ST THOMAS", "PENNSYLVANIA", "WHIPTON", "PINHOE", "ALPHINGTON"), 290000, 90000),
    ("OXFORD", "OX", ("JERICHO", "COWLEY", "HEADINGTON", "SUMMERTOWN", "BOTLEY", "MARSTON"), 449000, 204000),
    ("CAMBRIDGE", "CB", ("CHESTERTON", "ROMSEY", "NEWNHAM", "CHERRY HINTON", "TRUMPINGTON", "ARBURY"), 543000, 256000),
)


def _place(number: int) -> Place:
    town, area, localities, x, y = _TOWNS[number - 1]
    name = town.title()
    return Place(
        slug=town.lower().replace(" ", "-"), council=f"{town} CITY COUNCIL (SYNTHETIC)",
        council_name=f"{name} City Council (synthetic)", administrative_area=town,
        post_town=town, town_as_written=(name, town, name, f"{name} City"), custodian_code=f"99{number:02d}",
        # districts 1 to 12 first, the lower numbers (nearer the centre) weighted up as Hackney's E8 is
        districts=tuple(f"{area}{i}" for i in (1, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)),
        overflow_districts=tuple(f"{area}{i}" for i in range(13, 41)),
        localities=localities, real_streets=(), x=x, y=y, ward_code=f"E0599{number:04d}",
    )


PLACES: tuple[Place, ...] = (HACKNEY, *(_place(n) for n in range(1, len(_TOWNS) + 1)))


def place_of(number: int) -> Place:
    """Borough ``number``'s place (0 is Hackney)."""
    if not 0 <= number < len(PLACES):
        raise ValueError(f"borough {number}: the generator knows {len(PLACES)} places (0 to {len(PLACES) - 1})")
    return PLACES[number]
