"""When two records are at the same premises, as SQL over two rows ``l`` and ``r`` of
``business_inputs``: the one notion of "same premises" that business resolution and the Basildon
evaluation share.

With a gazetteer the answer is the UPRN. Without one (or for a record no rule could place) it
comes from the addresses as written, at three strengths:

* **the same premises**: the same building number (``8`` and ``8A`` and ``8-10`` share their
  base) at the same postcode, or at a postcode of the same sector on the same street (postcode
  slips between systems are common), with no conflicting flat or floor;
* **the same postcode, unnumbered**: one of them has no building number (schools, halls, pubs and
  retail parks are often written without one);
* **one names the other**: the address of one holds every distinctive word of the other's name
  ("Marstons Plc, Red Lion, High Street" and the FHRS "Red Lion"), within one postcode sector.

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
        AND (l.postcode = r.postcode OR (l.sector = r.sector AND l.street = r.street))
        AND (l.sub_premises IS NULL OR r.sub_premises IS NULL OR l.sub_premises = r.sub_premises)))"""


SAME_NUMBERED_PREMISES = same_numbered_premises()

SAME_POSTCODE_UNNUMBERED = f"""(
    NOT {DIFFERENT_UPRNS} AND NOT {DIFFERENT_HEREDITAMENTS}
    AND l.postcode = r.postcode AND (l.number IS NULL OR r.number IS NULL))"""

ONE_NAMES_THE_OTHER = f"""(
    NOT {DIFFERENT_UPRNS} AND NOT {DIFFERENT_HEREDITAMENTS} AND l.sector = r.sector AND (
        (len(r.distinctive_words) > 0 AND list_has_all(l.address_tokens, r.distinctive_words)) OR
        (len(l.distinctive_words) > 0 AND list_has_all(r.address_tokens, l.distinctive_words))))"""

AT_ONE_PREMISES = f"({SAME_NUMBERED_PREMISES} OR {SAME_POSTCODE_UNNUMBERED} OR {ONE_NAMES_THE_OTHER})"
