from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from business_index.sources.values import (
    ValueProblem,
    parse_date,
    parse_money,
    parse_reference,
    parse_uprn,
)


@pytest.mark.parametrize(
    ("text", "order", "expected"),
    [
        ("2018-08-01", "dmy", date(2018, 8, 1)),
        ("2018-08-01 00:00:00", "dmy", date(2018, 8, 1)),
        ("01/08/2018", "dmy", date(2018, 8, 1)),
        ("1/14/15", "mdy", date(2015, 1, 14)),
        ("14/1/15", "mdy", date(2015, 1, 14)),  # only one order can be right
        ("43313", "dmy", date(2018, 8, 1)),  # Excel serial day
        ("37755", "dmy", date(2003, 5, 14)),
        ("01-APR-2017", "dmy", date(2017, 4, 1)),
        ("", "dmy", None),
    ],
)
def test_parse_date_reads_the_notations_councils_use(text: str, order: str, expected: date | None) -> None:
    assert parse_date(text, order) == expected


@pytest.mark.parametrize("text", ["2021-13-45", "31/02/2020", "yesterday", "12345", "01-FOO-2020"])
def test_parse_date_rejects_what_is_not_a_date(text: str) -> None:
    with pytest.raises(ValueProblem):
        parse_date(text)


@given(st.dates(min_value=date(1960, 1, 1), max_value=date(2060, 12, 31)))
def test_every_written_form_of_a_date_reads_back(value: date) -> None:
    serial = str((value - date(1899, 12, 30)).days)
    for text in (value.isoformat(), value.strftime("%d/%m/%Y"), serial, value.strftime("%d-%b-%Y").upper()):
        assert parse_date(text, "dmy") == value
    assert parse_date(value.strftime("%m/%d/%Y"), "mdy") == value


def test_uprns() -> None:
    assert parse_uprn("100021000001") == 100021000001
    assert parse_uprn("1710022145.00") == 1710022145
    assert parse_uprn("") is None and parse_uprn("N/A") is None and parse_uprn("0") is None
    for bad in ("1234567890123", "UPRN-20", "12a"):
        with pytest.raises(ValueProblem):
            parse_uprn(bad)


def test_money_and_references() -> None:
    assert parse_money("£156,000") == 156000
    assert parse_money("(1,200)") == -1200
    assert parse_money("") is None
    with pytest.raises(ValueProblem):
        parse_money("lots")
    assert parse_reference("'0664302") == "0664302"  # Excel's apostrophe goes, the zero stays
    assert parse_reference("  ") is None


@pytest.mark.parametrize("text", ["inf", "Infinity", "-inf", "1e30", "9" * 20])
def test_money_that_no_column_can_hold_is_a_value_problem(text: str) -> None:
    with pytest.raises(ValueProblem):
        parse_money(text)
