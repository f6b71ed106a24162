"""Any list of addresses -> UPRNs, against a published index: the batch step that `bx match` and the
address-matches endpoint share.

It reads only published tables (``address_features``, ``address_model``, ``addresses``) and scores
with the model and rules the index was built with (``link/address_matching.py``, as the build's
own records were), in a scratch database of its own: the index stays read-only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from business_index.duckdb_utils import sql_literal
from business_index.link.address_matching import (
    MatchRules,
    create_units_of_parents,
    decide,
    model_for_gazetteer,
    prepare_gazetteer,
    score_candidates,
)
from business_index.link.compiled_model import compile_model
from business_index.link.features import input_features

INDEX = "bx_index"


class NotMatchable(RuntimeError):
    """The index cannot match addresses: it has no gazetteer, or was built before matching was
    published. The message says what to do."""


@dataclass(frozen=True)
class AddressInput:
    """One address to place: its lines (or one line), and when known its postcode and the name of
    the business there (which the LLPG's organisation names can confirm)."""

    lines: Sequence[str | None]
    postcode: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class AddressMatch:
    uprn: int | None
    address: str | None
    match_probability: float | None
    runner_up_uprn: int | None
    runner_up_address: str | None
    runner_up_probability: float | None
    decided_by: str | None  # the rule that placed it, with the model's levels: "address_match (postcode: ...; ...)"
    reason: str | None  # why nothing was good enough


class IndexAddressMatcher:
    """Matches batches of addresses against one published index file."""

    def __init__(self, index: Path, rules: MatchRules | None = None):
        self.con = duckdb.connect()
        try:
            self._open(index, rules)
        except BaseException:
            self.con.close()
            raise

    def _open(self, index: Path, rules: MatchRules | None) -> None:
        try:
            self.con.execute(f"ATTACH {sql_literal(index.resolve())} AS {INDEX} (READ_ONLY)")
            tables = {row[0] for row in self.con.execute(
                f"SELECT table_name FROM duckdb_tables() WHERE database_name = '{INDEX}'").fetchall()}
        except duckdb.Error:
            raise NotMatchable("not a Business Index index (build one with `bx build`)") from None
        if not {"address_features", "address_model", "addresses"} <= tables:
            raise NotMatchable("this index was built before address matching was published: rebuild it with `bx build`")
        # the published tables under their own names, in this scratch database
        self.con.execute(f"""
            CREATE TEMP VIEW address_features AS SELECT * FROM {INDEX}.address_features;
            CREATE TEMP VIEW address_model AS SELECT * FROM {INDEX}.address_model;
            CREATE TEMP VIEW addresses AS SELECT * FROM {INDEX}.addresses;
        """)
        self.addresses = int(self.con.execute("SELECT count(*) FROM address_features").fetchall()[0][0])
        if self.addresses == 0:
            raise NotMatchable("this index has no gazetteer to match against: add a gazetteer source and rebuild")
        model, stopwords, min_probability, min_margin = self.con.execute(
            "SELECT model, stopwords, min_probability, min_margin FROM address_model").fetchall()[0]
        self.model = compile_model(model_for_gazetteer(json.loads(model), self.addresses))
        self.stopwords = frozenset(stopwords)
        self.rules = rules or MatchRules(min_probability, min_margin)
        create_units_of_parents(self.con)
        prepare_gazetteer(self.con)
        self.streets = frozenset(row[0] for row in self.con.execute(
            "SELECT DISTINCT street FROM address_features WHERE street IS NOT NULL").fetchall())

    def match(self, inputs: Sequence[AddressInput]) -> list[AddressMatch]:
        """One answer per input, in order."""
        return self.match_features(self.features(inputs))

    def features(self, inputs: Sequence[AddressInput]) -> pa.Table:
        """The inputs' comparable form (pure Python: a caller may prepare the next batch while
        DuckDB scores this one)."""
        return _parse(inputs, self.streets, self.stopwords)

    def match_features(self, features: pa.Table) -> list[AddressMatch]:
        """One answer per row of ``features`` (from ``features``), in order."""
        if features.num_rows == 0:
            return []
        self.con.execute("CREATE OR REPLACE TEMP TABLE list_inputs AS SELECT * FROM features")
        self.con.execute("CREATE OR REPLACE TEMP TABLE list_inputs_to_score AS SELECT * FROM list_inputs WHERE NOT not_a_property")
        score_candidates(self.con, "list_inputs_to_score", self.model)
        decide(self.con, "list_inputs", self.rules, not_a_property="i.not_a_property")
        # the runner-up to a match is the best other place: not the property chosen, nor the
        # building it was chosen through (a parent shell whose only unit it is)
        rows = self.con.execute("""
            WITH others AS (
                SELECT r.input_id, arg_min(r.uprn, r.rank) AS uprn, arg_min(r.match_probability, r.rank) AS p
                FROM address_ranked r JOIN address_decisions d USING (input_id)
                WHERE d.uprn IS NOT NULL AND r.uprn <> d.uprn AND r.uprn <> d.best_uprn
                GROUP BY 1),
            answered AS (
                SELECT d.*, CASE WHEN d.uprn IS NULL THEN d.best_uprn ELSE o.uprn END AS other_uprn,
                       CASE WHEN d.uprn IS NULL THEN d.best_probability ELSE o.p END AS other_probability
                FROM address_decisions d LEFT JOIN others o USING (input_id))
            SELECT d.uprn, a.single_line_address, round(d.match_probability, 6), d.other_uprn, r.single_line_address,
                   round(d.other_probability, 6),
                   CASE WHEN d.level IS NOT NULL THEN d.decided_by || ' (' || d.level || ')' ELSE d.decided_by END,
                   d.reason
            FROM answered d
            LEFT JOIN addresses a ON a.uprn = d.uprn
            LEFT JOIN addresses r ON r.uprn = d.other_uprn
            ORDER BY d.input_id""").fetchall()
        return [AddressMatch(*row) for row in rows]

    def parse_context(self) -> tuple[frozenset[str], frozenset[str]]:
        """What parsing needs (the gazetteer's streets, the stop words): for ``start_parser``."""
        return self.streets, self.stopwords

    def close(self) -> None:
        self.con.close()


_parser_context: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset())


def start_parser(streets: frozenset[str], stopwords: frozenset[str]) -> None:
    """Set up a parser process (``parse_batch``) with an index's ``parse_context``."""
    global _parser_context
    _parser_context = (streets, stopwords)


def parse_batch(inputs: Sequence[AddressInput]) -> pa.Table:
    """``IndexAddressMatcher.features`` in a parser process."""
    return _parse(inputs, *_parser_context)


def _parse(inputs: Sequence[AddressInput], streets: frozenset[str], stopwords: frozenset[str]) -> pa.Table:
    return input_features(((i, list(item.lines), item.postcode, item.name) for i, item in enumerate(inputs)),
                          streets, stopwords)
