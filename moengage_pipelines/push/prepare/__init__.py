"""Prepare: source batches → validated JSON elements; rows breaking a rule → dead letters.

``conversion`` turns each mapped column into SQL yielding its JSON value, ``rules`` adds
MoEngage's row rules, ``element_sql`` and ``plan`` compile one query per mapping and schema,
``serializer`` runs it batch by batch on DuckDB, and ``elements`` streams the results with the
rejected rows taken out.
"""
