"""The business resolution model, as data (a Splink settings object).

Records of one business share a name (in one of its spellings: trading name, ratepayer, company
holding the licence), often a proprietor, and are at the same premises or share a rates
reference; records of successive occupiers share the premises but not the name or the period.
The exact-name level is adjusted by term frequency, so a name many records share weighs less than
a rare one, and frequent words are never deleted from names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator, block_on

MODEL_VERSION = "business-resolution/1"

# Two parameters are set from knowledge rather than estimated, and why:
#
# * m for "premises" (how often two records of ONE business are at the same premises). Without
#   labels EM cannot tell "the same business" from "the same premises" and settles on the premises
#   (the local optimum Splink users report for household vs person, issue #1817). Counted over
#   pairs of records, most pairs of one business are at different premises as soon as it has
#   several (a chain of 30 shops has 30 times more cross-premises pairs than same-premises ones),
#   so the values below describe pairs, not businesses.
# * u for "the same registered company" (how often two DIFFERENT businesses name the same company).
#   A company's name is unique on the UK register, so this is close to zero; estimating it from
#   random pairs would count a chain's own records as "different businesses" and inflate it.
# Everything else is estimated from the data: u from random pairs, m for names, proprietor and
# period by EM within premises.
FIXED_M_PROBABILITIES: dict[str, dict[str, float]] = {
    "premises": {"the same premises": 0.25, "the same building": 0.01, "the same postcode": 0.01,
                 "the same postcode sector": 0.03, "All other comparisons": 0.70},
}
FIXED_U_PROBABILITIES: dict[str, dict[str, float]] = {
    "name": {"the same registered company": 1e-6,
             # registered names one keystroke apart are rare, though the register allows them
             "registered company names differ by one keystroke": 1e-7},
}
# A slip is rare beside the name it mistypes: two spellings of a registered name one keystroke apart
# that are each written by this many records or more are two companies ("HASSETT ESTATES LTD" and
# "FASSETT ESTATES LTD", each on dozens of records), not one company and its slip
SLIP_FEWEST_RECORDS = 5
COMPANY_ONE_KEYSTROKE = ("company_key_l IS NOT NULL AND company_key_r IS NOT NULL AND "
                         "damerau_levenshtein(company_key_l, company_key_r) <= 1 AND "
                         f"least(company_key_records_l, company_key_records_r) < {SLIP_FEWEST_RECORDS}")

# a pub or venue often appears in the rates file by its company, with its name in the address:
# "Marstons Plc, Red Lion, High Street" is the FHRS "Red Lion"
NAME_IN_ADDRESS = ("(len(uncommon_words_r) > 0 AND list_has_all(address_tokens_l, name_tokens_r)) OR "
                   "(len(uncommon_words_l) > 0 AND list_has_all(address_tokens_r, name_tokens_l))")
# Jaro-Winkler similarity of the closest keys of two names: at or above SLIP_SIMILARITY one is the
# other with a keystroke or two wrong ("HACKNY CATERING" / "HACKNEY CATERING"); at or above
# SIMILAR_NAMES they are alike enough to count as evidence, never alone
SLIP_SIMILARITY = 0.95
SIMILAR_NAMES = 0.88


def splink_columns(column: str) -> tuple[str, str]:
    """The two records' ``column`` as Splink's comparison SQL names them."""
    return f"{column}_l", f"{column}_r"


def joined_columns(column: str) -> tuple[str, str]:
    """The two records' ``column`` in a self-join aliased ``l`` and ``r``."""
    return f"l.{column}", f"r.{column}"


def best_name_similarity(columns: Callable[[str], tuple[str, str]] = splink_columns) -> str:
    """The Jaro-Winkler similarity of the closest keys of the two records' names."""
    left, right = columns("name_keys")
    return (f"list_max(list_transform({left}, lambda x: "
            f"list_max(list_transform({right}, lambda y: jaro_winkler_similarity(x, y)))))")


def name_contained(columns: Callable[[str], tuple[str, str]] = splink_columns) -> str:
    """Every word of the shorter primary name appears in the other ("HOMERTON CATERING" in
    "HOMERTON CATERING SUPPLIES"), and at least two."""
    left, right = columns("name_tokens")
    return (f"(len(list_intersect({left}, {right})) >= 2 AND "
            f"len(list_intersect({left}, {right})) = least(len({left}), len({right})))")


