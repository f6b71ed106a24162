"""Configuration in one typed place: the ``sources.toml`` file and every tunable setting.

A ``sources.toml`` names the council, lists its sources (what each file is, in which format, who
owns it and on what lawful basis it is processed) and sets the rules of later stages. Paths are
relative to the TOML file. See the README for an example of every format.
"""

from __future__ import annotations

import codecs
import os
import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from business_index.clean.addresses import DEFAULT_STOPWORDS
from business_index.records import NameSourceKind, SourceKind

SourceFormat = Literal[
    "dtf73",
    "abp",
    "abplus",
    "uprn_addresses",
    "companies_house",
    "ndr_csv",
    "voa_list_entries",
    "licensing_csv",
    "lga_premises_licences",
    "fhrs_xml",
    "fhrs_csv",
]

# formats whose names are published by law or by their register (food hygiene ratings, the open
# premises-licence register, the VOA's list): a name such as "W H Smith" or "K Superstore" there is
# a business's public name, not a private individual's. A council's own exports (rates, a licensing
# system) hold individuals' names the council does not publish, so theirs are personal unless they
# are a company's or a trading name.
FORMATS_THAT_PUBLISH_NAMES = frozenset({"fhrs_xml", "fhrs_csv", "lga_premises_licences", "voa_list_entries"})

FORMATS_BY_KIND: dict[SourceKind, set[str]] = {
    SourceKind.GAZETTEER: {"dtf73", "abp", "abplus", "uprn_addresses"},
    SourceKind.RATES: {"ndr_csv", "voa_list_entries"},
    SourceKind.LICENSING: {"licensing_csv", "lga_premises_licences", "fhrs_xml", "fhrs_csv"},
    SourceKind.OTHER: {"licensing_csv", "lga_premises_licences", "fhrs_xml", "fhrs_csv", "ndr_csv"},
    SourceKind.REGISTER: {"companies_house"},
}

# Cross-reference SOURCE codes that mean "business rates" when a council does not say otherwise
# (formats.md section 4.9): national ABP code, common four-letter codes and <custodian>ND.
DEFAULT_NDR_XREF_SOURCES: tuple[str, ...] = ("7666VN", "VOAN", "NNDR", "NDR", r"^\d{4}ND$")


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceConfig(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    kind: SourceKind
    format: SourceFormat
    paths: list[Path] = Field(min_length=1)
    description: str | None = None
    # canonical field name -> column header in this source's file (overrides the built-in synonyms)
    columns: dict[str, str] = Field(default_factory=dict)
    encoding: str | None = None
    date_order: Literal["dmy", "mdy"] = "dmy"
    # gazetteer only: SOURCE codes of record 23 that hold the NDR property reference
    ndr_xref_sources: list[str] = Field(default_factory=lambda: list(DEFAULT_NDR_XREF_SOURCES))
    # a missing or wrong trailer count fails the build instead of warning
    strict_trailer: bool = False
    # whether the source publishes the names it holds (default: by format, FORMATS_THAT_PUBLISH_NAMES)
    names_published: bool | None = None
    # a source whose files hold no row at all is an error (a 0-byte or header-only export is almost
    # always a failed extract), unless it may be empty
    allow_empty: bool = False
    # what a data-protection officer asks for
    owner: str | None = None
    lawful_basis: str | None = None
    refreshed: date | None = None
    retention: str | None = None

    @model_validator(mode="after")
    def _format_fits_kind(self) -> SourceConfig:
        if self.format not in FORMATS_BY_KIND[self.kind]:
            allowed = ", ".join(sorted(FORMATS_BY_KIND[self.kind]))
            raise ValueError(f"format {self.format!r} is not a {self.kind.value} format (use one of {allowed})")
        return self

    @field_validator("ndr_xref_sources")
    @classmethod
    def _patterns_compile(cls, codes: list[str]) -> list[str]:
        for code in codes:
            if code.startswith("^"):
                try:
                    re.compile(code)
                except re.error as exc:
                    raise ValueError(f"{code!r} is not a regular expression ({exc})") from None
        return codes

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, encoding: str | None) -> str | None:
        if encoding is not None:
            try:
                codecs.lookup(encoding)
            except LookupError:
                raise ValueError(f"{encoding!r} is not an encoding Python knows (e.g. utf-8, cp1252, latin-1)") from None
        return encoding

    @property
    def publishes_names(self) -> bool:
        return self.names_published if self.names_published is not None else self.format in FORMATS_THAT_PUBLISH_NAMES

    def is_ndr_xref_source(self, code: str) -> bool:
        code = code.strip().upper()
        for wanted in self.ndr_xref_sources:
            if wanted.startswith("^"):
                if re.match(wanted, code, flags=re.IGNORECASE):
                    return True
            elif wanted.upper() == code:
                return True
        return False


