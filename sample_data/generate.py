"""Generate the sample dataset: users, a week of events and a product catalog.

Deterministic (fixed seed and fixed dates), so every clone gets byte-identical Parquet files.
Run ``python -m sample_data.generate`` to rewrite them; ``python -m sample_data.build`` loads
them into the sample DuckDB warehouse.

A handful of rows are deliberately invalid by MoEngage's rules (a banned customer id, an empty
one, an event dated in the future, an out-of-range timezone offset) so the demo shows them land
in the dead-letter table instead of vanishing inside MoEngage.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).parent
SEED = 20250303
FIRST_DAY = date(2025, 3, 3)
DAYS = 7
# The day `make demo` syncs; the deliberately invalid rows sit on it.
DEMO_DAY = date(2025, 3, 5)
USERS = 400
PRODUCTS = 60

FIRST_NAMES = ["Aarav", "Maya", "Lukas", "Sofia", "Kenji", "Amara", "Mateo", "Zoë", "Ingrid",
               "Rahul", "Chloé", "Tomás", "Leila", "Noah", "Yuki", "Olu", "Freya", "Dmitri"]
LAST_NAMES = ["Sharma", "Müller", "García", "Okafor", "Tanaka", "Nguyen", "Silva", "Kowalski",
              "O'Brien", "Haddad", "Johansson", "Rossi", "Dubois", "Kim", "Andersen", "Patel"]
CITIES = ["Bengaluru", "Berlin", "São Paulo", "Lagos", "Tokyo", "Jakarta", "Singapore",
          "New York", "Zürich", "Mumbai"]
PLANS = ["free", "plus", "pro"]
CATEGORIES = ["shoes", "outerwear", "bags", "accessories", "running", "kids"]
EVENT_NAMES = ["App Opened", "Product Viewed", "Added To Cart", "Order Completed",
               "Search Performed"]
PLATFORMS = ["ANDROID", "iOS", "web"]


def _users(rng: random.Random) -> pa.Table:
    rows = []
    for number in range(1, USERS + 1):
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        signup = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(600_000))
        updated = datetime.combine(FIRST_DAY, datetime.min.time(), UTC) + timedelta(
            seconds=rng.randrange(DAYS * 86_400)
        )
        rows.append(
            {
                "customer_id": f"cust-{number:05d}",
                "first_name": first,
                "last_name": last,
                "email": f"{first.lower()}.{last.lower().replace(chr(39), '')}{number}@example.com",
                "mobile": f"+91{rng.randrange(7_000_000_000, 9_999_999_999)}",
                "gender": rng.choice(["male", "female", "other", None]),
                "birthday": date(1960, 1, 1) + timedelta(days=rng.randrange(16_000)),
                "city": rng.choice(CITIES),
                "plan": rng.choice(PLANS),
                "lifetime_value": round(rng.uniform(0, 2_500), 2),
                "is_premium": rng.random() < 0.3,
                "favourite_categories": rng.sample(CATEGORIES, rng.randrange(0, 3)),
                "signup_at": signup,
                "updated_at": updated,
            }
        )
    # Rows MoEngage would silently drop, updated on the demo day: a banned id and an empty id.
    for index, bad_id in ((10, "guest"), (20, "")):
        rows[index]["customer_id"] = bad_id
        rows[index]["updated_at"] = datetime.combine(DEMO_DAY, datetime.min.time(), UTC).replace(
            hour=9 + index // 10
        )
    return pa.Table.from_pylist(rows)


def _events(rng: random.Random, users: pa.Table) -> pa.Table:
    customer_ids = [
        cid for cid in users.column("customer_id").to_pylist() if cid.startswith("cust")
    ]
    rows = []
    for day in range(DAYS):
        start = datetime.combine(FIRST_DAY + timedelta(days=day), datetime.min.time(), UTC)
        for _ in range(rng.randrange(550, 750)):
            name = rng.choice(EVENT_NAMES)
            event_time = start + timedelta(seconds=rng.randrange(86_000))
            attributes = {"category": rng.choice(CATEGORIES)}
            if name == "Order Completed":
                attributes["revenue"] = round(rng.uniform(15, 400), 2)
            rows.append(
                {
                    "event_id": f"evt-{len(rows) + 1:06d}",
                    "customer_id": rng.choice(customer_ids),
                    "event_name": name,
                    "event_time": event_time,
                    # When the warehouse received the event; daily partitions read by this column,
                    # because device clocks (event_time) can be wrong.
                    "loaded_at": event_time + timedelta(seconds=rng.randrange(5, 900)),
                    "platform": rng.choice(PLATFORMS),
                    "app_version": rng.choice(["5.2.0", "5.3.1", "5.4.0"]),
                    "tz_offset_seconds": rng.choice([19_800, 3_600, 0, -18_000, 32_400]),
                    "category": attributes["category"],
                    "revenue": attributes.get("revenue"),
                }
            )
    # On the demo day, a device with a broken clock (an event dated in 2099) and an impossible
    # timezone offset: both must become dead letters, not silent drops inside MoEngage.
    demo_day_rows = [row for row in rows if row["loaded_at"].date() == DEMO_DAY]
    demo_day_rows[5]["event_time"] = datetime(2099, 1, 1, tzinfo=UTC)
    demo_day_rows[7]["tz_offset_seconds"] = 90_000
    rows.sort(key=lambda row: row["loaded_at"])
    return pa.Table.from_pylist(rows)


def _catalog(rng: random.Random) -> pa.Table:
    rows = []
    for number in range(1, PRODUCTS + 1):
        category = rng.choice(CATEGORIES)
        rows.append(
            {
                "sku": f"SKU-{number:04d}",
                "title": f"{rng.choice(['Trail', 'City', 'Storm', 'Aero', 'Classic'])} "
                f"{category.title()} {number}",
                "url": f"https://shop.example.com/p/SKU-{number:04d}",
                "image_url": f"https://cdn.example.com/img/SKU-{number:04d}.jpg",
                "category": category,
                "price": round(rng.uniform(9, 320), 2),
                "in_stock": rng.random() < 0.85,
                "launched_at": datetime(2024, 1, 1, tzinfo=UTC)
                + timedelta(days=rng.randrange(400)),
            }
        )
    return pa.Table.from_pylist(rows)


def generate(directory: Path = HERE) -> dict[str, Path]:
    """Write users, events and catalog Parquet files; return their paths by table name."""
    rng = random.Random(SEED)
    users = _users(rng)
    tables = {"users": users, "events": _events(rng, users), "catalog_items": _catalog(rng)}
    paths = {}
    for name, table in tables.items():
        path = directory / f"{name}.parquet"
        pq.write_table(table, path, compression="zstd")
        paths[name] = path
    return paths


if __name__ == "__main__":
    for table, path in generate().items():
        print(f"{table}: {pq.read_metadata(path).num_rows} rows → {path.name}")
