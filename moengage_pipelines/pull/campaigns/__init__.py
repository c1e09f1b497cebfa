"""The campaigns pull: every campaign of the workspace into ``moengage_campaigns``.

:mod:`.fetch` pages through ``campaigns/search`` → :mod:`.normalize` turns each item into a
row → :mod:`.load` writes the rows (:func:`~.load.pull_campaigns`); :mod:`.table` holds the
table's name and schema.
"""