class CouncilConfig(_Strict):
    name: str = "Unnamed council"
    custodian_code: str | None = None


class DeriveConfig(_Strict):
    """How one business name per property is chosen: first kind in the list that has a name wins.

    ``approved`` is a name the data team approved through the API; a list that leaves it out gets
    it first, so an approved name is never silently ignored.
    """

    name_precedence: list[NameSourceKind] = Field(
        default_factory=lambda: [NameSourceKind.APPROVED, NameSourceKind.GAZETTEER, NameSourceKind.LICENSING,
                                 NameSourceKind.RATES]
    )

    @field_validator("name_precedence")
    @classmethod
    def _approved_first_unless_placed(cls, kinds: list[NameSourceKind]) -> list[NameSourceKind]:
        if len(set(kinds)) != len(kinds):
            raise ValueError("a kind appears twice")
        return kinds if NameSourceKind.APPROVED in kinds else [NameSourceKind.APPROVED, *kinds]


class LinkConfig(_Strict):
    """Linking thresholds and models."""

    # a record is linked to its best candidate UPRN only at or above this match probability
    address_match_threshold: float = Field(default=0.9, ge=0.0, le=1.0)
    # ... and only when it leads the runner-up property by at least this match weight (log2 odds)
    address_match_margin: float = Field(default=0.0, ge=0.0)
    # two records are one business at or above this match probability
    business_match_threshold: float = Field(default=0.9, ge=0.0, le=1.0)
    # the most records that one key of the business model's blocking may pair with each other (every
    # pair of a block is scored, so a block's cost grows with its square): a larger block is split
    # (by postcode sector, then postcode; a registered name's by letters of its first word, then
    # place); records still in too large a block are not paired on that key (link/business_model.py)
    max_block_size: int = Field(default=500, ge=2)
    # a business model trained with `bx train`; default: the model shipped with the package
    business_model: Path | None = None
    # words that say nothing about where a place is, dropped when comparing addresses
    address_stopwords: list[str] = Field(default_factory=lambda: sorted(DEFAULT_STOPWORDS))
    # where business records are scored and clustered by name: Splink on DuckDB (in the build's own
    # database), or Splink on Spark (link/spark_engine.py) with the same model file
    engine: Literal["duckdb", "spark"] = "duckdb"
    # spark only: the master URL (local[2], spark://host:7077, yarn); default: the one spark-submit
    # or spark-defaults.conf gives, else local[2]
    spark_master: str | None = None
    # spark only: partitions of each shuffle (spark.sql.shuffle.partitions)
    spark_shuffle_partitions: int = Field(default=8, ge=1)
    # spark only: a folder every node can read (hdfs://, s3a://, dbfs:/) for Splink's intermediate
    # tables; default: the session's checkpoint folder, else a temporary one on a local master
    spark_checkpoint_dir: str | None = None
    # spark only: more Spark configuration, e.g. {"spark.executor.memory" = "8g"}
    spark_conf: dict[str, str] = Field(default_factory=dict)


