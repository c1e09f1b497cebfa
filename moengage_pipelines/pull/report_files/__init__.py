"""The report-files pull: campaign report files built in the dashboard → ``moengage_report_<name>``.

:mod:`.fetch` downloads ``<Report_name>_<YYYYMMDD>.zip`` → :mod:`.normalize` reads its CSVs
(:mod:`.archive`) into typed Arrow batches, naming the columns (:mod:`.columns`) and inferring
their types (:mod:`.cell_types`) → :mod:`.load` replaces the generation date's rows
(:func:`~.load.pull_report`); :mod:`.table` names the table.
"""
