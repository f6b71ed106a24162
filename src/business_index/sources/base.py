"""What every reader shares: decoding with line numbers, the read result, and quarantining.

``iter_delimited`` yields each CSV record with the physical line it starts on, decoding per line:
UTF-8 first, then Windows-1252 for files that are not UTF-8. A line that neither decodes is
quarantined as bad encoding rather than guessed at.
"""

from __future__ import annotations

import csv
import gzip
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal, Protocol, runtime_checkable

import pyarrow as pa

from business_index.records import (
    AddressAlias,
    AddressRecord,
    BusinessRecord,
    CrossReference,
    Lineage,
    QuarantinedRow,
)


class SourceFileError(Exception):
    """A file that cannot be read at all: missing, empty, or not the format claimed."""

    def __init__(self, path: Path, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message

    def __reduce__(self) -> tuple[type[SourceFileError], tuple[Path, str]]:
        # raised in a worker process (``gazetteer_pool.py``) and pickled back to the reader
        return (SourceFileError, (self.path, self.message))


@dataclass(slots=True)
class FileStats:
    path: str
    read: int = 0
    loaded: int = 0
    quarantined: int = 0
    encoding: str = "utf-8"
    warnings: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ReadResult:
    """Everything a reader produced from one source. ``read == loaded + quarantined`` always."""

    source: str
    files: list[FileStats] = field(default_factory=list)
    business_records: list[BusinessRecord] = field(default_factory=list)
    addresses: list[AddressRecord] = field(default_factory=list)
    aliases: list[AddressAlias] = field(default_factory=list)
    cross_references: list[CrossReference] = field(default_factory=list)
    quarantine: list[QuarantinedRow] = field(default_factory=list)
    # raw rows of record types we keep but do not model (e.g. DTF provenance), as (lineage, fields)
    other_rows: list[tuple[Lineage, int, list[str]]] = field(default_factory=list)
    # the business records as ``records.business_record_table`` makes them, in place of
    # ``business_records``, when the source was read in another process (``read_sources``)
    business_record_table: pa.Table | None = None

    # a RowSink: the rows a streaming reader gives out, kept here when no other sink is given
    def put_addresses(self, rows: Sequence[AddressRecord]) -> None:
        self.addresses.extend(rows)

    def put_aliases(self, rows: Sequence[AddressAlias]) -> None:
        self.aliases.extend(rows)

    def put_cross_references(self, rows: Sequence[CrossReference]) -> None:
        self.cross_references.extend(rows)

    def put_other_rows(self, rows: Sequence[tuple[Lineage, int, list[str]]]) -> None:
        self.other_rows.extend(rows)

    @property
    def read(self) -> int:
        return sum(f.read for f in self.files)

    @property
    def loaded(self) -> int:
        return sum(f.loaded for f in self.files)

    @property
    def quarantined(self) -> int:
        return sum(f.quarantined for f in self.files)

    @property
    def warnings(self) -> list[str]:
        return [w for f in self.files for w in f.warnings]


class RowSink(Protocol):
    """Where a streaming reader (the LLPG's) gives out its rows, a batch at a time, so that a whole
    supply is never held: a ``ReadResult`` keeps them in its lists; ``bx build`` passes one that
    writes each batch into the index being built."""

    def put_addresses(self, rows: Sequence[AddressRecord]) -> None: ...

    def put_aliases(self, rows: Sequence[AddressAlias]) -> None: ...

    def put_cross_references(self, rows: Sequence[CrossReference]) -> None: ...

    def put_other_rows(self, rows: Sequence[tuple[Lineage, int, list[str]]]) -> None: ...


@runtime_checkable
class ColumnSink(Protocol):
    """A ``RowSink`` that also takes addresses and aliases column by column (``record_columns``),
    as the LLPG reader's worker processes make them: the index being built takes them so, with no
    record made in the build's process."""

    def put_address_columns(self, columns: dict[str, list[Any]]) -> None: ...

    def put_alias_columns(self, columns: dict[str, list[Any]]) -> None: ...


class QuarantineLog:
    """Collects quarantined rows for one file and keeps the file's counts right."""

    def __init__(self, source: str, path: Path, result: ReadResult, stats: FileStats):
        self.source = source
        self.file = str(path)
        self.result = result
        self.stats = stats

    def lineage(self, line: int) -> Lineage:
        return Lineage(self.source, self.file, line)

    def reject(self, line: int, field_name: str | None, reason: str, raw: str) -> None:
        self.result.quarantine.append(QuarantinedRow(self.lineage(line), field_name, reason, raw))
        self.stats.quarantined += 1


# the first bytes of files that are not text, whatever their name says
_NOT_TEXT = {b"PK\x03\x04": "a zip archive (an .xlsx workbook is one): save it as CSV",
             b"\xd0\xcf\x11\xe0": "an Excel 97-2003 workbook: save it as CSV",
             b"%PDF": "a PDF document", b"SQLite format 3\x00": "an SQLite database",
             b"\x89PNG": "a PNG image"}


def check_readable(path: Path) -> None:
    """A source file must be a regular file: not missing, not a folder, not a device or pipe (which
    could be read for ever)."""
    if not path.exists():
        raise SourceFileError(path, "file not found")
    if path.is_dir():
        raise SourceFileError(path, "is a folder, not a file")
    if not path.is_file():
        raise SourceFileError(path, "is not a regular file (a device, a pipe or a socket)")


def read_bytes(path: Path) -> bytes:
    check_readable(path)
    data = path.read_bytes()
    if path.suffix == ".gz":
        try:
            data = gzip.decompress(data)
        except OSError as exc:
            raise SourceFileError(path, f"not a readable gzip file ({exc})") from exc
    for magic, what in _NOT_TEXT.items():
        if data.startswith(magic):
            raise SourceFileError(path, f"is {what}, not a text file of the format named in sources.toml")
    return data


def open_lines(
    source: str, path: Path, result: ReadResult, encoding: str | None
) -> tuple[list[DecodedLine], FileStats, QuarantineLog]:
    """Read and decode one file of a source: its lines, its counts, and the log that quarantines its rows."""
    lines, chosen = decode_lines(read_bytes(path), encoding)
    stats = FileStats(str(path), encoding=chosen)
    return lines, stats, QuarantineLog(source, path, result, stats)


@dataclass(slots=True)
class DecodedLine:
    number: int
    text: str | None  # None when the bytes decode in no accepted encoding
    raw: bytes


def decode_lines(data: bytes, encoding: str | None = None) -> tuple[list[DecodedLine], str]:
    """Split into physical lines and decode each; returns the lines and the encoding chosen.

    The file is UTF-8 unless every non-ASCII line fails UTF-8 (then Windows-1252), or the source
    says otherwise. In a UTF-8 file, a line that is not UTF-8 is left undecoded (bad encoding).
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    raw_lines = data.split(b"\n")
    if raw_lines and raw_lines[-1] == b"":
        raw_lines.pop()
    if encoding is None:
        encoding = "utf-8"
        non_ascii = [line for line in raw_lines if not line.isascii()]
        if non_ascii:
            utf8_ok = 0
            for line in non_ascii:
                try:
                    line.decode("utf-8")
                    utf8_ok += 1
                except UnicodeDecodeError:
                    pass
            if utf8_ok == 0:
                encoding = "cp1252"
    lines: list[DecodedLine] = []
    for number, raw in enumerate(raw_lines, start=1):
        lines.append(_decoded_line(number, raw, encoding))
    return lines, encoding


def _decoded_line(number: int, raw: bytes, encoding: str) -> DecodedLine:
    """One line without its line ending; text None when it does not decode."""
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    try:
        return DecodedLine(number, raw.decode(encoding), raw)
    except UnicodeDecodeError:
        return DecodedLine(number, None, raw)


_CHUNK = 1 << 20


def _open_binary(path: Path) -> BinaryIO:
    return gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")  # type: ignore[return-value]


def _sniff(path: Path, encoding: str | None) -> str:
    """A first pass over a file, chunk by chunk: refuses what is not text (or not gzip, for a .gz)
    and chooses the encoding as ``decode_lines`` does, without holding the file."""
    check_readable(path)
    chosen = encoding
    try:
        with _open_binary(path) as stream:
            head = stream.read(_CHUNK)
            for magic, what in _NOT_TEXT.items():
                if head.startswith(magic):
                    raise SourceFileError(path, f"is {what}, not a text file of the format named in sources.toml")
            if chosen is not None:
                return chosen
            if head.startswith(b"\xef\xbb\xbf"):
                head = head[3:]
            non_ascii = False
            carry = b""
            chunk = head
            while chunk:
                data = carry + chunk
                cut = data.rfind(b"\n") + 1
                complete, carry = data[:cut], data[cut:]
                if not complete.isascii():
                    for line in complete.split(b"\n"):
                        if not line.isascii():
                            non_ascii = True
                            if _is_utf8(line):
                                return "utf-8"
                chunk = stream.read(_CHUNK)
            if carry and not carry.isascii():
                non_ascii = True
                if _is_utf8(carry):
                    return "utf-8"
    except (OSError, EOFError) as exc:
        raise SourceFileError(path, f"not a readable gzip file ({exc})") from exc
    return "cp1252" if non_ascii else "utf-8"


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def stream_lines(
    source: str, path: Path, result: ReadResult, encoding: str | None
) -> tuple[Iterator[DecodedLine], FileStats, QuarantineLog]:
    """``open_lines`` for files too large to hold: the lines come as the file is read, decoded as
    ``decode_lines`` would (the encoding is chosen by a first pass over the file)."""
    chosen = _sniff(path, encoding)
    stats = FileStats(str(path), encoding=chosen)
    return _decoded(path, chosen), stats, QuarantineLog(source, path, result, stats)


def _decoded(path: Path, encoding: str) -> Iterator[DecodedLine]:
    try:
        with _open_binary(path) as stream:
            for number, raw in enumerate(stream, start=1):
                if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                if raw.endswith(b"\n"):
                    raw = raw[:-1]
                elif not raw:
                    break  # a file of a byte-order mark alone: no line, as in decode_lines
                yield _decoded_line(number, raw, encoding)
    except (OSError, EOFError) as exc:
        raise SourceFileError(path, f"not a readable gzip file ({exc})") from exc


class DelimitedRow:
    """One record and the physical line it starts on.

    ``problem`` says why a line could not be split into fields (bytes in no accepted encoding, a
    malformed CSV record); ``fields`` is then None and the row is for quarantine.
    """

    __slots__ = ("line", "fields", "problem", "_texts", "_lo", "_hi")

    def __init__(self, line: int, fields: list[str] | None, texts: list[str], lo: int, hi: int,
                 problem: str | None = None):
        self.line = line
        self.fields = fields
        self.problem = problem
        self._texts = texts
        self._lo = lo
        self._hi = hi

    @property
    def raw(self) -> str:
        """The record's text as in the file, built only when a row is quarantined."""
        return "\n".join(self._texts[self._lo : self._hi])


def iter_delimited(
    lines: Iterable[DecodedLine], delimiter: str = ",", quoting: Literal[0, 1, 2, 3] = csv.QUOTE_MINIMAL,
    encoding: str = "utf-8",
) -> Iterator[DelimitedRow]:
    """CSV records with the physical line each starts on (quoted fields may span lines).

    Blank lines are not records and are passed over. ``lines`` may be a list or a stream (see
    ``stream_lines``): only the lines of the record being read are held.
    """
    texts: list[str] = []  # the lines fed to the CSV reader and not yet given out in a record
    numbers: list[int] = []
    base = 0  # how many lines were fed before texts[0]
    bad: deque[DecodedLine] = deque()  # lines in no accepted encoding, given out in line order

    def feed() -> Iterator[str]:
        for line in lines:
            if line.text is None:
                bad.append(line)
                continue
            numbers.append(line.number)
            texts.append(line.text)
            yield line.text + "\n"

    reader = csv.reader(feed(), delimiter=delimiter, quoting=quoting, strict=False)
    while True:
        problem = None
        try:
            fields: list[str] | None = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # the reader recovers at the next line
            fields, problem = None, f"not a readable CSV record ({exc})"
        if not texts:
            break
        start = numbers[0]
        taken = reader.line_num - base
        record_texts = texts[:taken]
        del texts[:taken], numbers[:taken]
        base += taken
        while bad and bad[0].number < start:
            yield _undecodable(bad.popleft(), encoding)
        if problem is None and (not fields or (len(fields) == 1 and not fields[0].strip())):
            continue
        yield DelimitedRow(start, fields, record_texts, 0, len(record_texts), problem)
    while bad:
        yield _undecodable(bad.popleft(), encoding)


def _undecodable(line: DecodedLine, encoding: str) -> DelimitedRow:
    return DelimitedRow(line.number, None, [line.raw.decode("latin-1")], 0, 1, f"bytes that are not valid {encoding}")




def header_key(text: str) -> str:
    """A header as compared with synonyms: lower case, letters and digits only."""
    return "".join(ch for ch in text.lower() if ch.isalnum())


def map_columns(
    path: Path, header: list[str], synonyms: dict[str, tuple[str, ...]], overrides: dict[str, str]
) -> dict[str, int]:
    """Canonical field -> column index, by the source's own overrides first, then by synonyms.

    An override naming a header the file does not have is an error (a typo in sources.toml should
    not silently drop a column).
    """
    positions = {header_key(name): i for i, name in reversed(list(enumerate(header)))}
    mapping: dict[str, int] = {}
    for canonical, wanted in overrides.items():
        if canonical not in synonyms:
            raise SourceFileError(path, f"columns: {canonical!r} is not a field of this format "
                                        f"(fields: {', '.join(sorted(synonyms))})")
        index = positions.get(header_key(wanted))
        if index is None:
            raise SourceFileError(path, f"columns: {canonical} = {wanted!r}, but the file has no such column")
        mapping[canonical] = index
    taken = set(mapping.values())
    for canonical, names in synonyms.items():
        if canonical in mapping:
            continue
        for name in names:
            index = positions.get(name)
            if index is not None and index not in taken:
                mapping[canonical] = index
                taken.add(index)
                break
    return mapping
