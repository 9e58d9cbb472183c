"""Indicators the département reports on: counts, delays, outcomes, supply and demand by territory.

Every figure is aggregated in SQL (GROUP BY, correlated sub-queries on indexed columns), so a page
costs the same dozen queries whatever the number of people. A référent's figures are restricted to
their own caseload (mentees whose `MenteeProfile.referent_id` is theirs); the admin sees the whole
département. Nothing here returns a name: only counts per category, month or territory.

Days are UTC days: the one- or two-hour shift from Paris time does not change a monthly report, and
it keeps SQLite and PostgreSQL identical.
"""

from tutorat.services.indicators.export import Column, Percent, Table, csv_value, display
from tutorat.services.indicators.queries import TERRITORY_TABLES, build_report
from tutorat.services.indicators.report import (
    DELAY_BUCKETS,
    MEETING_BUCKETS,
    MONTHS_SHORT,
    TABLES,
    Period,
    PeriodError,
    Report,
    default_period,
    median_of_counts,
    parse_period,
)

__all__ = [
    "DELAY_BUCKETS",
    "MEETING_BUCKETS",
    "MONTHS_SHORT",
    "TABLES",
    "TERRITORY_TABLES",
    "Column",
    "Percent",
    "Period",
    "PeriodError",
    "Report",
    "Table",
    "build_report",
    "csv_value",
    "default_period",
    "display",
    "median_of_counts",
    "parse_period",
]
