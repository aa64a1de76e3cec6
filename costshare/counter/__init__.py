"""Pure, streaming readers for COUNTER usage reports: R4, R5.0 and R5.1 in CSV, TSV, XLSX, JSON.

    report = read_report("tr.tsv")          # header read; CounterError if unreadable
    for batch in report.batches(10_000):    # records streamed, never all in memory
        ...
    report.summary                          # complete once the records are read

No Flask and no database here: callers (the import service, the CLI) do the storing.
"""

from .errors import CounterError, CounterInternalError, NotCounterError, UnsupportedReportError
from .model import (
    COUNT,
    ITEM,
    MASTER_REPORTS,
    METRIC,
    MONTH,
    R4_REPORTS,
    R5_METRICS,
    R5_REPORTS,
    RECORD_ROW_FIELDS,
    Item,
    Record,
    Summary,
    SushiException,
    record_row,
)
from .reader import Report, inspect, read_report

__all__ = [
    "COUNT",
    "ITEM",
    "MASTER_REPORTS",
    "METRIC",
    "MONTH",
    "R4_REPORTS",
    "R5_METRICS",
    "R5_REPORTS",
    "RECORD_ROW_FIELDS",
    "CounterError",
    "CounterInternalError",
    "Item",
    "NotCounterError",
    "Record",
    "Report",
    "Summary",
    "SushiException",
    "UnsupportedReportError",
    "inspect",
    "read_report",
    "record_row",
]
