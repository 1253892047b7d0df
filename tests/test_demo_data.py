"""The demo generator: deterministic, realistic and consistent with the draft rules."""

from __future__ import annotations

from collections import Counter
from datetime import date

from store import demo_data


def test_same_inputs_give_the_same_records():
    assert list(demo_data.generate_records("ORG_A", 100)) == list(demo_data.generate_records("ORG_A", 100))


def test_seed_and_organization_change_the_records():
    base = list(demo_data.generate_records("ORG_A", 50))
    assert base != list(demo_data.generate_records("ORG_A", 50, seed=8))
    other = list(demo_data.generate_records("ORG_B", 50))
    assert [r["category"] for r in base] != [r["category"] for r in other]


def test_a_slice_regenerates_on_its_own():
    whole = list(demo_data.generate_records("ORG_A", 30))
    assert list(demo_data.generate_records("ORG_A", 10, start=21)) == whole[20:]


def test_records_obey_the_domain_rules():
    records = list(demo_data.generate_records("ORG_A", 3000))
    assert len({r["pfaId"] for r in records}) == 3000
    for r in records:
        assert r["source"] in ("Rental", "Purchase") and r["dor"] in ("BEO", "PROJECT")
        if r["source"] == "Rental":
            assert r["monthlyRate"] > 0
        else:
            assert r["purchasePrice"] > 0
        assert date.fromisoformat(r["forecastEnd"]) >= date.fromisoformat(r["forecastStart"])
        assert date.fromisoformat(r["originalEnd"]) >= date.fromisoformat(r["originalStart"])
        assert not (r["isDiscontinued"] and r["isFundsTransferable"])
        assert not (r["isDiscontinued"] and r["isActualized"])
        if r["isActualized"]:
            assert "actualStart" in r and "equipmentTag" in r
            if "actualEnd" in r:
                assert r["actualEnd"] > r["actualStart"]
        else:
            assert "actualStart" not in r


def test_the_mix_is_realistic():
    records = list(demo_data.generate_records("ORG_A", 5000))
    sources = Counter(r["source"] for r in records)
    assert 0.55 < sources["Rental"] / 5000 < 0.85
    assert len({r["category"] for r in records}) == len(demo_data.CATALOG)
    assert len({r["area"] for r in records}) == len(demo_data.AREAS)
    actualized = sum(r["isActualized"] for r in records) / 5000
    discontinued = sum(r["isDiscontinued"] for r in records) / 5000
    assert 0.2 < actualized < 0.6 and 0.005 < discontinued < 0.06


def test_organization_codes_are_unique_for_large_counts():
    codes = demo_data.organization_codes(50)
    assert len(set(codes)) == 50 and codes[0] == "HOLNG" and codes[-1] == "ORG_050"
