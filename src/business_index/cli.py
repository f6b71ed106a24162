"""``bx``: the command line, a thin layer over the stages. Every command has --help."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Business Index: one trusted register of the businesses at a council's addresses.",
                  no_args_is_help=True, add_completion=False, rich_markup_mode=None)
console = Console(stderr=True)  # progress, warnings and errors
stdout = Console()  # what a command reports: its tables and figures (so that `bx build > log` keeps them)


def _fail(message: str) -> None:
    """Print an error unwrapped (it names a file and line a person may want to copy) and exit 2."""
    from rich.markup import escape

    console.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True, highlight=False)
    raise typer.Exit(2)


STORE_HELP = ("The submissions store: sqlite:///PATH, a file path, or postgresql://... "
              "[default: a SQLite file beside the index, INDEX.submissions.sqlite3]")


def _approved_names(store: str | None, index: Path):  # type: ignore[no-untyped-def]
    """The approved names a build must carry; none when the default store was never created."""
    from business_index.store.submissions import (
        StoreError,
        SubmissionStore,
        default_store_path,
        default_store_url,
    )

    url = store or default_store_url(index)
    if store is None and not default_store_path(index).exists():
        return []
    try:
        return SubmissionStore(url).approved_names()
    except (StoreError, OSError) as exc:
        _fail(f"cannot read approved names from the submissions store: {exc}\nNo index was published.")


def _check_index(index: Path) -> None:
    """Stop with a clear error unless ``index`` is an index this version reads."""
    from business_index.store.index_reader import IndexReader, IndexUnavailable

    if not index.exists():
        _fail(f"{index}: no such index")
    try:
        IndexReader(index).current()
    except IndexUnavailable as exc:
        _fail(f"--index {index}: {exc}")


def _show_version(value: bool) -> None:
    if value:
        from business_index import __version__

        typer.echo(f"bx (Business Index) {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option(
        "--version", callback=_show_version, is_eager=True, help="Print the version and exit.")] = False) -> None:
    """Business Index: one trusted register of the businesses at a council's addresses."""


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the borough into.")],
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")] = 1,
    properties: Annotated[int, typer.Option(help="Number of gazetteer properties (BLPUs).", min=50)] = 5000,
    ndr_source_code: Annotated[str | None, typer.Option(
        help="SOURCE code of the LLPG cross references that hold NDR references (default <custodian>ND).")] = None,
    workers: Annotated[int, typer.Option(help="Processes used to write files.", min=1)] = 2,
    boroughs: Annotated[int, typer.Option(
        help="Boroughs in one dataset (each of --properties, in its own folder, with one sources.toml and "
             "truth for all; the first is the borough of this seed).", min=1)] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Write a synthetic borough (LLPG, NDR, VOA, licensing) with ground truth kept apart."""
    from business_index.synthetic import generate_borough

    if boroughs > 1:
        _generate_dataset(out, seed, properties, boroughs, ndr_source_code, workers, as_json)
        return
    with console.status("generating") as status:
        report = generate_borough(out, seed, properties, ndr_source_code=ndr_source_code, workers=workers,
                                  progress=lambda message: status.update(message))
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
        return
    table = Table(title=f"Synthetic borough in {out}")
    table.add_column("file")
    table.add_column("rows", justify="right")
    for name, rows in sorted(report.files.items()):
        table.add_row(name, f"{rows:,}")
    stdout.print(table)
    stdout.print(f"{report.properties:,} properties, {report.businesses:,} businesses, "
                  f"{report.business_records:,} business records in {report.seconds:.1f} s "
                  f"({report.records_per_second:,.0f} records/s)")


def _generate_dataset(out: Path, seed: int, properties: int, boroughs: int, ndr_source_code: str | None,
                      workers: int, as_json: bool) -> None:
    from business_index.synthetic.national import generate_dataset

    if ndr_source_code is not None:
        raise typer.BadParameter("each borough of a dataset has its own (<custodian>ND)", param_hint="--ndr-source-code")
    try:
        with console.status("generating") as status:
            report = generate_dataset(out, seed, boroughs, properties, workers=workers,
                                      progress=lambda message: status.update(message))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--boroughs") from None
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
        return
    table = Table(title=f"Synthetic dataset of {boroughs} boroughs in {out}")
    for column in ("borough", "custodian", "seed", "properties", "business records", "seconds"):
        table.add_column(column, justify="left" if column == "borough" else "right")
    for b in report.boroughs:
        table.add_row(b.folder, b.custodian_code, str(b.seed), f"{b.properties:,}", f"{b.business_records:,}",
                      f"{b.seconds:.1f}")
    stdout.print(table)
    stdout.print(f"{report.properties:,} properties, {report.business_records:,} business records in "
                 f"{report.seconds:.1f} s; build with bx build --config {out / 'sources.toml'}, "
                 f"score with bx evaluate --truth {out / 'truth'}")


@app.command()
def build(
    config: Annotated[Path, typer.Option("--config", help="The sources.toml describing the council's files.")],
    index: Annotated[Path, typer.Option("--index", help="The DuckDB index file to publish.")],
    store: Annotated[str | None, typer.Option(
        "--store", envvar="BX_STORE", help=STORE_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the build summary as JSON.")] = False,
    allow_shrink: Annotated[bool, typer.Option(
        "--allow-shrink", help="Publish even if addresses or a source's records fell below [build] shrink_limit "
                               "(default half) of the published index's.")] = False,
    engine: Annotated[str | None, typer.Option(
        "--engine", help="Where business names are scored and clustered: duckdb or spark (default: [link] engine).")
    ] = None,
    spark_master: Annotated[str | None, typer.Option(
        "--spark-master", help="With --engine spark: the Spark master URL (local[2], spark://host:7077, yarn; "
                               "default: [link] spark_master, else spark-submit's, else local[2]).")] = None,
) -> None:
    """Ingest every source and publish a new index (atomically: the old one stays until this one is done).
    Names the data team approved through the API (in the submissions store) take part. A source file
    with no rows, or a build that shrank against the published index, is refused (see --allow-shrink)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from business_index.build import BuildRefused, build_index, preflight
    from business_index.config import ConfigError, load_settings, with_engine
    from business_index.sources import SourceFileError

    try:
        settings = load_settings(config)
        settings = with_engine(settings, engine, spark_master)
        preflight(settings, index)
    except (ConfigError, BuildRefused) as exc:
        _fail(f"{exc}\nNo index was published.")
    approved = _approved_names(store, index)
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console,
                      transient=True, disable=as_json or not console.is_terminal) as bar:
            task = bar.add_task("building", total=len(settings.sources) + 1)

            def progress(stage: str, done: int, total: int) -> None:
                bar.update(task, description=stage, completed=done, total=total)

            report = build_index(settings, index, progress, approved, allow_shrink=allow_shrink)
    except (SourceFileError, BuildRefused) as exc:
        _fail(f"{exc}\nNo index was published.")
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2, default=str))
        return
    table = Table(title=f"Index {report.index} (build {report.build_id})")
    for column in ("source", "format", "read", "loaded", "quarantined"):
        table.add_column(column, justify="right" if column in ("read", "loaded", "quarantined") else "left")
    for source in report.sources:
        table.add_row(source.name, source.format, f"{source.read:,}", f"{source.loaded:,}", f"{source.quarantined:,}")
    stdout.print(table)
    for source in report.sources:
        for warning in source.warnings:
            console.print(f"[yellow]warning:[/yellow] {warning}")
        for code, entry in list(source.quarantine_reasons.items())[:5]:
            example = entry["example"]
            assert isinstance(example, dict)
            stdout.print(f"{source.name}: {entry['count']:,} quarantined: {code} (e.g. line {example['line']}: "
                          f"{example['reason']})", markup=False, highlight=False)
        if source.quarantined:
            stdout.print(f"  every quarantined row: bx export quarantine --index {report.index} --out FILE.csv",
                          markup=False, highlight=False)
    stdout.print(", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in report.counts.items()))
    for note in report.notes:
        stdout.print(f"note: {note}", markup=False, highlight=False)


@app.command()
def train(
    config: Annotated[Path, typer.Option("--config", help="The sources.toml of the data to learn from.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the business model (JSON).")],
    address_out: Annotated[Path | None, typer.Option(
        help="Also write the fallback address model here (used by builds with too few keyed links).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print what was trained as JSON.")] = False,
) -> None:
    """Train the business resolution model without labels and save it as a versioned JSON file.

    Builds use the model shipped in the package unless [link] business_model names another.
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from business_index.build import train_business_model_from
    from business_index.config import ConfigError, load_settings
    from business_index.sources import SourceFileError

    try:
        settings = load_settings(config)
        with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console,
                      transient=True, disable=not console.is_terminal) as bar:
            task = bar.add_task("training", total=1)

            def progress(stage: str, done: int, total: int) -> None:
                bar.update(task, description=stage, completed=done, total=total)

            summary = train_business_model_from(settings, out, address_out, progress)
    except (ConfigError, SourceFileError) as exc:
        _fail(str(exc))
    if as_json:
        typer.echo(json.dumps({"model": str(out), **summary}))
    else:
        stdout.print(f"model written to {out} (trained on {summary['records']:,} records)")


@app.command()
def evaluate(
    index: Annotated[Path, typer.Option("--index", help="A built index.")],
    truth: Annotated[Path | None, typer.Option("--truth", help="The truth folder of a synthetic borough.")] = None,
    labels: Annotated[Path | None, typer.Option(
        "--labels", help="The Basildon labels folder (shared/data/labels-basildon).")] = None,
    ndr_source: Annotated[str, typer.Option(help="With --labels: the NDR source's name.")] = "basildon-ndr",
    fhrs_source: Annotated[str, typer.Option(help="With --labels: the FHRS source's name.")] = "basildon-fhrs",
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as JSON.")] = False,
) -> None:
    """Score a build: against a synthetic borough's truth (--truth) or the Basildon labels (--labels)."""
    if (truth is None) == (labels is None):
        _fail("give exactly one of --truth DIR or --labels DIR")
    if not index.exists():
        _fail(f"{index}: no such index")
    from business_index.evaluate.metrics import CannotScore

    try:
        if truth is not None:
            from business_index.evaluate.synthetic import evaluate_against_truth

            result = evaluate_against_truth(index, truth)
        else:
            from business_index.evaluate.basildon import evaluate_against_basildon_labels

            assert labels is not None
            result = evaluate_against_basildon_labels(index, labels, ndr_source, fhrs_source)
    except (FileNotFoundError, CannotScore) as exc:
        _fail(str(exc))
    if as_json:
        typer.echo(json.dumps(result, indent=2, default=str))
        return
    table = Table(title=f"Scores of {index}")
    table.add_column("measure")
    table.add_column("precision", justify="right")
    table.add_column("recall", justify="right")
    table.add_column("F1", justify="right")
    rows = {"record -> UPRN": result.get("record_to_uprn"),
            "establishments (pairwise)": result.get("establishments"),
            "organisations (pairwise)": result.get("organisations")} if truth else {
        "same establishment (same business, same premises)": result}
    for name, scores in rows.items():
        if isinstance(scores, dict):
            table.add_row(name, f"{scores['precision']:.4f}", f"{scores['recall']:.4f}", f"{scores['f1']:.4f}")
    stdout.print(table)
    names = result.get("derived_names")
    if isinstance(names, dict):
        stdout.print(f"derived names: {names['name_of_current_occupier']:,} of {names['occupied_properties']:,} "
                      f"occupied properties carry their current occupier's name ({names['accuracy']:.1%})")
    supplier = result.get("eighteen_way_supplier")
    if isinstance(supplier, dict):
        verdict = "[green]passed[/green]" if supplier["passed"] else "[red]failed[/red]"
        stdout.print(f"18-way supplier: {supplier['records']} records, {supplier['distinct_spellings']} spellings, "
                      f"{supplier['organisations']} organisation(s), {supplier['intruders']} intruders: {verdict}")


@app.command()
def export(
    what: Annotated[str, typer.Argument(help="records, establishments, organisations, properties, quarantine or unmatched")],
    index: Annotated[Path, typer.Option("--index", help="A built index.")],
    out: Annotated[Path, typer.Option("--out", help="The file to write.")],
    export_format: Annotated[str | None, typer.Option(
        "--format", help="csv, parquet or geojson (points for records, establishments and properties) "
                         "[default: from --out's extension, else csv]")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print what was written as JSON.")] = False,
) -> None:
    """Write records, establishments, organisations, properties, quarantined rows or unmatched records of an
    index as CSV, Parquet or GeoJSON (WGS84 points from the gazetteer's coordinates, ready for QGIS)."""
    import duckdb

    from business_index.store.export import EXPORTS, export_file
    from business_index.store.export import export_format as format_of

    if what not in EXPORTS:
        _fail(f"unknown export {what!r}: choose one of {', '.join(EXPORTS)}")
    try:
        fmt = format_of(out, export_format)
    except ValueError as exc:
        _fail(str(exc))
    _check_index(index)
    try:
        rows = export_file(index, what, out, fmt)
    except ValueError as exc:
        _fail(str(exc))
    except (OSError, duckdb.Error) as exc:
        _fail(f"--out {out}: cannot be written ({getattr(exc, 'strerror', None) or str(exc).splitlines()[0]})")
    if as_json:
        typer.echo(json.dumps({"export": what, "format": fmt, "rows": rows, "out": str(out)}))
    else:
        stdout.print(f"{rows:,} {what} written to {out} ({fmt})")


@app.command()
def match(
    index: Annotated[Path, typer.Option("--index", help="A built index (one with a gazetteer).")],
    input_path: Annotated[Path, typer.Option("--input", help="The list of addresses: CSV (with a header), Parquet or JSON lines.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the list with its answers (format from the extension).")],
    address_column: Annotated[list[str] | None, typer.Option(
        "--address-column", help="The column holding the address; once per line when the address is in several. "
                                 "[default: guessed from the header]")] = None,
    postcode_column: Annotated[str | None, typer.Option(help="The postcode column. [default: guessed; else found in the address]")] = None,
    name_column: Annotated[str | None, typer.Option(help="A business name column (helps where the LLPG names occupiers). [default: guessed]")] = None,
    input_format: Annotated[str | None, typer.Option("--format", help="csv, parquet or jsonl [default: from --input's extension]")] = None,
    output_format: Annotated[str | None, typer.Option("--out-format", help="csv, parquet or jsonl [default: from --out's extension]")] = None,
    min_probability: Annotated[float | None, typer.Option(
        min=0.0, max=1.0, help="Place an address only at or above this probability. [default: the build's]")] = None,
    min_margin: Annotated[float | None, typer.Option(
        min=0.0, help="... and only when the best leads the runner-up by this match weight. [default: the build's]")] = None,
    chunk_rows: Annotated[int, typer.Option(min=1, help="Rows matched at a time (memory grows with it).")] = 50_000,
    parsers: Annotated[int, typer.Option(min=0, help="Processes parsing addresses while this one scores (0: none).")] = 2,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Match any list of addresses to UPRNs with the index's own matcher: every row comes out, in order,
    with uprn, matched_address, match_probability, runner_up_uprn, runner_up_address, runner_up_probability,
    decided_by and reason (why nothing was good enough)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from business_index.link.address_lists import NotMatchable
    from business_index.match import MatchInputError, match_list

    if not index.exists():
        _fail(f"{index}: no such index")
    if not input_path.exists():
        _fail(f"{input_path}: no such file")
    with Progress(TextColumn("matching"), BarColumn(), TextColumn("{task.fields[rows]:,} rows"),
                  TimeRemainingColumn(), console=console, transient=True, disable=as_json) as bar:
        task = bar.add_task("match", total=max(input_path.stat().st_size, 1), rows=0)

        def tell(rows: int, done: int, total: int) -> None:
            bar.update(task, completed=done, total=max(total, 1), rows=rows)

        try:
            summary = match_list(index, input_path, out, input_format=input_format, output_format=output_format,
                                 address_columns=address_column, postcode_column=postcode_column,
                                 name_column=name_column, min_probability=min_probability, min_margin=min_margin,
                                 chunk_rows=chunk_rows, parsers=parsers, progress=tell)
        except (MatchInputError, NotMatchable) as exc:
            _fail(str(exc))
        except OSError as exc:
            _fail(f"{exc.filename or out}: {exc.strerror or exc}")
    figures = {"rows": summary.rows, "matched": summary.matched, "unmatched_by_reason": summary.reasons,
               "columns": summary.columns, "seconds": round(summary.seconds, 2),
               "rows_per_second": round(summary.rows_per_second), "out": str(out)}
    if as_json:
        typer.echo(json.dumps(figures))
        return
    share = summary.matched / summary.rows if summary.rows else 0.0
    stdout.print(f"{summary.rows:,} rows matched in {summary.seconds:.1f} s ({summary.rows_per_second:,.0f} rows/s): "
                 f"{summary.matched:,} placed ({share:.1%}); written to {out}")
    for reason, count in sorted(summary.reasons.items(), key=lambda kv: -kv[1]):
        stdout.print(f"  {count:,} not placed: {reason}")


@app.command()
def report(
    index: Annotated[Path, typer.Option("--index", help="A built index.")],
    out: Annotated[Path, typer.Option("--out", help="The HTML file to write.")],
) -> None:
    """Write the data-quality dashboard of an index as one self-contained HTML file (no server needed)."""
    from business_index.web.dashboard import report_html

    _check_index(index)
    try:
        out.write_text(report_html(index), encoding="utf-8")
    except OSError as exc:
        _fail(f"--out {out}: cannot be written ({exc.strerror or exc})")
    stdout.print(f"Data-quality report written to {out}")


def _auth_settings(config):  # type: ignore[no-untyped-def]
    """How tokens are checked, from the serve settings."""
    from business_index.api.auth import AuthSettings

    return AuthSettings(secret=config.jwt_secret.get_secret_value() if config.jwt_secret else None,
                        public_key_file=config.jwt_public_key, jwks_file=config.jwks_file,
                        jwks_url=config.jwks_url or None, anonymous_read=config.anonymous_read,
                        max_token_hours=config.max_token_hours)


@app.command()
def publish(
    index: Annotated[Path, typer.Option("--index", help="A built index (bx build).")],
    to: Annotated[str, typer.Option("--to", help="The PostgreSQL database: postgresql://user@host/db")],
    keep: Annotated[int, typer.Option(help="Builds kept in the database, this one among them (at least 2: "
                                           "servers leaving the build before may still read it).", min=2)] = 3,
    grant: Annotated[list[str] | None, typer.Option(
        "--grant", help="A role that may read the published builds: the role `bx serve --database` "
                        "connects as. Repeat for several.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Load a built index into PostgreSQL as the current build, for `bx serve --database` (several
    servers, one index). One transaction: servers see the previous build or this one, never part of
    one; publishing the same build again only makes it current."""
    import json
    from dataclasses import asdict

    from business_index.store.postgres_index import PublishError
    from business_index.store.postgres_index import publish as publish_index

    _check_index(index)
    try:
        report = publish_index(index, to, keep, grant or ())
    except PublishError as exc:
        _fail(str(exc))
    if as_json:
        typer.echo(json.dumps(asdict(report), indent=2))
        return
    if report.already_there:
        console.print(f"Build {report.build_id} was already published: it is the current build again.")
    else:
        console.print(f"Published build {report.build_id} ({report.tables} tables, {report.rows:,} rows) "
                      f"as schema {report.schema} in {report.seconds} s; it is the current build.")
    if report.dropped:
        console.print(f"Dropped older builds: {', '.join(report.dropped)}")
    if report.granted:
        console.print(f"Roles that may read it: {', '.join(report.granted)}")


@app.command()
def serve(
    index: Annotated[Path | None, typer.Option(
        "--index", help="A built index; a newer build published there is picked up.")] = None,
    database: Annotated[str | None, typer.Option(
        "--database", help="Serve the current build `bx publish` loaded into this PostgreSQL database "
                           "(postgresql://...) instead of a file; a newer build published there is picked up.")] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 1,
    anonymous_read: Annotated[bool | None, typer.Option(
        "--anonymous-read/--no-anonymous-read",
        help="Let callers without a token read (no personal data). [BX_ANONYMOUS_READ; default off]")] = None,
    store: Annotated[str | None, typer.Option("--store", help=STORE_HELP + " [BX_STORE]")] = None,
    header_timeout: Annotated[float | None, typer.Option(
        help="Seconds a client may take to send a request's headers (408 after). [BX_HEADER_TIMEOUT_SECONDS; "
             "default 10]", min=0.1)] = None,
    max_header_bytes: Annotated[int | None, typer.Option(
        help="Largest request headers accepted (431 over). [BX_MAX_HEADER_BYTES; default 16384]", min=1024)] = None,
    cors_origin: Annotated[list[str] | None, typer.Option(
        "--cors-origin", help="A web origin (https://host) whose pages may call the API from a browser; "
                              "repeat for several. [BX_CORS_ORIGINS, comma-separated]")] = None,
) -> None:
    """Serve the REST API over an index. Every setting is read from the environment (BX_ and its name,
    see the README's list); an option given here overrides it. Tokens: BX_JWT_SECRET (HS256), or
    BX_JWT_PUBLIC_KEY, BX_JWKS_FILE or BX_JWKS_URL (RS256)."""
    import os
    import shutil
    import tempfile

    import uvicorn
    from pydantic import ValidationError

    from business_index.config import ServeConfig
    from business_index.store.index_reader import IndexReader, IndexUnavailable
    from business_index.store.postgres_index import PostgresIndexReader, is_database_url
    from business_index.store.submissions import StoreError, SubmissionStore, default_store_url

    if (index is None) == (database is None):
        _fail("give either --index (a built index file) or --database (a PostgreSQL database bx publish loaded)")
    if database is not None and not is_database_url(database):
        _fail("--database: give a postgresql:// URL (the value given is not one)")
    if index is not None and not index.exists():
        _fail(f"{index}: no such index (build one with `bx build`)")
    try:  # refuse now an index this software cannot read
        if index is not None:
            IndexReader(index).current()
        else:
            checking = PostgresIndexReader(str(database))
            try:
                checking.current()
            finally:
                checking.close()
    except IndexUnavailable as exc:
        _fail(f"{index or 'the database'}: {exc}")
    given: dict[str, Any] = {"anonymous_read": anonymous_read, "store": store, "header_timeout_seconds": header_timeout,
             "max_header_bytes": max_header_bytes, "cors_origins": tuple(cors_origin) if cors_origin else None}
    try:
        config = ServeConfig(**{k: v for k, v in given.items() if v is not None})  # the environment, then these
        auth = _auth_settings(config)
    except ValidationError as exc:
        _fail("; ".join(f"BX_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()))
    except ValueError as exc:
        _fail(str(exc))
    if not auth.configured and not config.anonymous_read:
        _fail("no token secret or key is configured, so every request would be refused: set BX_JWT_SECRET "
              "(or BX_JWT_PUBLIC_KEY, BX_JWKS_FILE, BX_JWKS_URL), or serve with --anonymous-read")
    # submissions live in the index's database when it is one, else in a file beside the index
    url = config.store or (str(database) if database else default_store_url(Path(str(index)).resolve()))
    try:
        SubmissionStore(url).ping()  # fail now, not on the first submission
    except (StoreError, OSError) as exc:
        _fail(str(exc))
    # the workers read the settings back from the environment (config.ServeConfig)
    os.environ.update(config.model_copy(update={"store": url}).environment())
    os.environ["BX_INDEX"] = str(database) if database else str(Path(str(index)).resolve())
    if not os.environ.get("BX_SESSION_SECRET") and not os.environ.get("BX_JWT_SECRET"):
        # one key for every worker's page sessions (else each would sign its own, and forms would
        # fail on the others); it lasts as long as this server
        import secrets

        os.environ["BX_SESSION_SECRET"] = secrets.token_urlsafe(32)
    from business_index.web.pages import STATIC

    if not (STATIC / "govuk-frontend.min.css").exists():
        console.print("[yellow]warning:[/yellow] GOV.UK Frontend is not installed beside the pages; run "
                      "scripts/setup.sh (the pages work, unstyled)")
    from business_index.api.http_guard import GuardedHttpToolsProtocol

    if workers > 1:
        _remove_dead_metrics_dirs(Path(tempfile.gettempdir()))
        # each worker writes its metrics here and /metrics adds them up; the folder is named for
        # this process, so a later serve can tell it was left by a master that was killed
        metrics_dir = tempfile.mkdtemp(prefix=f"bx-metrics-{os.getpid()}-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        # workers watch this process and leave when it dies (kill -9 gives it no chance to stop them)
        os.environ["BX_SUPERVISOR_PID"] = str(os.getpid())
    console.print(f"Business Index API on http://{host}:{port}/api/v1/docs "
                  f"(index {index or 'in PostgreSQL: the current published build'})")
    try:
        uvicorn.run("business_index.cli:asgi_app", factory=True, host=host, port=port, workers=workers,
                    log_level="warning", server_header=False, http=GuardedHttpToolsProtocol,
                    timeout_keep_alive=5, h11_max_incomplete_event_size=config.max_header_bytes)
    finally:
        if workers > 1:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _remove_dead_metrics_dirs(folder: Path) -> None:
    """Metrics folders of `bx serve` masters that are no longer running."""
    import os
    import shutil

    for path in folder.glob("bx-metrics-*"):
        try:
            pid = int(path.name.split("-")[2])
            os.kill(pid, 0)
        except (ValueError, IndexError, ProcessLookupError):
            shutil.rmtree(path, ignore_errors=True)
        except PermissionError:
            pass  # another user's live server


def _leave_with_the_supervisor(supervisor: int) -> None:
    """A worker of `bx serve --workers N` exits when the master that started it is gone."""
    import os
    import signal
    import threading
    import time

    def watch() -> None:
        while os.getppid() == supervisor:
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)  # uvicorn shuts the worker down cleanly on SIGTERM
        time.sleep(10)
        os._exit(1)

    threading.Thread(target=watch, name="supervisor-watch", daemon=True).start()


def asgi_app():  # type: ignore[no-untyped-def]
    """The app uvicorn's workers build from the environment `bx serve` sets."""
    import os

    from business_index.api.app import create_app
    from business_index.config import ServeConfig
    from business_index.store.submissions import SubmissionStore

    # bx serve's own hand-over to its workers, not settings: where the index is, whom to watch
    index, supervisor = os.environ.pop("BX_INDEX"), os.environ.pop("BX_SUPERVISOR_PID", None)
    if supervisor:
        _leave_with_the_supervisor(int(supervisor))
    config = ServeConfig()
    shared = os.environ.get("PROMETHEUS_MULTIPROC_DIR")  # the per-run folder of a server with workers
    assert config.store is not None
    from business_index.store.postgres_index import is_database_url

    return create_app(index if is_database_url(index) else Path(index), _auth_settings(config),
                      SubmissionStore(config.store), config,
                      rate_limit_file=Path(shared) / "rate-limits.sqlite3" if shared else None)


@app.command()
def token(
    scope: Annotated[list[str], typer.Option("--scope", help="read, submit, review or admin; repeat for several.")],
    sub: Annotated[str, typer.Option("--sub", help="Who the token is for.")],
    hours: Annotated[float, typer.Option(help="How long it is valid.")] = 12,
) -> None:
    """Issue a development token signed with BX_JWT_SECRET (HS256)."""
    import os

    from business_index.api.auth import issue_token

    secret = os.environ.get("BX_JWT_SECRET")
    if not secret:
        _fail("set BX_JWT_SECRET to the secret the server uses")
    if hours <= 0:
        _fail("--hours must be more than 0: a token that has already expired is of no use")
    try:
        typer.echo(issue_token(secret, sub, scope, hours))  # type: ignore[arg-type]
    except ValueError as exc:
        _fail(str(exc))

