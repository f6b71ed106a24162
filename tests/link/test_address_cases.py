"""Edge cases of address matching, read from address_cases.yaml: one gazetteer-only index built
from a `uprn_addresses` file of every case's candidates, then each case's address matched with the
matcher `bx match` and the API use."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
import yaml

from business_index.build import build_index
from business_index.config import load_settings
from business_index.link.address_lists import AddressInput, IndexAddressMatcher

CASES: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "address_cases.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def matcher(tmp_path_factory: pytest.TempPathFactory) -> IndexAddressMatcher:
    folder = tmp_path_factory.mktemp("address-cases")
    uprns = [candidate[0] for case in CASES for candidate in case["candidates"]]
    assert len(uprns) == len(set(uprns)), "each case needs UPRNs of its own"
    with (folder / "addresses.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["uprn", "address", "postcode", "class", "organisation"])
        for case in CASES:
            for uprn, address, postcode, *rest in case["candidates"]:
                writer.writerow([uprn, address, postcode, rest[0] if rest else "RD", rest[1] if len(rest) > 1 else ""])
    (folder / "sources.toml").write_text(
        '[council]\nname = "Testborough"\n\n[[sources]]\nname = "addresses"\nkind = "gazetteer"\n'
        'format = "uprn_addresses"\npaths = ["addresses.csv"]\n', encoding="utf-8")
    build_index(load_settings(folder / "sources.toml"), folder / "index.duckdb")
    return IndexAddressMatcher(folder / "index.duckdb")


@pytest.mark.parametrize("case", CASES, ids=[case["case"] for case in CASES])
def test_address_case(matcher: IndexAddressMatcher, case: dict[str, Any]) -> None:
    given = case["input"]
    [answer] = matcher.match([AddressInput([given["address"]], given.get("postcode"), given.get("name"))])
    assert answer.uprn == case["expect"], (answer, case)
    if case["expect"] is None:
        assert answer.reason  # the answer says why nothing was placed
    else:
        assert answer.match_probability is not None and answer.decided_by
