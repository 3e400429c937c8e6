"""Which wording (arm "A" or "B") of an experiment a family gets: a stable hash, no state.

The rule: sha256 of the text "sms-tips/experiment:<experiment id>/caregiver:<caregiver id>";
its first 8 hex digits read as a number from 0 to 2**32 - 1 are the family's bucket, and the
family is in B when bucket < share_b * 2**32. So:

- the arm is the same in every run, process and machine (never Python's salted `hash()`), and
  depends on the experiment and the caregiver only. In particular the language does not enter
  the hash: a family that texts LANG mid-experiment keeps its arm, so it never gets both
  wordings (salting by language would move about half of such families to the other arm).
- balance within language: the bucket is uniform and independent of every caregiver attribute,
  so within each language (or partner, or age band) the B share is binomial around share_b,
  not balanced exactly; 5,000 families per language land within 2 points of it
  (tests/experiments/test_assignment.py). Exact per-language quotas would need a counter per
  language, that is state, and a family's arm would then depend on who enrolled before it.
- raising share_b mid-experiment only moves families from A to B, never back.

sha256 rather than blake2b because PostgreSQL has sha256() built in (11+), so the planner can
compute the same rule in SQL; see `ARM_SQL_POSTGRESQL` and the plan for SQLite there.
"""

from __future__ import annotations

import hashlib
from typing import Literal

Arm = Literal["A", "B"]
BUCKETS = 2**32
HEX_DIGITS = 8  # 32 bits of the digest: shares to about one in four billion


def assignment_key(*, experiment_id: int, caregiver_id: int) -> str:
    """The fixed text whose hash decides the arm (the SQL form builds the same text)."""
    return f"sms-tips/experiment:{experiment_id}/caregiver:{caregiver_id}"


def bucket_of(*, experiment_id: int, caregiver_id: int) -> int:
    """The family's bucket in this experiment, 0 to BUCKETS - 1, uniform over families."""
    key = assignment_key(experiment_id=experiment_id, caregiver_id=caregiver_id)
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:HEX_DIGITS], 16)


def arm_for(*, experiment_id: int, caregiver_id: int, share_b: float, language: str) -> Arm:
    """The arm of this caregiver in this experiment: "B" for a share_b part of families.

    `language` is the stratum the caller reports on; it deliberately does not change the arm
    (see the module docstring): balance within it comes from the hash being uniform.
    """
    if not 0.0 <= share_b <= 1.0:
        raise ValueError(f"share_b must be between 0 and 1, not {share_b!r}")
    bucket = bucket_of(experiment_id=experiment_id, caregiver_id=caregiver_id)
    return "B" if bucket < share_b * BUCKETS else "A"


# The same rule in PostgreSQL. The bound parameters are :experiment_id and :share_b;
# `caregiver.id` is the planner's caregiver row. tests/experiments/test_assignment.py proves it
# equal to `arm_for` on PostgreSQL; the planner builds the same expression from its columns
# (jobs/planning/experiments.py), one experiment per tip row.
#
# SQLite has no sha256(). A first plan was an experiment_assignment table filled per batch from
# Python; the planner instead registers `bucket_of` as an SQL function on its SQLite connection
# (jobs/planning/experiments.py), so the arm is still chosen inside the one INSERT ... SELECT
# and needs no table: share_b cannot change while an experiment runs, and the arm stored on
# every text of the experiment records who got what.
ARM_SQL_POSTGRESQL = (
    "CASE WHEN ('x' || lpad(substr(encode(sha256(convert_to("
    "'sms-tips/experiment:' || CAST(:experiment_id AS text) || '/caregiver:' || "
    "CAST(caregiver.id AS text), 'UTF8')), 'hex'), 1, 8), 16, '0'))::bit(64)::bigint "
    f"< :share_b * {BUCKETS} THEN 'B' ELSE 'A' END"
)
