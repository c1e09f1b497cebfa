"""Dead letters: rows that were not sent, kept in a warehouse table with the rule they broke."""

from moengage_pipelines.push.dead_letters.buffer import DeadLetterBuffer, DeadLetterSink
from moengage_pipelines.push.dead_letters.letter import DEAD_LETTER_SCHEMA, DeadLetter, row_json
from moengage_pipelines.push.dead_letters.table import DeadLetterWriter

__all__ = [
    "DEAD_LETTER_SCHEMA",
    "DeadLetter",
    "DeadLetterBuffer",
    "DeadLetterSink",
    "DeadLetterWriter",
    "row_json",
]
