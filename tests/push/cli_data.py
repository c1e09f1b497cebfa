"""The small events file the CLI tests push: three valid rows and one banned customer id."""

from __future__ import annotations

import datetime as dt

EVENTS_MAPPING = """
entity: events
customer_id: uid
event_name: Purchase
event_time_column: at
attributes: [price]
"""

ROWS = [
    ("user-1", dt.datetime(2025, 5, 1, 10), 1.0),
    ("null", dt.datetime(2025, 5, 1, 11), 2.0),  # a banned customer id: rejected
    ("user-3", dt.datetime(2025, 5, 2, 9), 3.0),
    ("user-4", dt.datetime(2025, 5, 1, 23), 4.0),
]
