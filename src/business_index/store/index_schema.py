"""Every table a published index holds: its columns, the stage and modules that write it, the
modules that read it, and what one row is.

This is the contract between the build's stages and the index's readers (the API, exports and the
evaluators read only these tables). Working tables of a stage (``record_features``,
``business_inputs``, Splink's) are dropped before an index is published; a
test builds an index and fails if what it holds differs from this declaration. A change here that
readers must know of raises ``SCHEMA_VERSION`` (``index_writer.py``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Table:
    name: str
    stage: str  # the stage that writes it: sources (through store), link or derive
    row: str  # what one row is
    columns: tuple[str, ...]
    written_by: tuple[str, ...]  # the modules (under business_index/) whose SQL makes or changes it
    read_by: tuple[str, ...]  # the other modules whose SQL reads it (none: kept for people and tools)


def _t(name: str, stage: str, row: str, columns: str, written_by: str, read_by: str) -> Table:
    return Table(name, stage, row, tuple(columns.split()), tuple(written_by.split()), tuple(read_by.split()))


LINEAGE = "source file line"
PUBLISHED: tuple[Table, ...] = (
    _t("build_info", "store", "a fact of the build (id, time, versions, counts, settings)", "key value",
       written_by="store/index_writer", read_by="store/index_queries store/index_reader store/postgres_index"),
    _t("sources", "store", "a source of sources.toml, with its data-protection facts",
       "name kind format description owner lawful_basis refreshed retention paths",
       written_by="store/index_writer", read_by=""),
    _t("source_files", "store", "a file read, with its counts and warnings",
       "source file encoding read loaded quarantined warnings",
       written_by="build store/index_writer", read_by="store/index_queries"),
    _t("quarantine", "sources", "a row that could not be loaded, with its field and reason",
       f"{LINEAGE} field reason raw",
       written_by="build store/index_writer", read_by="store/export store/index_queries"),
    _t("addresses", "sources", "a property (BLPU) with its approved address",
       "uprn parent_uprn usrn lpi_key logical_status blpu_state sao_start_number sao_start_suffix "
       "sao_end_number sao_end_suffix sao_text pao_start_number pao_start_suffix pao_end_number pao_end_suffix "
       "pao_text street_description locality town postcode single_line_address classification organisation "
       "local_custodian_code "
       f"x_coordinate y_coordinate latitude longitude start_date end_date descriptive_street {LINEAGE}",
       written_by="store/index_writer",
       read_by=("store/name_lookup build derive/establishments derive/property_names link/business_inputs "
                "link/address_lists link/companies link/deterministic link/features store/export "
                "store/index_queries "
                "store/index_reader")),
    _t("address_aliases", "sources", "an address (LPI) of a property, approved or not",
       f"uprn lpi_key logical_status language single_line_address postcode start_date end_date {LINEAGE}",
       written_by="store/index_writer", read_by="link/features store/index_queries"),
    _t("cross_references", "sources", "an LLPG cross reference (record 23)",
       f"uprn xref_key source_code reference start_date end_date {LINEAGE}",
       written_by="store/index_writer", read_by="build link/deterministic"),
    _t("gazetteer_other_records", "sources", "a gazetteer record read past on purpose, kept raw",
       "source file line record_type fields",
       written_by="store/index_writer", read_by=""),
    _t("business_records", "sources", "a rates account, list entry, licence or food establishment",
       "record_id source file line source_kind record_type source_record_id name trading_name holder_name "
       "holder_is_individual name_withheld address_lines address_text postcode uprn property_ref account_ref "
       "licence_ref licence_type status description rateable_value start_date end_date last_seen_date extra",
       written_by="store/index_writer",
       read_by=("link/engine_agreement store/name_lookup build derive/establishments derive/property_names evaluate/basildon evaluate/synthetic "
                "link/business_inputs link/businesses link/deterministic link/features link/properties "
                "store/export store/index_queries")),
    _t("approved_names", "store", "a name the data team approved for a property, at build time",
       "uprn business_name submission_id decided_at name_key",
       written_by="store/index_writer", read_by="derive/establishments derive/property_names"),
    _t("record_links", "link", "a record placed at a property, with the rule and probability",
       "record_id uprn link_rule match_probability",
       written_by="link/deterministic link/properties",
       read_by=("store/name_lookup derive/establishments derive/property_names evaluate/synthetic link/business_inputs "
                "store/export store/index_queries")),
    _t("unmatched_records", "link", "a record no rule placed, with why and its best candidates",
       "record_id given_uprn reason best_candidates",
       written_by="link/properties", read_by="store/export store/index_queries"),
    _t("address_features", "link", "an address (LPI) of a live property in the matcher's comparable form",
       "unique_id uprn parent_uprn lpi_key lpi_status kind postcode sector district sub_premises number "
       "number_base street tokens org_key floors",
       written_by="link/features", read_by="link/address_lists link/address_matching link/properties"),
    _t("address_model", "link", "the address model, rules and stop words the build matched with",
       "model source stopwords min_probability min_margin",
       written_by="link/properties", read_by="link/address_lists"),
    _t("companies", "link", "a registered company the records could mean (Companies House), with its names",
       "company_number name status category incorporated dissolved postcode address sic_codes previous_names "
       "source file line",
       written_by="link/companies", read_by="store/index_queries"),
    _t("organisation_companies", "link", "an organisation and the registered company its records name",
       "organisation_id company_number",
       written_by="link/companies", read_by="store/index_queries"),
    _t("record_establishments", "link", "a record with its establishment and organisation",
       "record_id record_key establishment_id organisation_id",
       written_by="link/businesses",
       read_by=("link/engine_agreement store/name_lookup build derive/establishments derive/property_names evaluate/basildon evaluate/synthetic link/companies "
                "store/export store/index_queries")),
    _t("id_changes", "link", "a merge or split of an id since the previous build",
       "kind previous_id current_id records change",
       written_by="link/businesses", read_by=""),
    _t("record_names", "derive", "a record with the name it may show the public", "record_id public_name",
       written_by="derive/establishments", read_by="store/index_queries"),
    _t("establishments", "derive", "an establishment: a business at one premises over one period",
       "establishment_id organisation_id name uprn address postcode first_seen last_seen still_open "
       "record_count name_variants sources has_individual",
       written_by="derive/establishments",
       read_by=(
                "derive/property_names store/export store/index_queries")),
    _t("establishment_source_counts", "derive", "an establishment and source, with its records",
       "establishment_id source records",
       written_by="derive/establishments", read_by=""),
    _t("organisations", "derive", "an organisation: the operator behind establishments",
       "organisation_id name establishment_count record_count name_variants uprns has_individual "
       "first_seen last_seen",
       written_by="derive/establishments",
       read_by=(
                "derive/property_names store/export store/index_queries")),
    _t("organisation_source_counts", "derive", "an organisation and source, with its records",
       "organisation_id source records",
       written_by="derive/establishments", read_by=""),
    _t("premises_history", "derive", "an establishment seen at a property, with its period",
       "uprn establishment_id organisation_id name first_seen last_seen still_open current",
       written_by="derive/establishments", read_by="derive/property_names store/index_queries"),
    _t("name_search", "derive", "a name key an establishment's records carry, personal or public",
       "establishment_id organisation_id key personal",
       written_by="derive/establishments", read_by="derive/name_index store/name_lookup"),
    _t("name_grams", "derive", "a trigram of a name key (the name index)", "gram key",
       written_by="derive/name_index", read_by="store/index_reader store/name_lookup"),
    _t("name_gram_frequency", "derive", "a trigram of the name index, with how many keys hold it", "gram keys",
       written_by="derive/name_index", read_by="store/name_lookup"),
    _t("name_candidates", "derive", "a name a property could be known by, with its provenance",
       "uprn name source_kind source record_id name_date sort_date establishment_id",
       written_by="derive/property_names", read_by=""),
    _t("property_names", "derive", "a property's one business name, its provenance and operator",
       "uprn business_name name_source_kind name_source name_record_id name_date establishment_id "
       "organisation_id organisation_name other_candidates",
       written_by="derive/property_names",
       read_by=("derive/establishments evaluate/synthetic store/export store/index_queries "
                "store/index_reader")),
)
PUBLISHED_NAMES = frozenset(t.name for t in PUBLISHED)

# the columns readers look rows up by (store/index_queries, store/name_lookup): each database
# gets an index on each (DuckDB's ART indexes by store/index_writer, PostgreSQL's by
# store/postgres_index), so a point look-up reads a few rows, not a whole column
LOOKUPS: dict[str, tuple[tuple[str, ...], ...]] = {
    "addresses": (("uprn",), ("postcode",)),
    "address_aliases": (("uprn",),),
    "business_records": (("record_id",),),
    "record_links": (("record_id",), ("uprn",)),
    "record_names": (("record_id",),),
    "record_establishments": (("record_id",), ("establishment_id",), ("organisation_id",)),
    "establishments": (("establishment_id",), ("organisation_id",)),
    "organisations": (("organisation_id",),),
    "establishment_source_counts": (("establishment_id",),),
    "organisation_source_counts": (("organisation_id",),),
    "premises_history": (("uprn",),),
    "property_names": (("uprn",),),
    "name_search": (("key",),),
    "name_grams": (("gram",),),
    "name_gram_frequency": (("gram",),),
    "companies": (("company_number",),),
    "organisation_companies": (("organisation_id",),),
    "quarantine": (("source", "reason"),),
}
