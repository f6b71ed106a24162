"""The address -> UPRN linkage model, as data (a Splink settings object).

Left: business records (``record_features``); right: gazetteer LPIs (``address_features``).
Comparisons: postcode (exact, one-character slip, sector, district), building number, sub-premises
(unit, flat, floor), street, shared address words, the business name against the LLPG
organisation name (which an address-only matcher cannot use), and what kind of property the
candidate is (a business unit, a parent shell, a home).
"""

from __future__ import annotations

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator, block_on
from splink.blocking_rule_library import CustomRule

# shared words over all words, |A & B| / (|A| + |B| - |A & B|), over each address's distinct words
# (``words``, computed once per address); list_filter with list_contains counts the shared words
# several times faster than list_intersect
SHARED_WORDS = "len(list_filter(words_l, lambda w: list_contains(words_r, w)))"
TOKEN_JACCARD = f"({SHARED_WORDS} * 1.0 / nullif(len(words_l) + len(words_r) - {SHARED_WORDS}, 0))"
# a candidate whose building number cannot be the input's is never chosen (the matcher's number
# guard), so it is not compared either: 8 and 8A agree, 8 falls within 6-10, no number agrees with any
NUMBERS_AGREE = ("(l.number_low IS NULL OR r.number_low IS NULL OR l.number_base = r.number_base "
                 "OR l.number_low BETWEEN r.number_low AND r.number_high)")
NAME_TO_ORG = "list_max(list_transform(name_keys_l, lambda x: jaro_winkler_similarity(x, org_key_r)))"


def _postcode() -> cl.CustomComparison:
    return cl.CustomComparison(output_column_name="postcode", comparison_levels=[
        cll.NullLevel("postcode"),
        cll.ExactMatchLevel("postcode"),
        cll.CustomLevel("damerau_levenshtein(postcode_l, postcode_r) <= 1", "one character slip"),
        cll.CustomLevel("sector_l = sector_r", "same sector"),
        cll.CustomLevel("district_l = district_r", "same district"),
        cll.ElseLevel(),
    ])


def _number() -> cl.CustomComparison:
    return cl.CustomComparison(output_column_name="number", comparison_levels=[
        cll.NullLevel("number_base"),
        cll.ExactMatchLevel("number"),
        cll.CustomLevel("number_base_l = number_base_r", "same number, different suffix or range"),
        cll.ElseLevel(),
    ])


def _sub_premises() -> cl.CustomComparison:
    return cl.CustomComparison(output_column_name="sub_premises", comparison_levels=[
        cll.CustomLevel("sub_premises_l IS NULL AND sub_premises_r IS NULL", "neither has one"),
        cll.ExactMatchLevel("sub_premises"),
        cll.CustomLevel("contains(sub_premises_l, 'GROUND') AND contains(sub_premises_r, 'GROUND')", "both ground floor"),
        cll.CustomLevel("list_has_any(floors_l, floors_r) OR flat_position_l = flat_position_r",
                        "same floor, or the same flat by letter and number (B and 2)"),
        cll.CustomLevel("sub_premises_l IS NULL OR sub_premises_r IS NULL", "only one has one"),
        cll.ElseLevel(),
    ])


def _street() -> cl.CustomComparison:
    return cl.CustomComparison(output_column_name="street", comparison_levels=[
        cll.NullLevel("street"),
        cll.ExactMatchLevel("street"),
        cll.JaroWinklerLevel("street", 0.9),
        cll.ElseLevel(),
    ])


def _tokens() -> cl.CustomComparison:
    return cl.CustomComparison(output_column_name="tokens", comparison_levels=[
        cll.CustomLevel("len(tokens_l) = 0 OR len(tokens_r) = 0", "no words").configure(is_null_level=True),
        cll.CustomLevel(f"{TOKEN_JACCARD} >= 0.8", "most words shared"),
        cll.CustomLevel(f"{TOKEN_JACCARD} >= 0.5", "half the words shared"),
        cll.CustomLevel(f"{TOKEN_JACCARD} >= 0.25", "some words shared"),
        cll.ElseLevel(),
    ])


def _name_vs_organisation() -> cl.CustomComparison:
    return cl.CustomComparison(output_column_name="organisation", comparison_levels=[
        cll.CustomLevel("org_key_r IS NULL OR len(name_keys_l) = 0", "no name to compare").configure(is_null_level=True),
        cll.CustomLevel("list_contains(name_keys_l, org_key_r)", "same name"),
        cll.CustomLevel(f"{NAME_TO_ORG} >= 0.9", "similar name"),
        cll.ElseLevel(),
    ])


def _candidate_kind() -> cl.CustomComparison:
    return cl.CustomComparison(output_column_name="kind", comparison_levels=[
        cll.CustomLevel("kind_r = 'commercial'", "a business unit"),
        cll.CustomLevel("kind_r = 'parent'", "a building of several units"),
        cll.ElseLevel(),
    ])


def address_settings() -> SettingsCreator:
    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        comparisons=[_postcode(), _number(), _sub_premises(), _street(), _tokens(), _name_vs_organisation(),
                     _candidate_kind()],
        blocking_rules_to_generate_predictions=[
            CustomRule(f"l.postcode = r.postcode AND {NUMBERS_AGREE}"),
            block_on("street", "number_base"),
            # a postcode slip within the sector, the street spelt alike at its start
            block_on("sector", "number_base", "street_head"),
            CustomRule(f"l.street = r.street AND l.sub_premises = r.sub_premises AND {NUMBERS_AGREE}"),
            CustomRule(f"l.primary_name = r.org_key AND {NUMBERS_AGREE}"),
        ],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        probability_two_random_records_match=1e-5,
    )
