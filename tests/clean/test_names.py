import pytest
from hypothesis import given
from hypothesis import strategies as st

from business_index.clean.names import (
    has_legal_form,
    looks_like_person,
    name_key,
    record_name_candidates,
    split_trading_as,
)


@pytest.mark.parametrize("variant", [
    "Joe's Cafe Ltd", "JOES CAFE LIMITED", "Joe's Cafe", "joes cafe ltd.", "The Joe's Cafe", "JOE'S CAFE (UK) LTD",
    "Joe's Cafe Ltd (In Administration)", "Joe’s Café Limited", "Joe's Cafe Co",
])
def test_the_same_business_written_many_ways_has_one_key(variant: str) -> None:
    assert name_key(variant) == "JOES CAFE"


def test_and_ampersand_and_single_letters() -> None:
    assert name_key("B&M Retail Ltd") == name_key("B and M Retail LTD") == "B AND M RETAIL"
    assert name_key("A B C Builders Ltd") == "ABC BUILDERS"
    assert name_key("Smith & Co") == "SMITH"
    assert name_key("Acme Widgets PLC") == name_key("Acme Widgets Public Limited Company") == "ACME WIDGETS"
    assert name_key("Acme CIC") == name_key("Acme Community Interest Company") == "ACME"
    # frequent words are kept: term frequencies weigh them, not deletion
    assert name_key("Hackney Property Services Ltd") == "HACKNEY PROPERTY SERVICES"
    assert name_key("") is None and name_key("Ltd") == "LTD"


def test_trading_as_gives_both_names() -> None:
    assert split_trading_as("J Smith t/a Joe's Cafe") == ("J Smith", "Joe's Cafe")
    assert split_trading_as("Mr J Smith T/As Smiths Hardware") == ("Mr J Smith", "Smiths Hardware")
    assert split_trading_as("John Smith trading as Joe's Cafe")[1] == "Joe's Cafe"
    assert split_trading_as("Daniel's Cafe (Mr D Cohen)") == ("MR D COHEN", "DANIEL'S CAFE")
    assert split_trading_as("Acme (Europe) Ltd") == (None, "Acme (Europe) Ltd")
    candidates = record_name_candidates("J Smith t/a Joe's Cafe", None, None, False)
    assert candidates.keys == ("JOES CAFE",) and candidates.proprietor == "J Smith" and candidates.individual


def test_people_and_companies() -> None:
    assert looks_like_person("Mr J Smith") and looks_like_person("J Smith") and looks_like_person("Mrs A. Khan")
    assert not looks_like_person("Joe's Cafe") and not looks_like_person("Smith & Jones Ltd")
    assert looks_like_person("Mr John R Smith") and not looks_like_person("Mr Simms Olde Sweet Shoppe")
    assert has_legal_form("Acme Ltd.") and has_legal_form("ACME (UK) LIMITED (IN ADMINISTRATION)")
    assert not has_legal_form("Acme Trading")
    # a private individual's name is never a business key
    assert record_name_candidates(None, "Rose Cafe", "John Smith", True).keys == ("ROSE CAFE",)
    assert record_name_candidates("ACME LTD", None, None, False).company_keys == ("ACME",)


WORDS = st.sampled_from(["GOLDEN", "STAR", "KEBAB", "HOUSE", "DALSTON", "FOOD", "WINE", "MARE", "STUDIO", "FIG"])


@given(words=st.lists(WORDS, min_size=1, max_size=4), form=st.sampled_from(["", " Ltd", " LIMITED", " Ltd.", " plc"]),
       case=st.sampled_from([str.upper, str.lower, str.title]), the=st.booleans())
def test_case_legal_form_and_the_never_change_the_key(words: list[str], form: str, case, the: bool) -> None:  # type: ignore[no-untyped-def]
    base = " ".join(words)
    written = case(("The " if the else "") + base + form)
    assert name_key(written) == name_key(base)


def test_a_mistyped_legal_form_is_still_the_legal_form() -> None:
    assert name_key("STOKE NEWINGTON JERK CENTRE RETAIL LIMITTED") == "STOKE NEWINGTON JERK CENTRE RETAIL"
    assert name_key("Foulden Pizzeria Stores Lmited") == "FOULDEN PIZZERIA STORES"
    assert has_legal_form("Foulden Pizzeria Stores Lmited")
    # a word that only looks like it is a word of the name
    assert name_key("Zorba Limitless") == "ZORBA LIMITLESS" and not has_legal_form("Zorba Limitless")
    assert name_key("Limited Edition") == "LIMITED EDITION"
