"""The one daily partitions definition every partitioned asset shares.

Assets in one job must share a partitions definition, so nothing else defines its own.
"""

import dagster as dg

DAILY = dg.DailyPartitionsDefinition(start_date="2025-01-01", timezone="UTC")
