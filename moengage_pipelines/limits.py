"""MoEngage's documented limits, in one place (sources: MoEngage API docs, rate-limits page).

Rate budgets are per workspace and shared by every client of it.
"""

from __future__ import annotations

# Bulk import (POST /v1/transition/{workspace_id}): "100 KB" per call. 100,000 bytes satisfies
# both readings (100,000 and 102,400), so it is the default; it stays configurable.
TRANSITION_MAX_BYTES = 100_000
TRANSITION_HARD_MAX_BYTES = 102_400
# Other Data APIs (customer, event, device, merge, export): 128 KB.
DATA_API_MAX_BYTES = 128 * 1024
# Catalog: 5 MB and 50 items per request; 50 attributes per catalog; 35 catalogs per account.
CATALOG_MAX_BYTES = 5 * 1024 * 1024
CATALOG_MAX_ITEMS = 50
CATALOG_MAX_ATTRIBUTES = 50
CATALOG_MAX_CATALOGS = 35

# Bulk import throughput (current rate-limits page): 60,000 users and 60,000 events a minute.
TRANSITION_USERS_PER_MINUTE = 60_000
TRANSITION_EVENTS_PER_MINUTE = 60_000
# Catalog: 100 requests a minute or 1,000 an hour, combined across the six catalog endpoints.
CATALOG_REQUESTS_PER_MINUTE = 100
CATALOG_REQUESTS_PER_HOUR = 1_000
# Campaign stats: 100 requests a minute per workspace; 10 campaign ids; 30-day range; limit 10.
STATS_REQUESTS_PER_MINUTE = 100
STATS_MAX_CAMPAIGN_IDS = 10
STATS_MAX_RANGE_DAYS = 30
STATS_MAX_PAGE_LIMIT = 10
# Campaign search/meta (legacy v1): 10/s, 100/min, 6,000/h; at most 15 campaigns a page.
CAMPAIGNS_PER_SECOND = 10
CAMPAIGNS_PER_MINUTE = 100
CAMPAIGNS_PER_HOUR = 6_000
CAMPAIGN_SEARCH_MAX_LIMIT = 15
# Get User (POST /v1/customers/export): 20 users a request, 1,000 users a minute.
GET_USER_MAX_USERS = 20
GET_USER_USERS_PER_MINUTE = 1_000
# Campaign report files expire 7 days after generation.
REPORT_EXPIRY_DAYS = 7

# Event fields.
USER_TIMEZONE_OFFSET_MIN = -54_000
USER_TIMEZONE_OFFSET_MAX = 54_000
EVENT_PLATFORMS = ("ANDROID", "iOS", "web", "TV", "unknown")

# customer_id values MoEngage refuses (compared case-insensitively after stripping).
BANNED_CUSTOMER_IDS = frozenset(
    {
        "unknown", "guest", "null", "0", "1", "true", "false", "user_attribute_unique_id", "",
        "na", "n/a", '""', "dummy_seller_code", "user_id", "id", "customer_id", "uid", "userid",
        "none", "-2", "-1", "2",
    }
)
# Attribute names MoEngage reserves for itself.
RESERVED_ATTRIBUTE_NAMES = frozenset(
    {
        "id", "_id", "", "USER_ATTRIBUTE_UNIQUE_ID", "USER_ATTRIBUTE_USER_EMAIL",
        "USER_ATTRIBUTE_USER_MOBILE", "USER_ATTRIBUTE_USER_NAME", "USER_ATTRIBUTE_USER_GENDER",
        "USER_ATTRIBUTE_USER_FIRST_NAME", "USER_ATTRIBUTE_USER_LAST_NAME",
        "USER_ATTRIBUTE_USER_BDAY", "USER_ATTRIBUTE_NOTIFICATION_PREF", "USER_ATTRIBUTE_OLD_ID",
        "MOE_TIME_FORMAT", "MOE_TIME_TIMEZONE", "USER_ATTRIBUTE_DND_START_TIME",
        "USER_ATTRIBUTE_DND_END_TIME", "MOE_GAID", "INSTALL", "UPDATE", "MOE_ISLAT", "status",
        "user_id", "source",
    }
)
