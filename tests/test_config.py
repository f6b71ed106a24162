from pathlib import Path

import pytest

from business_index.config import ConfigError, load_settings


def test_generated_sources_toml_loads(small_borough: Path) -> None:
    settings = load_settings(small_borough / "sources.toml")
    assert [s.name for s in settings.sources] == ["llpg", "ndr", "voa", "licensing"]
    llpg = settings.sources[0]
    assert llpg.is_ndr_xref_source("5360nd") and not llpg.is_ndr_xref_source("5360CT")
    assert settings.resolve(llpg.paths[0]).exists()


def test_default_ndr_codes_follow_formats_md(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text('[[sources]]\nname = "llpg"\nkind = "gazetteer"\nformat = "dtf73"\npaths = ["a.csv"]\n')
    llpg = load_settings(path).sources[0]
    assert all(llpg.is_ndr_xref_source(code) for code in ("7666VN", "NNDR", "1234ND", "voan"))
    assert not llpg.is_ndr_xref_source("7666VC")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[sources]]\nname = "x"\nkind = "rates"\nformat = "dtf73"\npaths = ["a"]\n', "sources[0] (x): Value error, format 'dtf73' is not a rates format"),
        ('[[sources]]\nname = "x"\nkind = "rates"\nformat = "ndr_csv"\npaths = ["a"]\ncolour = 1\n', "sources[0] (x).colour"),
        ('[[sources]]\nname = "x"\nkind = "rates"\nformat = "ndr_csv"\n', "sources[0] (x).paths"),
        ("sources = [", "not valid TOML"),
    ],
)
def test_config_errors_name_the_file_and_the_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    assert str(path) in str(error.value) and message in str(error.value)


def test_every_serve_setting_is_in_the_readme() -> None:
    """datasette's rule: a setting nobody can find is a setting nobody can use."""
    from business_index.config import ServeConfig

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    missing = [f"BX_{name.upper()}" for name in ServeConfig.model_fields if f"`BX_{name.upper()}`" not in readme]
    assert not missing, missing


def test_serve_settings_come_from_the_environment_and_the_command_line_wins(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from business_index.config import ServeConfig

    monkeypatch.setenv("BX_SEARCHES_PER_MINUTE", "9")
    monkeypatch.setenv("BX_CORS_ORIGINS", "https://a.example, https://b.example")
    config = ServeConfig(searches_per_minute=12)
    assert config.searches_per_minute == 12 and config.cors_origins == ("https://a.example", "https://b.example")
    assert ServeConfig().searches_per_minute == 9
    # and back again, as a worker reads them
    monkeypatch.delenv("BX_SEARCHES_PER_MINUTE")
    for name, value in config.environment().items():
        monkeypatch.setenv(name, value)
    assert ServeConfig() == config


def test_the_build_s_memory_limit_is_a_share_of_the_machine_or_a_size(tmp_path: Path) -> None:
    import os

    import duckdb

    from business_index.config import BuildConfig, usable_memory
    from business_index.store.index_writer import IndexWriter

    machine_mib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    assert 0 < usable_memory() / 2**20 <= machine_mib
    share = BuildConfig(memory_limit="25%").duckdb_memory_limit()
    assert share.endswith("MiB") and abs(int(share[:-3]) - usable_memory() / 2**20 / 4) <= 1
    for wrong in ("500%", "0%"):
        with pytest.raises(ValueError, match="at most 100%"):
            BuildConfig(memory_limit=wrong)
    assert BuildConfig(memory_limit="8 GB").duckdb_memory_limit() == "8GB"
    path = tmp_path / "sources.toml"
    path.write_text('[build]\nmemory_limit = "a lot"\n')
    with pytest.raises(ConfigError, match=r"build.memory_limit"):
        load_settings(path)
    # the build's connection holds DuckDB to it
    writer = IndexWriter.create(tmp_path / "index.duckdb", "300MiB")
    try:
        limit = writer.connection.execute("SELECT current_setting('memory_limit')").fetchone()
        assert limit is not None and limit[0] in ("300.0 MiB", "300 MiB")
        assert duckdb.connect().execute("SELECT current_setting('memory_limit')").fetchone() != limit
    finally:
        writer.abandon()