class BuildConfig(_Strict):
    """Guards on what a build may publish over the index it replaces."""

    # a build whose addresses, or records of any source, fall below this share of the published
    # index's is refused (a truncated or wrong file), unless `bx build --allow-shrink` says it is meant
    shrink_limit: float = Field(default=0.5, ge=0.0, le=1.0)
    # processes that parse addresses and names (the row work SQL cannot say) side by side, and read
    # a large LLPG's files (sources/gazetteer_pool.py), with one more reading the other sources
    # meanwhile (sources.read_sources); 1 does it all in the build's own process.
    # Default: the machine's cores, at most 4
    workers: int = Field(default_factory=lambda: min(os.cpu_count() or 1, 4), ge=1)
    # the most memory DuckDB's buffers may hold while building, beyond which its tables, joins and
    # sorts spill to disk: a share of the memory the build may use ("25%") or a size ("8GB",
    # "512MiB"), a container's limit counted. A quarter: a 2-million-record build on 24 GB took
    # 7.2 GB at its peak (DuckDB's own 80% let it take 17.6 GB, and was no faster), and its
    # business model's steps ran within 4 GB. A host of a few GB building a large supply may
    # need a larger share
    memory_limit: str = "25%"

    @field_validator("memory_limit")
    @classmethod
    def _memory_limit(cls, value: str) -> str:
        share = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*%\s*", value)
        if share is not None and not 0 < float(share.group(1)) <= 100:
            raise ValueError(f"{value!r}: a share of the machine's memory is more than 0% and at most 100%")
        if share is None and not re.fullmatch(r"\s*\d+(\.\d+)?\s*(B|[KMGT]i?B)\s*", value, re.IGNORECASE):
            raise ValueError(f"{value!r}: a share of the machine's memory (\"40%\") or a size (\"8GB\", \"512MiB\")")
        return value.strip()

    def duckdb_memory_limit(self) -> str:
        """``memory_limit`` as DuckDB takes it: a share becomes that many MiB of the memory this
        process may use (``usable_memory``)."""
        share = re.fullmatch(r"(\d+(?:\.\d+)?)\s*%", self.memory_limit)
        if share is None:
            return self.memory_limit.replace(" ", "")
        return f"{max(256, int(usable_memory() * float(share.group(1)) / 100 / 2**20))}MiB"


