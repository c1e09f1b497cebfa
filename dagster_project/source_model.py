"""``SourceModel``: where the rows of one push come from, as written in a component's YAML."""

from typing import Literal

import dagster as dg
from pydantic import Field, model_validator

__all__ = ["SourceModel"]


class SourceModel(dg.Model):
    """Where the rows of one push come from."""

    table: str | None = Field(default=None, description="Table in the warehouse.")
    sql: str | None = Field(
        default=None, description="SQL run on the warehouse instead of a table."
    )
    parquet: str | None = Field(
        default=None, description="Parquet file, folder or glob instead of the warehouse."
    )
    upstream: str | None = Field(
        default=None,
        description=(
            "Key of an upstream asset (e.g. analytics/active_users) whose value, loaded by its "
            "IO manager, is pushed: a pandas DataFrame, an Arrow table or a path to Parquet."
        ),
    )
    time_column: str | None = Field(
        default=None,
        description="Timestamp column that assigns rows to daily partitions (UTC, end exclusive).",
    )
    order_by: list[str] | None = Field(
        default=None,
        description=(
            "Columns (a unique key) to read table or sql rows in, so that a re-run packs the same "
            "bodies and the push ledger skips those sent; Parquet is read in file order."
        ),
    )

    kind: Literal["duckdb", "postgres", "snowflake", "sqlite"] | None = Field(
        default=None,
        description=(
            "Engine of the warehouse behind table or sql, shown as a kind on the asset (the "
            "URL is only known at run time); Parquet sources are shown as parquet."
        ),
    )

    @property
    def engine(self) -> str | None:
        """The kind to show for this source: ``parquet``, or ``kind`` when given."""
        return "parquet" if self.parquet else self.kind

    @model_validator(mode="after")
    def _exactly_one_origin(self) -> "SourceModel":
        given = [name for name in ("table", "sql", "parquet", "upstream") if getattr(self, name)]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of table, sql, parquet, upstream (got {given or 'none'})"
            )
        if (self.parquet or self.upstream) and self.order_by:
            raise ValueError("order_by is for table or sql sources; Parquet is read in file order")
        if self.parquet and self.kind:
            raise ValueError("kind is for table or sql sources; a Parquet source is parquet")
        return self
