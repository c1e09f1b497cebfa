"""The diff's second pass: the source's valid elements read again, to pick the rows to send."""

from __future__ import annotations

from collections.abc import Iterator

from moengage_pipelines.push.context import PushContext
from moengage_pipelines.push.dead_letters import DeadLetterBuffer
from moengage_pipelines.push.mapping import CatalogMapping, EventMapping, UserMapping
from moengage_pipelines.push.pack.packer import BodyPacker
from moengage_pipelines.push.prepare.elements import ValidElements, validated_elements
from moengage_pipelines.push.prepare.serializer import ElementSerializer
from moengage_pipelines.sources import Source

__all__ = ["reread_elements"]


def reread_elements(
    source: Source,
    mapping: UserMapping | EventMapping | CatalogMapping,
    packer: BodyPacker,
    context: PushContext,
    max_body_bytes: int,
) -> Iterator[ValidElements]:
    """The source's valid elements read again, for the diff's second pass.

    Rejects and counts were taken by the first pass: this pass keeps them in a scratch report
    and a dead-letter buffer that writes nowhere.

    Args:
        source: The push's source.
        mapping: The push's mapping.
        packer: The packer whose element limit the first pass applied.
        context: The push's context (options, window, sync name, partition).
        max_body_bytes: The body limit of the push's entity, for the scratch report.

    Yields:
        The valid elements of each batch, with their row keys.
    """
    options = context.options
    scratch = context.new_report(mapping.entity, max_body_bytes)
    with ElementSerializer(
        mapping, now=options.now, threads=options.threads, with_keys=True
    ) as serializer:
        yield from validated_elements(
            source, serializer, window=context.window, batch_rows=options.batch_rows,
            max_element_bytes=packer.max_element_bytes(), report=scratch,
            letters=DeadLetterBuffer(scratch, None, sync_name=context.sync_name,
                                     partition=context.partition),
        )