def _name() -> cl.CustomComparison:
    return cl.CustomComparison(output_column_name="name", comparison_levels=[
        cll.CustomLevel("len(name_keys_l) = 0 OR len(name_keys_r) = 0", "a name is missing").configure(
            is_null_level=True),
        cll.CustomLevel("list_has_any(company_keys_l, company_keys_r)", "the same registered company"),
        cll.CustomLevel(COMPANY_ONE_KEYSTROKE, "registered company names differ by one keystroke"),
        cll.ExactMatchLevel("primary_name").configure(tf_adjustment_column="primary_name", tf_adjustment_weight=1.0),
        cll.CustomLevel("list_has_any(name_keys_l, name_keys_r)", "one of their names is the same"),
        cll.CustomLevel(f"{best_name_similarity()} >= {SLIP_SIMILARITY}", "names differ by a slip"),
        cll.CustomLevel(name_contained(), "one name contains the other"),
        cll.CustomLevel(f"{best_name_similarity()} >= {SIMILAR_NAMES}", "similar names"),
        cll.CustomLevel(NAME_IN_ADDRESS, "one's name is in the other's address"),
        cll.CustomLevel("list_has_any(uncommon_words_l, uncommon_words_r)", "they share an uncommon word"),
        cll.ElseLevel(),
    ])


def _proprietor() -> cl.CustomComparison:
    return cl.CustomComparison(output_column_name="proprietor", comparison_levels=[
        cll.NullLevel("proprietor_key"),
        cll.ExactMatchLevel("proprietor_key"),
        cll.JaroWinklerLevel("proprietor_key", 0.9),
        cll.ElseLevel(),
    ])


def _premises() -> cl.CustomComparison:
    """Where the records are. One comparison, because a UPRN, a rates reference and a postcode all
    say the same thing, and counting them three times would make any two records at one premises
    look like one business."""
    return cl.CustomComparison(output_column_name="premises", comparison_levels=[
        cll.CustomLevel("(premises_key_l IS NULL AND postcode_l IS NULL AND property_ref_l IS NULL) OR "
                        "(premises_key_r IS NULL AND postcode_r IS NULL AND property_ref_r IS NULL)",
                        "a location is unknown").configure(is_null_level=True),
        cll.CustomLevel("premises_key_l = premises_key_r OR property_ref_l = property_ref_r", "the same premises"),
        cll.CustomLevel("parent_uprn_l = parent_uprn_r", "the same building"),
        cll.CustomLevel("postcode_l = postcode_r", "the same postcode"),
        cll.CustomLevel("sector_l = sector_r", "the same postcode sector"),
        cll.ElseLevel(),
    ])


def _period() -> cl.CustomComparison:
    return cl.CustomComparison(output_column_name="period", comparison_levels=[
        cll.CustomLevel("active_from_l IS NULL OR active_from_r IS NULL", "a period is unknown").configure(
            is_null_level=True),
        cll.CustomLevel("active_from_l <= active_to_r AND active_from_r <= active_to_l", "active at the same time"),
        cll.ElseLevel(),
    ])


@dataclass(frozen=True)
class BlockingKey:
    """One key on which records are paired: the columns of ``named_inputs`` it is made of, and
    how a block of more than ``[link] max_block_size`` records is split: SQL over
    ``business_inputs``, the first that brings a record's block within the size."""

    columns: tuple[str, ...]
    splits: tuple[str, ...] = ("sector", "postcode")
    only_split: bool = False  # pairs only the records of split blocks (a second split of a key)
    # split blocks of more than this many different ``unit`` values (when fewer than ``[link]
    # max_block_size``); a block is split past ``max_block_size`` records whatever their values
    most: int | None = None
    unit: str = "unique_id"  # what ``most`` counts: records, or for a key of slips the registered names
    # pairs only one record of each postcode area of the blocks that ``AREA_BLOCK_SIZE`` splits
    across_areas: bool = False

    def block_size(self, max_block_size: int) -> int:
        """The most ``unit`` values a block of this key holds before it is split."""
        return max_block_size if self.most is None else min(self.most, max_block_size)


