"""When two records are at the same premises, as SQL over two rows ``l`` and ``r`` of
``business_inputs``: the one notion of "same premises" that business resolution and the Basildon
evaluation share.

With a gazetteer the answer is the UPRN. Without one (or for a record no rule could place) it
comes from the addresses as written, at three strengths:

* **the same premises**: the same building number (``8`` and ``8A`` and ``8-10`` share their
  base) at the same postcode, or at a postcode of the same sector on the same street (postcode
  slips between systems are common), with no conflicting flat or floor. Without a gazetteer the
  street is read from free text, and systems add or drop words ("6 Broadway, High Road" and
  "6 Broadway North"; "38 Eastgate" and "38 Eastgate Centre"), so the very same number on a street
  whose first word agrees, in one sector, is the same premises too;
* **the same postcode, unnumbered**: one of them has no building number (schools, halls, pubs and
  retail parks are often written without one);
* **one names the other**: the address of one holds every distinctive word of the other's name
  ("Marstons Plc, Red Lion, High Street" and the FHRS "Red Lion"), at one postcode, or in one sector
  with a local word of the address in common (a street, a village: not the town);
* **one site**: at one postcode, both unnumbered, and both addresses name the site: the same first
  line ("Summerhill Garage", "The Arnold Centre") or two or more of the same uncommon words.

Two hereditaments of one rates list (different property references of one source) are never the
same premises, however alike their addresses: the list says they are separately rated.
"""

from __future__ import annotations

DIFFERENT_HEREDITAMENTS = ("(l.source = r.source AND l.property_ref IS NOT NULL AND r.property_ref IS NOT NULL "
                           "AND l.property_ref <> r.property_ref)")
SAME_HEREDITAMENT = "(l.source = r.source AND l.property_ref = r.property_ref)"
DIFFERENT_UPRNS = "(l.uprn IS NOT NULL AND r.uprn IS NOT NULL AND l.uprn <> r.uprn)"


def same_numbered_premises(number: str = "number_base") -> str:
    """The same numbered premises, comparing ``number`` (``number_base`` lets 8 and 8A agree;
    ``number`` does not, for when nothing else says the two are one business)."""
    return f"""(
    (l.uprn = r.uprn) OR {SAME_HEREDITAMENT} OR (
        NOT {DIFFERENT_UPRNS} AND NOT {DIFFERENT_HEREDITAMENTS}
        AND l.{number} = r.{number}
        AND (l.postcode = r.postcode OR (l.sector = r.sector AND (
            l.street = r.street OR (l.street_head = r.street_head AND l.number = r.number))))
        AND (l.sub_premises IS NULL OR r.sub_premises IS NULL OR l.sub_premises = r.sub_premises)))"""


SAME_NUMBERED_PREMISES = same_numbered_premises()

SAME_POSTCODE_UNNUMBERED = f"""(
    NOT {DIFFERENT_UPRNS} AND NOT {DIFFERENT_HEREDITAMENTS}
    AND l.postcode = r.postcode AND (l.number IS NULL OR r.number IS NULL))"""



def address_holds_name(address: str, name: str) -> str:
    """The whole name of ``name`` (two words or more, eight letters or more) is in the address of
    ``address``, whatever the spacing ("OWL AND PUSSYCAT" in "The Owl & Pussy Cat, Clay Hill Road")."""
    return (f"(len({name}.name_tokens) >= 2 AND length({name}.name_compact) >= 8 "
            f"AND contains({address}.address_compact, {name}.name_compact))")


ONE_NAMES_THE_OTHER = f"""(
    NOT {DIFFERENT_UPRNS} AND NOT {DIFFERENT_HEREDITAMENTS} AND l.sector = r.sector
    AND (l.postcode = r.postcode OR list_has_any(l.local_words, r.local_words)) AND (
        (len(r.distinctive_words) > 0 AND list_has_all(l.address_tokens, r.distinctive_words)) OR
        (len(l.distinctive_words) > 0 AND list_has_all(r.address_tokens, l.distinctive_words)) OR
        {address_holds_name('l', 'r')} OR {address_holds_name('r', 'l')}))"""

# both unnumbered in one sector, and the addresses share a local word (a street, a site, a village;
# not the town): two pubs of one name in two villages of a sector are two premises
SAME_SECTOR_UNNUMBERED = f"""(
    NOT {DIFFERENT_UPRNS} AND NOT {DIFFERENT_HEREDITAMENTS}
    AND l.sector = r.sector AND l.number IS NULL AND r.number IS NULL
    AND list_has_any(l.local_words, r.local_words))"""

SAME_SITE = f"""(
    NOT {DIFFERENT_UPRNS} AND NOT {DIFFERENT_HEREDITAMENTS}
    AND l.postcode = r.postcode AND l.number IS NULL AND r.number IS NULL
    AND (len(list_intersect(l.site_words, r.site_words)) >= 2 OR l.first_line = r.first_line))"""

SAME_SECTOR_SITE = f"""(
    NOT {DIFFERENT_UPRNS} AND NOT {DIFFERENT_HEREDITAMENTS}
    AND l.sector = r.sector AND len(list_intersect(l.site_words, r.site_words)) >= 2)"""

# most of the words of the shorter address in the other, within a sector: "Unit 1b, Old Market Retail
# Park, High Road, Pitsea" and "Unit B, Old Market Retail Park, Pitsea" across a postcode slip
SAME_SECTOR_ADDRESS_ALIKE = f"""(
    NOT {DIFFERENT_UPRNS} AND NOT {DIFFERENT_HEREDITAMENTS} AND l.sector = r.sector
    AND len(list_intersect(list_distinct(l.address_tokens), list_distinct(r.address_tokens)))
        >= greatest(4, 2 * least(len(list_distinct(l.address_tokens)), len(list_distinct(r.address_tokens))) / 3))"""

AT_ONE_PREMISES = f"({SAME_NUMBERED_PREMISES} OR {SAME_POSTCODE_UNNUMBERED} OR {ONE_NAMES_THE_OTHER})"
