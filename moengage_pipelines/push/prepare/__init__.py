"""Prepare: source batches → validated JSON elements; rows breaking a rule → dead letters.

``invalid_utf8`` checks a batch's strings before DuckDB reads them, ``conversion`` turns each
mapped column into SQL yielding its JSON value, ``ids`` the customer or item id, ``rules``
adds MoEngage's row rules, ``value_guard`` the last check on every value, ``element_sql`` and
``plan`` compile one query per mapping and schema, ``serializer`` runs it batch by batch on
DuckDB, and ``elements`` streams the results with the rejected rows taken out.
"""