# A key that only catches slips in registered names (``company_head``, ``company_tail``) puts many
# different companies in one block ("LEEDS|3|E": every three-word Leeds company whose last word
# starts with E; "THE|3|L" in real data), and the pairs it makes are compared on every level of the
# name comparison. Past this many different registered names its block is split by what a slip in one
# word leaves intact, so that its pairs grow with the records rather than with the square of its
# blocks. Names, not records: one company's many records (an estates company's forty properties) with
# the slip of one of them are one block to keep.
SLIP_BLOCK_SIZE = 50


# A name used in several postcode areas (a chain's trading name, a common name such as "STAR KEBAB",
# a national company) would otherwise put all its records across the country in one block until the
# block reaches ``[link] max_block_size``, so that its pairs grow with the square of the records up to
# that size. Past this many records a block of any key in several areas is split by postcode area
# first (then as the key says), and one record of each area of a name meets the others' in a key of
# its own (``across_areas``), so that the name's records in different areas still come together
# through them: within an area every pair, across areas one pair per two areas.
AREA_BLOCK_SIZE = 50
# the postcode area of a record, a column of ``business_inputs`` ("LS" of "LS1 4AP"; '' without a postcode)
AREA = "area"
# the council whose area a record is in, a column of ``business_inputs`` ('' where unknown). Records
# are paired only within one council: a name's spellings are one business within a council's area,
# and two towns' "Ayse's Grill" are two. Across councils only a registered name joins organisations
# (``organisations.py``), and a national name cluster would tie together, within one council,
# records that nothing there links (pubs whose names other boroughs' records share)
COUNCIL = "council"

# the first word of the registered name that ``company_tail`` keeps only the initial of
_FIRST_WORD = "split_part(company_key, ' ', 1)"
# the last word of the registered name that ``company_head`` keeps only the initial of, and the rest
_LAST_WORD = "split_part(company_key, ' ', -1)"
_ALL_BUT_LAST_WORD = "regexp_replace(company_key, ' [^ ]*$', '')"

# Which pairs of records are scored: those that agree on one of these keys (``link/business_inputs.py``
# writes them as ``block_*`` columns). A key shared by more than ``[link] max_block_size`` records (a
# common name across a large area) is split, and records still in too large a block are not paired on
# that key (other keys still pair them). The pairs a key makes then grow with the records, not with
# their square.
BLOCKING_KEYS: dict[str, BlockingKey] = {
    "block_premises": BlockingKey(("premises_key",)),
    "block_name": BlockingKey(("primary_name",)),
    "block_name_areas": BlockingKey(("primary_name",), across_areas=True),
    "block_name_sorted": BlockingKey(("name_sorted",)),
    "block_name_first2": BlockingKey(("name_first2", "sector")),
    # a slip in one word of a registered name must not keep two records from being compared.
    # "LEEDS|3|E" is split by the last word (a slip in a middle word keeps it), and again by all the
    # words but the last (a slip in the last word keeps those)
    "block_company_head": BlockingKey(("company_head",), (_LAST_WORD, "sector", "postcode"),
                                      most=SLIP_BLOCK_SIZE, unit="company_key"),
    "block_company_head_start": BlockingKey(("company_head",), (_ALL_BUT_LAST_WORD,), only_split=True,
                                            most=SLIP_BLOCK_SIZE, unit="company_key"),
    # "C|ESTATES" holds every "C... Estates" company: split by the second letter of the first word,
    # and again by its last letter, so that a slip in the first word still meets its original in
    # one of the two wherever the two records are
    "block_company_tail": BlockingKey(("company_tail",), (f"substr({_FIRST_WORD}, 2, 1)", "sector", "postcode"),
                                      most=SLIP_BLOCK_SIZE, unit="company_key"),
    "block_company_tail_end": BlockingKey(("company_tail",), (f"right({_FIRST_WORD}, 1)",), only_split=True,
                                          most=SLIP_BLOCK_SIZE, unit="company_key"),
    "block_property_ref": BlockingKey(("property_ref",)),
    "block_proprietor": BlockingKey(("proprietor_key",)),
}


def business_settings() -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[_name(), _proprietor(), _premises(), _period()],
        blocking_rules_to_generate_predictions=[block_on(key) for key in BLOCKING_KEYS],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        additional_columns_to_retain=[],
        max_iterations=25,
        em_convergence=0.0005,
    )
