"""Generate the sample dataset: users, 30 days of events and a product catalog.

The data is dated relative to today (UTC): the demo's day is yesterday and the data covers the
30 days ending on it, so the UI's partition plots fill and the report files MoEngage keeps for
7 days can be downloaded. For a given day the content is deterministic (a fixed seed; only the
dates move), so two runs on the same day write identical rows. The Parquet files are not kept in
the repository: ``sample_files()`` writes them next to this script when they are missing or were
written for another day. Run ``python -m sample_data.generate`` to rewrite them;
``python -m sample_data.build`` loads them into the sample DuckDB warehouse.

A handful of rows are deliberately invalid by MoEngage's rules (a banned customer id, an empty
one, an event dated in the future, an out-of-range timezone offset) so the demo shows them land
in the dead-letter table instead of vanishing inside MoEngage.
"""

from __future__ import annotations

import os
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).parent
SEED = 20250303
DAYS = 30
USERS = 1_500
PRODUCTS = 60
# Parquet key-value metadata naming the demo day a file was generated for.
DEMO_DAY_METADATA = b"sample_data.demo_day"
TABLES = ("users", "events", "catalog_items")


def demo_day_for(today: date | None = None) -> date:
    """The day the demo syncs: the day before ``today`` (default: today in UTC)."""
    return (today or datetime.now(UTC).date()) - timedelta(days=1)


def first_day_for(demo_day: date) -> date:
    """The first day of sample data when the demo syncs ``demo_day`` (30 days end on it)."""
    return demo_day - timedelta(days=DAYS - 1)


# Fixed when the module is imported, so one process (a test session, the demo) sees one date
# even when it runs across midnight. The deliberately invalid rows sit on DEMO_DAY.
DEMO_DAY = demo_day_for()
FIRST_DAY = first_day_for(DEMO_DAY)

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


def _users(rng: random.Random, first_day: date, demo_day: date) -> pa.Table:
    rows = []
    for number in range(1, USERS + 1):
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        signup = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(600_000))
        updated = datetime.combine(first_day, datetime.min.time(), UTC) + timedelta(
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
        rows[index]["updated_at"] = datetime.combine(demo_day, datetime.min.time(), UTC).replace(
            hour=9 + index // 10
        )
    return pa.Table.from_pylist(rows)


def _events(rng: random.Random, users: pa.Table, first_day: date, demo_day: date) -> pa.Table:
    customer_ids = [
        cid for cid in users.column("customer_id").to_pylist() if cid.startswith("cust")
    ]
    rows = []
    for day in range(DAYS):
        start = datetime.combine(first_day + timedelta(days=day), datetime.min.time(), UTC)
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
    demo_day_rows = [row for row in rows if row["loaded_at"].date() == demo_day]
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


def sample_tables(demo_day: date = DEMO_DAY) -> dict[str, pa.Table]:
    """The users, events and catalog tables when the demo syncs ``demo_day``."""
    rng = random.Random(SEED)
    first_day = first_day_for(demo_day)
    users = _users(rng, first_day, demo_day)
    return {
        "users": users,
        "events": _events(rng, users, first_day, demo_day),
        "catalog_items": _catalog(rng),
    }


def generate(directory: Path = HERE, demo_day: date = DEMO_DAY) -> dict[str, Path]:
    """Write users, events and catalog Parquet files; return their paths by table name."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, table in sample_tables(demo_day).items():
        stamped = table.replace_schema_metadata({DEMO_DAY_METADATA: demo_day.isoformat().encode()})
        path = directory / f"{name}.parquet"
        # Written aside and renamed: parallel test workers may generate the same files at once.
        partial = path.with_name(f".{name}.{os.getpid()}.parquet")
        pq.write_table(stamped, partial, compression="zstd")
        partial.replace(path)
        paths[name] = path
    return paths


def _generated_for(path: Path) -> str | None:
    try:
        metadata = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowInvalid):
        return None
    value = metadata.get(DEMO_DAY_METADATA)
    return value.decode() if value else None


def sample_files(directory: Path = HERE, demo_day: date = DEMO_DAY) -> dict[str, Path]:
    """The sample Parquet files for ``demo_day``, generated first when missing or out of date."""
    paths = {name: directory / f"{name}.parquet" for name in TABLES}
    if all(_generated_for(path) == demo_day.isoformat() for path in paths.values()):
        return paths
    return generate(directory, demo_day)


if __name__ == "__main__":
    for table, path in generate().items():
        print(f"{table}: {pq.read_metadata(path).num_rows} rows → {path.name}")
