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
