"""The sample sales dataset the project ships, generated the same way on every call."""

import random
from datetime import date, timedelta

from django.utils.translation import gettext_lazy

NAME = gettext_lazy("Sample sales (5,000 orders)")
ROWS = 5000
SEED = 20261123
COLUMNS = [
    {"name": "order_date", "type": "date", "required": True},
    {"name": "region", "type": "text", "required": True},
    {"name": "product", "type": "text", "required": True},
    {"name": "units", "type": "integer", "required": True},
    {"name": "unit_price", "type": "number", "required": True},
    {"name": "revenue", "type": "number", "required": True},
]
_REGIONS = ["North", "South", "East", "West", "Central", "Coast", "Highlands", "Islands"]
_PRODUCTS = {
    "Desk lamp": 34.0,
    "Office chair": 189.0,
    "Standing desk": 420.0,
    "Monitor arm": 79.0,
    "Keyboard": 59.0,
    "Mouse": 25.0,
    "Headset": 95.0,
    "Webcam": 69.0,
    "Notebook pack": 12.0,
    "Cable kit": 18.0,
}


def rows() -> list[dict]:
    rng = random.Random(SEED)
    first_day = date(2025, 1, 1)
    products = list(_PRODUCTS)
    result = []
    for _ in range(ROWS):
        product = rng.choice(products)
        units = rng.randint(1, 40)
        unit_price = round(_PRODUCTS[product] * rng.uniform(0.9, 1.1), 2)
        result.append(
            {
                "order_date": (first_day + timedelta(days=rng.randrange(365))).isoformat(),
                "region": rng.choice(_REGIONS),
                "product": product,
                "units": units,
                "unit_price": unit_price,
                "revenue": round(units * unit_price, 2),
            }
        )
    return result
