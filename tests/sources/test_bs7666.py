from business_index.sources.bs7666 import number_token, single_line_address


def test_the_worked_example_from_formats_md() -> None:
    assert single_line_address(sao_text="ROOM 4", pao_text="BARING HOUSE", pao_start_number=6,
                               street="BARING CRESCENT", town="EXETER", postcode="EX1 1TL") == \
        "ROOM 4, BARING HOUSE, 6 BARING CRESCENT, EXETER, EX1 1TL"


def test_number_tokens() -> None:
    assert number_token(12, None, None, None) == "12"
    assert number_token(12, "A", None, None) == "12A"
    assert number_token(12, None, 14, None) == "12-14"
    assert number_token(12, "A", 12, "C") == "12A-12C"
    assert number_token(1, None, 3, "B") == "1-3B"
    assert number_token(None, "A", None, None) == ""


def test_conventions() -> None:
    # a suffixed number is followed by a space, not a comma
    assert single_line_address(pao_start_number=12, pao_start_suffix="A", street="HIGH STREET") == "12A HIGH STREET"
    # a bare SAO number stands in front of the PAO text
    assert single_line_address(sao_start_number=1, pao_text="ROSE COURT", street="HIGH STREET") == \
        "1 ROSE COURT, HIGH STREET"
    # with no PAO text it is a part of its own
    assert single_line_address(sao_start_number=1, pao_start_number=2, street="HIGH STREET") == "1, 2 HIGH STREET"
    assert single_line_address(sao_text="FLAT", sao_start_number=1, pao_start_number=2, street="HIGH STREET") == \
        "FLAT 1, 2 HIGH STREET"
    # a locality equal to the town is skipped
    assert single_line_address(pao_start_number=3, street="MARE STREET", locality="London", town="LONDON") == \
        "3 MARE STREET, LONDON"
