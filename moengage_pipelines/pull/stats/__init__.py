"""The campaign-stats pull: numbers per day into the tidy and the wide stats tables.

The tables are ``moengage_campaign_stats`` (tidy) and ``moengage_campaign_stats_daily`` (wide).

:mod:`.request` checks and builds requests, :mod:`.fetch` sends them day by day → :mod:`.keys`
and :mod:`.normalize` flatten the answers into tidy rows, :mod:`.daily` builds the wide rows →
:mod:`.load` writes each day (:func:`~.load.pull_stats`), choosing days and campaigns with
:mod:`.selection`; :mod:`.tables` holds the tables' names and schemas.
"""
