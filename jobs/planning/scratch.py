"""The planner's temporary tables: due slots, first tips, candidates, names SQL cannot render."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    Float,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
)

from sms_service.core.models import UTCDateTime

_scratch = MetaData()
# The due (weekday, hour) slots of each (time zone, state) at this run's `now`.
due_slot_table = Table(
    "plan_due_slot",
    _scratch,
    Column("timezone", String(64), nullable=False),
    Column("region", String(8), nullable=False),  # "" when the state is unknown
    Column("weekday", SmallInteger, nullable=False),
    Column("hour", SmallInteger, nullable=False),
    Column("local_date", Date, nullable=False),
    Column("week_label", String(10), nullable=False),  # the local ISO week, e.g. 2026-W10
    Column("due_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("timezone", "region", "weekday", "hour"),
    prefixes=["TEMPORARY"],
)
# Caregivers who enrolled moments ago and have had no tip: their first one goes out now rather
# than on their weekly slot (jobs.planning.welcome), as that week's tip.
welcome_table = Table(
    "plan_welcome",
    _scratch,
    Column("caregiver_id", Integer, primary_key=True, autoincrement=False),
    Column("local_date", Date, nullable=False),
    Column("week_label", String(10), nullable=False),
    Column("due_at", UTCDateTime(), nullable=False),
    prefixes=["TEMPORARY"],
)
# For each language and age in weeks, the valid tips in content.sequence's order (rank 1 first).
candidate_table = Table(
    "plan_candidate",
    _scratch,
    Column("language", String(5), nullable=False),
    Column("week", Integer, nullable=False),
    Column("rank", Integer, nullable=False),
    Column("tip_id", String(64), nullable=False),
    Column("tip_version", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("fallback", String(40), nullable=False),  # {child} without a name, at this age
    Column("fallback_cap", String(40), nullable=False),  # {Child} without a name
    Column("base_units", Integer, nullable=False),  # prefix + text without the placeholders
    Column("placeholders", Integer, nullable=False),
    Column("single_limit", Integer, nullable=False),  # 160 (GSM-7) or 70 (UCS-2)
    Column("multi_limit", Integer, nullable=False),  # 153 or 67
    Column("exact", Boolean, nullable=False),  # False: SQL cannot count its segments
    # The tip's running experiment (jobs/planning/experiments.py) and wording B, measured as
    # the tip's own text is; all None for a tip in no experiment.
    Column("experiment_id", Integer),
    Column("share_b", Float),
    Column("text_b", Text),
    Column("base_units_b", Integer),
    Column("placeholders_b", Integer),
    Column("single_limit_b", Integer),
    Column("multi_limit_b", Integer),
    Column("exact_b", Boolean),
    PrimaryKeyConstraint("language", "week", "rank"),
    prefixes=["TEMPORARY"],
)

# Names that content.render.render_tip would change (accents outside GSM-7, extra spaces,
# too long), with what it makes of them; filled per batch, distinct names only.
name_table = Table(
    "plan_name",
    _scratch,
    Column("raw", String(40), primary_key=True),
    Column("clean", String(40), nullable=False),  # "" means: use the fallback
    Column("clean_cap", String(40), nullable=False),
    prefixes=["TEMPORARY"],
)


# The active surveys' occasions: one row per survey, or per (survey, child age) for surveys
# asked at ages such as 6, 12 and 24 months. Ages are in days, as the query counts them.
survey_due_table = Table(
    "plan_survey",
    _scratch,
    Column("row_id", Integer, primary_key=True, autoincrement=False),
    Column("survey_id", Integer, nullable=False),
    Column("question_id", Integer, nullable=False),  # the first question
    Column("language", String(5)),  # None: every language
    Column("tag", String(40)),
    Column("partner_id", Integer),  # None: every partner's families
    Column("min_days", Integer),
    Column("max_days", Integer),
    # Every N weeks: a family asked after this moment (now - N weeks) is not asked again yet.
    Column("asked_since", UTCDateTime()),
    Column("milestone_days", Integer),  # at a child age; None otherwise
    Column("occasion", String(40), nullable=False),  # "once", "every", or "age:<months>"
    prefixes=["TEMPORARY"],
)

# The first questions' texts, as plan_candidate holds tips: per language and age band (the
# fallback for {child} is "your baby" before 52 weeks, "your toddler" after), measured.
survey_text_table = Table(
    "plan_survey_text",
    _scratch,
    Column("question_id", Integer, nullable=False),
    Column("language", String(5), nullable=False),
    Column("toddler", Boolean, nullable=False),
    Column("text", Text, nullable=False),
    Column("fallback", String(40), nullable=False),
    Column("fallback_cap", String(40), nullable=False),
    Column("base_units", Integer, nullable=False),
    Column("placeholders", Integer, nullable=False),
    Column("single_limit", Integer, nullable=False),
    Column("multi_limit", Integer, nullable=False),
    Column("exact", Boolean, nullable=False),
    PrimaryKeyConstraint("question_id", "language", "toddler"),
    prefixes=["TEMPORARY"],
)


# The surveys one batch starts, chosen before any is written: a SELECT that read survey_run
# while its own INSERT grew it would rescan the new rows for every family (PostgreSQL).
survey_start_table = Table(
    "plan_survey_start",
    _scratch,
    Column("caregiver_id", Integer, primary_key=True, autoincrement=False),
    Column("survey_id", Integer, nullable=False),
    Column("child_id", Integer, nullable=False),
    Column("occasion", String(40), nullable=False),
    Column("question_id", Integer, nullable=False),
    prefixes=["TEMPORARY"],
)


def reset_scratch_tables(connection: Connection) -> None:
    """Create the temporary planning tables on this connection if needed, empty."""
    # Temporary tables live as long as the pooled connection: made once, emptied every run
    # (creating and dropping them every few minutes would only churn the catalog).
    _scratch.create_all(connection, checkfirst=True)
    empty_scratch_tables(connection)


def empty_scratch_tables(connection: Connection) -> None:
    """Delete every row of the temporary planning tables."""
    for table in _scratch.sorted_tables:
        connection.execute(table.delete())
