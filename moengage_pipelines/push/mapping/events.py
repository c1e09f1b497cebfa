"""``EventMapping``: rows -> MoEngage events (event elements of a bulk import)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from moengage_pipelines.limits import (
    EVENT_PLATFORMS,
    USER_TIMEZONE_OFFSET_MAX,
    USER_TIMEZONE_OFFSET_MIN,
)
from moengage_pipelines.push.mapping.attributes import (
    AttributeSpec,
    IdWhitespace,
    MappingModel,
    NonFinite,
    check_attribute_name,
    normalize_attributes,
    normalize_platform,
    unique_columns,
)

__all__ = ["EventMapping"]

class EventMapping(MappingModel):
    """Rows -> MoEngage events (event elements of a bulk import), one action per row.

    Each of event name, platform, app version and timezone offset is either a constant or a
    column (``*_column``); give at most one of the two.

    Attributes:
        entity: Always ``"events"``.
        customer_id: Column holding the user's ``customer_id``.
        event_name: Constant event name (``action``).
        event_name_column: Column holding the event name.
        event_time_column: Column holding when it happened (``current_time``): a timestamp,
            date, ISO 8601 string or epoch number (see ``event_time_unit``). Without it MoEngage
            uses the time it receives the event.
        event_time_unit: Unit of numeric event times, ``s`` or ``ms``.
        platform: Constant platform (ANDROID, iOS, web, TV, unknown; any case).
        platform_column: Column holding the platform; values are normalized the same way.
        app_version: Constant app version.
        app_version_column: Column holding the app version.
        user_timezone_offset: Constant offset from UTC in seconds (-54000..54000).
        user_timezone_offset_column: Column holding the offset in seconds.
        attributes: Event attributes, as for users.
        send_nulls: Send ``null`` for null attributes instead of leaving them out.
        non_finite: ``null`` treats NaN and infinite floats as missing values; ``reject``
            rejects their rows (``non_finite_number``). A required value (the event time)
            that is NaN rejects its row either way.
        customer_id_whitespace: ``trim`` takes surrounding whitespace off customer ids;
            ``keep`` sends them as they are.
    """

    entity: Literal["events"] = "events"
    customer_id: str = Field(min_length=1)
    event_name: str | None = None
    event_name_column: str | None = None
    event_time_column: str | None = None
    event_time_unit: Literal["s", "ms"] = "s"
    platform: str | None = None
    platform_column: str | None = None
    app_version: str | None = None
    app_version_column: str | None = None
    user_timezone_offset: int | None = Field(
        default=None, ge=USER_TIMEZONE_OFFSET_MIN, le=USER_TIMEZONE_OFFSET_MAX
    )
    user_timezone_offset_column: str | None = None
    attributes: dict[str, AttributeSpec] = Field(default_factory=dict)
    send_nulls: bool = False
    non_finite: NonFinite = "null"
    customer_id_whitespace: IdWhitespace = "trim"

    _normalize = field_validator("attributes", mode="before")(
        classmethod(lambda cls, value: normalize_attributes(value))
    )

    @field_validator("attributes")
    @classmethod
    def _attribute_names(cls, value: dict[str, AttributeSpec]) -> dict[str, AttributeSpec]:
        for name in value:
            check_attribute_name(name)
        return value

    @field_validator("event_name")
    @classmethod
    def _event_name_allowed(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not value.strip():
            raise ValueError("event_name must not be empty")
        if value.lower().startswith("moe_"):
            raise ValueError(f"event name {value!r} starts with the system prefix 'moe_'")
        return value

    @field_validator("platform")
    @classmethod
    def _platform_allowed(cls, value: str | None) -> str | None:
        if value is None:
            return value
        normalized = normalize_platform(value)
        if normalized is None:
            raise ValueError(f"unknown platform {value!r}; expected one of {EVENT_PLATFORMS}")
        return normalized

    @model_validator(mode="after")
    def _constant_or_column(self) -> EventMapping:
        if (self.event_name is None) == (self.event_name_column is None):
            raise ValueError("give exactly one of event_name (a constant) or event_name_column")
        for field in ("platform", "app_version", "user_timezone_offset"):
            if getattr(self, field) is not None and getattr(self, f"{field}_column") is not None:
                raise ValueError(f"give {field} or {field}_column, not both")
        return self

    def columns(self) -> list[str]:
        """Every source column the mapping reads."""
        optional = [
            self.event_name_column,
            self.event_time_column,
            self.platform_column,
            self.app_version_column,
            self.user_timezone_offset_column,
        ]
        return unique_columns(
            [
                self.customer_id,
                *(column for column in optional if column),
                *(spec.column for spec in self.attributes.values()),
            ]
        )

    @property
    def row_key_column(self) -> str:
        """Column identifying a row in dead letters."""
        return self.customer_id

    @property
    def key_whitespace(self) -> IdWhitespace:
        """Whether the row key (the customer id) is trimmed."""
        return self.customer_id_whitespace
