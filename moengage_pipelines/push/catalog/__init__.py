"""Catalog items: what catalog pushes add to the push stages.

The catalog is found or created (``schema``), items are upserted (``upsert``) and mirrored
(``push``), MoEngage's answers are read once (``answers``) and catalog ids and pushed item ids
are remembered between runs (``state``).
"""
