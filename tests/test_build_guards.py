"""A build cannot publish bad data: empty, header-only, truncated and wrong-format files, settings
that would crash or do harm, and builds that shrank, each refused with one line naming what is
wrong, exit code 2, and the published index untouched."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from business_index.cli import app
from business_index.synthetic.generate import DTF_FULL, LICENSING_FILE, NDR_FILE

RUNNER = CliRunner()


@pytest.fixture
def council(small_borough: Path, small_index: Path, tmp_path: Path) -> Path:
    """A copy of the small borough with its published index beside it."""
    folder = tmp_path / "council"
    shutil.copytree(small_borough, folder, ignore=shutil.ignore_patterns("truth"))
    shutil.copy(small_index, folder / "index.duckdb")
    return folder


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _build(folder: Path, *extra: str, config: str = "sources.toml", index: str = "index.duckdb"):  # type: ignore[no-untyped-def]
    return RUNNER.invoke(app, ["build", "--config", str(folder / config), "--index", str(folder / index), *extra])


def _header_only(path: Path) -> None:
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _xlsx(path: Path) -> None:
    path.write_bytes(b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 64)


@pytest.mark.parametrize(("relative", "damage", "says"), [
    (DTF_FULL, _empty, "has no rows"),
    (NDR_FILE, _header_only, "has no rows"),
    (LICENSING_FILE, _header_only, "has no rows"),
    (NDR_FILE, _xlsx, "zip archive"),
])
def test_an_empty_or_wrong_file_publishes_nothing(council: Path, relative: str, damage: Callable[[Path], None],
                                                  says: str) -> None:
    before = _digest(council / "index.duckdb")
    damage(council / relative)
    result = _build(council)
    assert result.exit_code == 2, result.output
    assert says in result.output and Path(relative).name in result.output
    assert "Traceback" not in result.output
    assert _digest(council / "index.duckdb") == before


@pytest.mark.parametrize("damage", [_header_only, _empty])
def test_a_source_may_be_declared_empty(council: Path, damage: Callable[[Path], None]) -> None:
    damage(council / LICENSING_FILE)
    config = council / "sources.toml"
    config.write_text(config.read_text().replace('format = "licensing_csv"',
                                                 'format = "licensing_csv"\nallow_empty = true'))
    result = _build(council, "--allow-shrink")
    assert result.exit_code == 0, result.output


def test_a_build_that_shrank_is_refused_unless_meant(council: Path) -> None:
    before = _digest(council / "index.duckdb")
    path = council / NDR_FILE
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[: len(lines) // 4]) + "\n", encoding="utf-8")  # a truncated export
    refused = _build(council)
    assert refused.exit_code == 2 and "shrank" in refused.output and "records of ndr" in refused.output
    assert _digest(council / "index.duckdb") == before
    assert _build(council, "--allow-shrink").exit_code == 0


@pytest.mark.parametrize(("setting", "says"), [
    ('encoding = "klingon"', "'klingon' is not an encoding"),
    ('ndr_xref_sources = ["^5360(ND"]', "is not a regular expression"),
])
def test_settings_are_checked_before_any_work(council: Path, setting: str, says: str) -> None:
    config = council / "sources.toml"
    text = config.read_text()
    if setting.startswith("ndr_xref_sources"):
        text = text.replace('ndr_xref_sources = ["5360ND"]', setting)
    else:
        text = text.replace('format = "ndr_csv"', f'format = "ndr_csv"\n{setting}')
    config.write_text(text)
    result = _build(council)
    assert result.exit_code == 2 and says in result.output and "Traceback" not in result.output


def test_arguments_and_paths_that_would_do_harm(council: Path, tmp_path: Path) -> None:
    # a folder for the config or the index
    assert "is a folder" in _build(council, config=".").output
    assert "is a folder" in _build(council, index="llpg").output
    # a config that is not UTF-8
    (council / "latin.toml").write_bytes("# Café\n".encode("cp1252"))
    assert "not UTF-8" in _build(council, config="latin.toml").output
    # the index named as one of the build's own inputs: refused, the input untouched
    before = _digest(council / NDR_FILE)
    result = _build(council, index=NDR_FILE)
    assert result.exit_code == 2 and "overwrite its own input" in result.output
    assert _digest(council / NDR_FILE) == before
    # a file listed twice
    config = council / "sources.toml"
    config.write_text(config.read_text().replace(f'paths = ["{NDR_FILE}"]', f'paths = ["{NDR_FILE}", "{NDR_FILE}"]'))
    assert "listed twice" in _build(council).output


def test_a_device_and_a_model_that_is_not_a_model(council: Path) -> None:
    config = council / "sources.toml"
    original = config.read_text()
    config.write_text(original.replace(f'paths = ["{NDR_FILE}"]', 'paths = ["/dev/urandom"]'))
    result = _build(council)
    assert result.exit_code == 2 and "not a regular file" in result.output
    (council / "model.json").write_text('{"hello": 1}')
    config.write_text(f'[link]\nbusiness_model = "model.json"\n\n{original}')
    result = _build(council)
    assert result.exit_code == 2 and "not a model file" in result.output


def test_a_store_that_is_not_a_store(council: Path) -> None:
    (council / "notes.sqlite3").write_text("these are my notes")
    for store in (str(council / "llpg"), str(council / "notes.sqlite3")):
        result = _build(council, "--store", store)
        assert result.exit_code == 2 and "Traceback" not in result.output
        assert "folder" in result.output or "not a usable SQLite database" in result.output


def test_a_killed_build_leaves_nothing_the_next_build_keeps(council: Path) -> None:
    """kill -9 in the middle of a build: the published index is untouched, and the next build
    removes the half-built file and its log (a build still running keeps its own)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from business_index.store.index_writer import remove_stale_builds

    before = _digest(council / "index.duckdb")
    build = subprocess.Popen([str(Path(sys.executable).parent / "bx"), "build", "--config",
                              str(council / "sources.toml"), "--index", str(council / "index.duckdb")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not list(council.glob("index.duckdb.building-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    os.kill(build.pid, signal.SIGKILL)
    build.wait()
    leftovers = list(council.glob("index.duckdb.building-*"))
    assert leftovers and _digest(council / "index.duckdb") == before
    # a build that is still running (this process) keeps its files
    alive = council / "index.duckdb.building-0123456789ab"
    alive.write_bytes(b"in progress")
    (council / "index.duckdb.building-0123456789ab.pid").write_text(str(os.getpid()))
    removed = remove_stale_builds(council / "index.duckdb")
    assert set(removed) == set(leftovers) and alive.exists()
    assert _build(council).exit_code == 0
    assert {p.name for p in council.glob("index.duckdb.building-*")} == {alive.name, alive.name + ".pid"}


def test_paths_with_quotes_spaces_and_accents(small_borough: Path, tmp_path: Path) -> None:
    """Council shares have folders like "St John's Café": a build, the reader and an export work there."""
    from business_index.store.index_reader import IndexReader

    folder = tmp_path / "St John's Café borough"
    shutil.copytree(small_borough, folder, ignore=shutil.ignore_patterns("truth"))
    result = _build(folder, index="O'Brien's index.duckdb")
    assert result.exit_code == 0, result.output
    index = folder / "O'Brien's index.duckdb"
    assert IndexReader(index).current().build_id
    exported = RUNNER.invoke(app, ["export", "establishments", "--index", str(index), "--out",
                                   str(folder / "exports 'n' café" / "establishments.csv")])
    assert exported.exit_code == 0, exported.output


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc, where nothing can be created")
def test_an_index_where_nothing_can_be_written_is_refused_before_any_work(council: Path) -> None:
    result = RUNNER.invoke(app, ["build", "--config", str(council / "sources.toml"), "--index", "/proc/idx.duckdb"])
    assert result.exit_code == 2 and "cannot write" in result.output and "Traceback" not in result.output


def test_export_of_a_file_that_is_not_an_index_names_the_index(council: Path) -> None:
    result = RUNNER.invoke(app, ["export", "records", "--index", str(council / "sources.toml"), "--out",
                                 str(council / "x.csv")])
    assert result.exit_code == 2 and "--index" in result.output and "not a Business Index index" in result.output
