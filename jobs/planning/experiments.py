"""Tip experiments in the planner: which running experiments still assign, and each family's
arm computed in the planning SQL itself (assignment.py's rule), never per family in Python.

PostgreSQL computes the sha256 bucket with its own sha256(); SQLite has none, so the planner
registers assignment.bucket_of as an SQL function on its connection: the same rule, called by
SQLite row by row inside the one INSERT ... SELECT, and only for rows of a tip in an
experiment (the CASE skips it for every other row). No assignment table is needed: the arm
depends on the experiment and the caregiver only, share_b cannot change while an experiment
runs, and every text of the experiment stores its arm, so a family's arm is the same at every
exposure and the stored arms are the record of who got what.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Connection, Text, case, cast, func, literal, or_, select
from sqlalchemy.dialects.postgresql import BIT
from sqlalchemy.sql.elements import ColumnElement

from sms_service.core.models import Experiment, OutboundMessage
from sms_service.experiments.assignment import BUCKETS, HEX_DIGITS, bucket_of

SQLITE_BUCKET = "sms_tips_experiment_bucket"


def assigning(connection: Connection, *, now: datetime) -> dict[str, dict[str, Any]]:
    """The running experiments that still assign families, by tip id: before their stop date
    and short of their target size (counted once per run: a run may pass the target by the
    families of its own batches, never by a later run)."""
    exposed = (
        select(func.count(func.distinct(OutboundMessage.caregiver_id)))
        .where(OutboundMessage.experiment_id == Experiment.id)
        .scalar_subquery()
    )
    rows = connection.execute(
        select(Experiment.id, Experiment.tip_id, Experiment.share_b, Experiment.wording_b).where(
            Experiment.status == "running",
            or_(Experiment.stop_at.is_(None), Experiment.stop_at > now),
            or_(Experiment.target_size.is_(None), exposed < Experiment.target_size),
        )
    ).all()
    return {
        row.tip_id: {"id": row.id, "share_b": row.share_b, "wording_b": row.wording_b}
        for row in rows
    }


def register_sqlite_bucket(connection: Connection) -> None:
    """Make assignment.bucket_of callable from this SQLite connection's SQL."""
    raw: Any = connection.connection.driver_connection

    def bucket(experiment_id: int, caregiver_id: int) -> int:
        return bucket_of(experiment_id=experiment_id, caregiver_id=caregiver_id)

    raw.create_function(SQLITE_BUCKET, 2, bucket, deterministic=True)


def bucket_sql(
    *, dialect: str, experiment_id: ColumnElement[Any], caregiver_id: ColumnElement[Any]
) -> ColumnElement[Any]:
    """SQL for assignment.bucket_of of these columns (ARM_SQL_POSTGRESQL's expression)."""
    if dialect == "sqlite":
        result: ColumnElement[Any] = getattr(func, SQLITE_BUCKET)(experiment_id, caregiver_id)
        return result
    key = (
        literal("sms-tips/experiment:")
        .concat(cast(experiment_id, Text))
        .concat("/caregiver:")
        .concat(cast(caregiver_id, Text))
    )
    digest = func.encode(func.sha256(func.convert_to(key, "UTF8")), "hex")
    leading = func.lpad(func.substr(digest, 1, HEX_DIGITS), 16, "0")
    return cast(cast(literal("x").concat(leading), BIT(64)), BigInteger)


def arm_sql(
    *,
    dialect: str,
    experiment_id: ColumnElement[Any],
    caregiver_id: ColumnElement[Any],
    share_b: ColumnElement[Any],
) -> ColumnElement[Any]:
    """SQL for the arm ("A" or "B") of the row's caregiver; NULL where there is no experiment."""
    bucket = bucket_sql(dialect=dialect, experiment_id=experiment_id, caregiver_id=caregiver_id)
    return case(
        (experiment_id.is_(None), None),
        (bucket < share_b * BUCKETS, "B"),
        else_="A",
    )
