"""The name index: every name key's trigrams, so that a search looks at the few keys that share
letters with what was typed instead of scoring every key.

A key is padded with two spaces in front and one behind (``"  ACME "``), so its first letters
count twice and a key of one or two letters still has trigrams. ``name_grams`` holds one row per
trigram and key, written in trigram order (DuckDB's zone maps then skip to a trigram's rows; on
PostgreSQL an index on ``gram`` does the same); ``name_gram_frequency`` says how many keys hold each
trigram, so a search can leave out the trigrams nearly every key holds.

``GRAMS_OF`` is the one definition of a key's trigrams: the build's step and the search's query
(``store/name_lookup``) both expand it, and it is plain SQL that DuckDB and PostgreSQL read alike.
"""

from __future__ import annotations

from business_index.sql_steps import SqlStep

GRAM_LENGTH = 3


def grams_of(key_sql: str) -> str:
    """A FROM clause whose rows are the distinct trigrams (``gram``) of the key ``key_sql``, an
    SQL expression or a ``?`` parameter."""
    return f"""(SELECT DISTINCT substr(padded.text, g.i, {GRAM_LENGTH}) AS gram
                FROM (SELECT '  ' || {key_sql} || ' ' AS text) AS padded,
                     generate_series(1, length(padded.text) - {GRAM_LENGTH - 1}) AS g(i))"""


NAME_INDEX_STEPS = (
    SqlStep("name_grams",
            reads=("name_search",),
            writes=("name_grams",), sql=f"""
        CREATE OR REPLACE TABLE name_grams AS
        SELECT grams.gram, keys.key
        FROM (SELECT DISTINCT key FROM name_search) AS keys,
             LATERAL {grams_of("keys.key")} AS grams
        ORDER BY grams.gram, keys.key"""),
    SqlStep("name_gram_frequency",
            reads=("name_grams",),
            writes=("name_gram_frequency",), sql="""
        CREATE OR REPLACE TABLE name_gram_frequency AS
        SELECT gram, count(*) AS keys FROM name_grams GROUP BY gram ORDER BY gram"""),
)
