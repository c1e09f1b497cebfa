"""Error responses rendered from the envelope table (``envelope_table.ANSWERS``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from moengage_pipelines.emulator.envelope_shapes import STATUS_REASONS, IfGiven, catalog_code
from moengage_pipelines.emulator.envelope_table import (
    ANSWERS,
    FAMILY_BASES,
    FAMILY_SHAPES,
    Answer,
    Family,
    Situation,
)
from moengage_pipelines.emulator.http import Response, json_response

__all__ = ["answer_for", "render"]


def answer_for(family: Family, situation: Situation) -> tuple[Answer, Any]:
    """The row a family answers a situation with, and the body template it renders.

    The family's own row wins, then its base family's, then the shared one (``"*"``).
    """
    base = FAMILY_BASES.get(family, family)
    for key in ((family, situation), (base, situation), ("*", situation)):
        answer = ANSWERS.get(key)
        if answer is not None:
            return answer, FAMILY_SHAPES[base] if answer.body is None else answer.body
    raise KeyError(f"no answer for {situation!r}")


def render(
    family: Family,
    situation: Situation,
    request_id: str,
    *,
    status: int | None = None,
    message: str | None = None,
    type: str | None = None,
    attribute: str | None = None,
    headers: Iterable[tuple[str, str]] = (),
    **fields: str,
) -> Response:
    """The response a family answers in a situation.

    Args:
        family: The endpoint's API family.
        situation: What went wrong.
        request_id: Id reported in the body.
        status: Status where the row leaves it to the caller (``server_error``, ``error``).
        message: Message where the row leaves it to the caller (``error``).
        type: MoEngage's error type where the row leaves it to the caller.
        attribute: The field the error is about, where the row leaves it to the caller.
        headers: Extra headers (``allow``, ``x-ratelimit-*``).
        **fields: Values the row's message names, e.g. ``limit`` for ``payload_too_large``.
    """
    answer, template = answer_for(family, situation)
    code = answer.status if answer.status is not None else status
    if code is None:
        raise ValueError(f"{family} {situation} needs a status")
    text = answer.message.format(**fields) if answer.message is not None else message or ""
    target = answer.attribute if answer.attribute is not None else attribute
    reason = STATUS_REASONS.get(code, "Error")
    kind = answer.type or type or reason
    values: dict[str, Any] = {
        "status": code,
        "message": text,
        "type": kind,
        "attribute": target,
        "request_id": request_id,
        "reason": reason,
        "reason_caps": reason.upper(),
        "error_code": catalog_code(code, kind),
    }
    return json_response(code, _fill(template, values), headers)


def _fill(template: Any, values: dict[str, Any]) -> Any:
    if isinstance(template, str):
        # A field without a value reads as empty text (``"target": ""``).
        return template.format(**{k: "" if v is None else v for k, v in values.items()})
    if isinstance(template, IfGiven):
        return values[template.field]
    if isinstance(template, dict):
        return {
            key: _fill(value, values)
            for key, value in template.items()
            if not (isinstance(value, IfGiven) and values[value.field] is None)
        }
    if isinstance(template, list):
        return [_fill(item, values) for item in template]
    return template
