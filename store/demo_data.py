"""Deterministic, realistic PFA records for demos, tests and benchmarks.

The same (organization, seed, count) always yields the same records, so tests can compute
expected answers and benchmarks are repeatable. Generation is streaming and takes a few
seconds per million records.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone

# category -> (description, classes, manufacturers with models, monthly rate range, price range, rental share)
CATALOG: dict[str, tuple[str, tuple[str, ...], tuple[tuple[str, str], ...], tuple[int, int], tuple[int, int], float]] = {
    "Cranes": ("Lifting and cranes", ("Crawler Crane 250T", "Mobile Crane 90T", "Tower Crane TC-12", "Rough Terrain Crane 60T"),
               (("Liebherr", "LR 1250"), ("Manitowoc", "MLC165"), ("Terex", "AC 100"), ("Grove", "GMK5150")),
               (18_000, 95_000), (450_000, 2_400_000), 0.85),
    "Concrete": ("Concrete placement and batching", ("Concrete Pump 42m", "Transit Mixer 9m3", "Batch Plant 120m3/h", "Concrete Vibrator"),
                 (("Putzmeister", "BSF 42"), ("Schwing", "S 43 SX"), ("Liebherr", "HTM 904"), ("Wacker Neuson", "IRFU 45")),
                 (1_200, 28_000), (8_000, 650_000), 0.7),
    "Earthmoving": ("Earthmoving and excavation", ("Excavator 30T", "Wheel Loader 5m3", "Dozer D8", "Articulated Dump Truck 40T", "Motor Grader"),
                    (("Caterpillar", "336"), ("Komatsu", "PC360"), ("Volvo", "A40G"), ("John Deere", "872G")),
                    (6_500, 32_000), (180_000, 1_100_000), 0.65),
    "Generators": ("Power generation", ("Generator 500kVA", "Generator 100kVA", "Light Tower", "Load Bank"),
                   (("Caterpillar", "XQ500"), ("Atlas Copco", "QAS 100"), ("Generac", "MLT6"), ("Aggreko", "LB500")),
                   (900, 14_000), (9_000, 320_000), 0.6),
    "Scaffolding": ("Access and scaffolding", ("System Scaffold Bay", "Mobile Tower", "Suspended Platform"),
                    (("Layher", "Allround"), ("PERI", "UP Flex"), ("Safway", "QuikDeck")),
                    (300, 6_000), (2_000, 90_000), 0.8),
    "Welding": ("Welding and fabrication", ("Welding Machine 400A", "Orbital Welder", "Plasma Cutter", "Welding Habitat"),
                (("Lincoln Electric", "Vantage 400"), ("Miller", "Big Blue 400"), ("ESAB", "Warrior 500i")),
                (400, 5_500), (3_000, 85_000), 0.55),
    "Vehicles": ("Site vehicles", ("Pickup Truck", "Crew Bus 30 Seat", "Fuel Truck", "Water Truck"),
                 (("Toyota", "Hilux"), ("Ford", "F-250"), ("Isuzu", "NPR"), ("Mercedes-Benz", "Sprinter")),
                 (1_100, 9_000), (35_000, 240_000), 0.75),
    "Compressors": ("Compressed air", ("Air Compressor 750cfm", "Air Compressor 185cfm", "Air Dryer"),
                    (("Atlas Copco", "XAS 750"), ("Sullair", "185"), ("Doosan", "P185")),
                    (700, 8_500), (12_000, 160_000), 0.7),
}
AREAS = ("Silo 1", "Silo 2", "Silo 3", "Silo 4", "Silo 5", "Tank Farm", "Pipe Rack", "Laydown Yard",
         "Camp", "Jetty", "Utilities", "Substation")
DEMO_ORGANIZATIONS = ("HOLNG", "RIOT", "PORTX", "BAYWF", "NORTHPL", "SUNMINE", "DELTAR", "GRIDX",
                      "OREHUB", "TIDEPW", "RAILCO", "SKYBRG", "CANALX", "METROL", "LITHIA", "COPPR",
                      "AIRFLD", "DAMWK", "HYDROG", "FIBRNT")
PROJECT_START = date(2025, 1, 1)
REFERENCE_DAY = date(2026, 6, 1)  # "today" for actuals, fixed so output never depends on the clock
_EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)


def organization_codes(count: int) -> list[str]:
    """`count` organization codes: the named demo ones first, then ORG_021, ORG_022, ..."""
    return [DEMO_ORGANIZATIONS[i] if i < len(DEMO_ORGANIZATIONS) else f"ORG_{i + 1:03d}" for i in range(count)]


def record_id(index: int) -> str:
    return f"PFA-{index:07d}"


def generate_records(organization: str, count: int, *, seed: int = 7, start: int = 1) -> Iterator[dict]:
    """Yield `count` PFA records (camelCase keys, DESIGN section 3) for one organization.

    Records `start .. start + count - 1`; each record depends only on (organization, seed,
    index), so a slice can be regenerated on its own.
    """
    categories = list(CATALOG)
    for index in range(start, start + count):
        rng = random.Random(f"{seed}:{organization}:{index}")
        yield _make_record(rng, organization, index, categories)


def _make_record(rng: random.Random, organization: str, index: int, categories: list[str]) -> dict:
    category = rng.choice(categories)
    description, classes, makers, rate_range, price_range, rental_share = CATALOG[category]
    manufacturer, model = rng.choice(makers)
    source = "Rental" if rng.random() < rental_share else "Purchase"
    plan_start = PROJECT_START + timedelta(days=rng.randrange(0, 1200))
    plan_end = plan_start + timedelta(days=rng.randrange(14, 540))
    forecast_start = plan_start + timedelta(days=rng.randrange(-30, 91))
    forecast_end = max(forecast_start + timedelta(days=7), plan_end + timedelta(days=rng.randrange(-30, 121)))
    actualized = forecast_start < REFERENCE_DAY and rng.random() < 0.8
    discontinued = not actualized and rng.random() < 0.05
    record = {
        "pfaId": record_id(index),
        "organization": organization,
        "area": rng.choice(AREAS),
        "category": category,
        "categoryDescription": description,
        "class": rng.choice(classes),
        "source": source,
        "dor": "BEO" if rng.random() < 0.3 else "PROJECT",
        "manufacturer": manufacturer,
        "model": model,
        "originalStart": plan_start.isoformat(),
        "originalEnd": plan_end.isoformat(),
        "forecastStart": forecast_start.isoformat(),
        "forecastEnd": forecast_end.isoformat(),
        "isActualized": actualized,
        "isDiscontinued": discontinued,
        "isFundsTransferable": not discontinued and rng.random() < 0.1,
        "lastModified": (_EPOCH + timedelta(seconds=rng.randrange(0, 86_400 * 150))).isoformat().replace("+00:00", "Z"),
    }
    if source == "Rental":
        record["monthlyRate"] = round(rng.uniform(*rate_range) / 50) * 50
    else:
        record["purchasePrice"] = round(rng.uniform(*price_range) / 100) * 100
    if actualized:
        actual_start = forecast_start + timedelta(days=rng.randrange(-5, 6))
        record["actualStart"] = actual_start.isoformat()
        if forecast_end < REFERENCE_DAY:
            actual_end = max(actual_start + timedelta(days=1), forecast_end + timedelta(days=rng.randrange(-10, 11)))
            record["actualEnd"] = actual_end.isoformat()
        record["equipmentTag"] = f"EQ-{rng.randrange(10_000, 99_999)}"
    return record
