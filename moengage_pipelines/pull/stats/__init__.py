"""The campaign-stats pull: numbers per day into the tidy table and the daily facts.

The tables are ``moengage_campaign_stats`` (tidy) and ``moengage_campaign_stats_daily`` (daily
facts, keyed by date, campaign, platform, locale, variation, attribution and metric type), read
through the view ``moengage_campaign_stats_summable``.

:mod:`.request` checks and builds requests, :mod:`.fetch` sends them day by day → :mod:`.keys`
and :mod:`.normalize` flatten the answers into tidy rows, :mod:`.daily` builds the daily facts →
:mod:`.load` writes each day (:func:`~.load.pull_stats`), choosing days and campaigns with
:mod:`.selection`; :mod:`.tables` holds the tables' names, schemas and keys, :mod:`.model` the
summable view and the migration of tables of an earlier layout.
"""