def usable_memory() -> int:
    """Bytes of memory this process may use: the machine's, or its container's limit when less
    (cgroup v2 ``memory.max``, v1 ``memory.limit_in_bytes``)."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(limit_file).read_text(encoding="ascii").strip()
        except OSError:
            continue
        if text.isdigit():  # "max": no limit
            total = min(total, int(text))
    return total


class ServeConfig(BaseSettings):
    """Every setting of `bx serve`, in one typed place: read from the environment (``BX_`` and the
    name in capitals: ``BX_JWT_SECRET``, ``BX_SEARCHES_PER_MINUTE``), the command line overriding
    it. Secrets come only from the environment (under systemd, its environment file)."""

    model_config = SettingsConfigDict(env_prefix="BX_", extra="forbid")

    # tokens: an HS256 shared secret, or RS256 keys (a PEM public key, a JWKS file or URL)
    jwt_secret: SecretStr | None = None
    jwt_public_key: Path | None = None
    jwks_file: Path | None = None
    jwks_url: str | None = None
    # the longest a token may be valid for (from its iat), in hours
    max_token_hours: float = Field(default=24.0 * 7, gt=0)
    # callers without a token may read (no personal data)
    anonymous_read: bool = False
    # the submissions store: sqlite:///PATH, a file path, or postgresql://...; default beside the index
    store: str | None = None
    # web origins whose pages may call the API from a browser (comma-separated in the environment)
    cors_origins: Annotated[tuple[str, ...], NoDecode] = ()
    # seconds a client may take to send a request's headers, and their largest size
    header_timeout_seconds: float = Field(default=10.0, gt=0)
    max_header_bytes: int = Field(default=16 * 1024, ge=1024)
    # limits per client and minute (0: off); postcode lookups are not limited
    auth_failures_per_minute: int = Field(default=30, ge=0)
    searches_per_minute: int = Field(default=300, ge=0)
    screenings_per_minute: int = Field(default=60, ge=0)
    address_match_batches_per_minute: int = Field(default=30, ge=0)
    default_page_size: int = Field(default=25, ge=1)
    # the least Jaro-Winkler similarity between a searched name and a recorded one for search and
    # screening to list it: lower finds worse misspellings, and more unrelated names with them
    search_min_similarity: float = Field(default=0.85, ge=0.5, le=1.0)
    max_page_size: int = Field(default=100, ge=1)
    # a request body larger than this is refused with 413 before it is read in full
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # the pages' sessions: the key they are signed with (default: derived from the JWT secret), and
    # the minutes without a request after which one ends
    session_secret: SecretStr | None = None
    session_minutes: float = Field(default=30, gt=0)
    # the session cookie is sent only over https (and to loopback); false only behind plain http on a
    # network you trust
    session_cookie_secure: bool = True
    # names sent from the pages without a token (with anonymous use on), per client and hour
    page_submissions_per_hour: int = Field(default=10, ge=0)
    # origins (https://licensing.example.gov.uk) a licence application may ask the find-your-business
    # pages to return to, with the UPRN, business name and submission reference
    return_url_origins: Annotated[tuple[str, ...], NoDecode] = ()
    # ... except a batch of addresses to match (up to 1,000 of them)
    max_address_match_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # a request line (path and query) longer than this is refused with 414
    max_url_bytes: int = Field(default=4096, ge=256)
    # every worker re-reads approved names at most this often; the worker that recorded a
    # decision sees it at once
    approved_names_refresh_seconds: float = Field(default=2.0, ge=0.0)
    # an index with at most this many live addresses answers postcode lookups from memory
    # (about 300 bytes an address per worker); a larger one asks DuckDB
    postcode_lookup_max_rows: int = Field(default=2_000_000, ge=0)
    # an index whose name index has at most this many trigram rows searches names in memory
    # (about 40 bytes a row per worker); a larger one asks the database's name index
    name_index_max_rows: int = Field(default=20_000_000, ge=0)

    @field_validator("session_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        # shorter than the HMAC's 256 bits, a cookie's key could be guessed offline and sessions forged
        if value is not None and len(value.get_secret_value().encode("utf-8")) < 32:
            raise ValueError("the session secret must be at least 32 bytes")
        return value

    @field_validator("cors_origins", "return_url_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(o.strip() for o in value.split(",") if o.strip())
        return value

    def environment(self) -> dict[str, str]:
        """These settings as the environment a worker process reads them back from."""
        out: dict[str, str] = {}
        for name, value in self:
            if value is None:
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            elif isinstance(value, tuple):
                value = ",".join(value)
            out[f"BX_{name.upper()}"] = str(value).lower() if isinstance(value, bool) else str(value)
        return out


class Settings(_Strict):
    council: CouncilConfig = Field(default_factory=CouncilConfig)
    derive: DeriveConfig = Field(default_factory=DeriveConfig)
    link: LinkConfig = Field(default_factory=LinkConfig)
    build: BuildConfig = Field(default_factory=BuildConfig)
    sources: list[SourceConfig] = Field(min_length=1)
    # the folder relative paths are resolved against (the TOML file's folder)
    base_dir: Path = Path(".")

    @model_validator(mode="after")
    def _unique_names(self) -> Settings:
        seen: set[str] = set()
        for source in self.sources:
            if source.name in seen:
                raise ValueError(f"two sources are called {source.name!r}")
            seen.add(source.name)
        return self

    def resolve(self, path: Path) -> Path:
        return path if path.is_absolute() else (self.base_dir / path)


def load_settings(path: Path) -> Settings:
    """Read and validate a ``sources.toml``; errors name the file and the offending field."""
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder; give the sources.toml file in it")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}): save it as UTF-8") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    raw["base_dir"] = path.parent.resolve()
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            location = _describe_location(raw, error["loc"])
            problems.append(f"{path}: {location}: {error['msg']}")
        raise ConfigError("\n".join(problems)) from exc


def with_engine(settings: Settings, engine: str | None, spark_master: str | None) -> Settings:
    """``settings`` with ``bx build --engine`` / ``--spark-master`` in place of ``[link]``'s."""
    update: dict[str, object] = {}
    if engine is not None:
        if engine not in ("duckdb", "spark"):
            raise ConfigError(f"--engine {engine}: use duckdb or spark")
        update["engine"] = engine
    if spark_master is not None:
        update["spark_master"] = spark_master
    link = LinkConfig.model_validate({**settings.link.model_dump(), **update})
    if spark_master is not None and link.engine != "spark":
        raise ConfigError("--spark-master: the engine is duckdb; add --engine spark")
    return settings.model_copy(update={"link": link})


def _describe_location(raw: dict, loc: tuple) -> str:
    parts: list[str] = []
    node: object = raw
    for step in loc:
        if isinstance(step, int) and isinstance(node, list) and step < len(node):
            node = node[step]
            name = node.get("name") if isinstance(node, dict) else None
            parts[-1] = f"{parts[-1]}[{step}]" + (f" ({name})" if name else "")
        else:
            parts.append(str(step))
            node = node.get(step) if isinstance(node, dict) else None
    return ".".join(parts) or "file"
