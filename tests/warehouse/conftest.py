from tests.warehouse.backends import duckdb_url, pg_schema, pg_url, warehouse, warehouse_url

__all__ = ["duckdb_url", "pg_schema", "pg_url", "warehouse", "warehouse_url"]
