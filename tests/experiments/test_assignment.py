"""Which wording a family gets: the same arm every time (in a fresh process too), shares held
overall and within each language, never both wordings, and the SQL form equal to Python's."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections import Counter

import pytest
from sqlalchemy import Engine, literal, select, text

from jobs.planning.experiments import arm_sql, register_sqlite_bucket
from sms_service.experiments.assignment import ARM_SQL_POSTGRESQL, arm_for

FAMILIES = range(1, 10_001)
LANGUAGES = ("en", "es")


def _arms(experiment_id: int, share_b: float) -> dict[int, str]:
    return {
        caregiver_id: arm_for(
            experiment_id=experiment_id, caregiver_id=caregiver_id, share_b=share_b, language="en"
        )
        for caregiver_id in range(1, 201)
    }


def test_a_caregiver_gets_the_same_arm_every_time_and_in_a_fresh_process() -> None:
    here = {str(cid): arm for cid, arm in _arms(7, 0.5).items()}
    assert here == {str(cid): arm for cid, arm in _arms(7, 0.5).items()}
    script = (
        "import json; from sms_service.experiments.assignment import arm_for; print(json.dumps("
        "{c: arm_for(experiment_id=7, caregiver_id=c, share_b=0.5, language='en')"
        " for c in range(1, 201)}))"
    )
    for seed in ("1", "2"):  # a different string-hash salt each time: Python's hash() would show
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, check=True, text=True
        )
        assert json.loads(out.stdout) == here
    assert set(here.values()) == {"A", "B"}


@pytest.mark.parametrize("share_b", [0.5, 0.3])
@pytest.mark.parametrize("experiment_id", [1, 14])
def test_each_arm_holds_its_share_overall_and_within_each_language(
    share_b: float, experiment_id: int
) -> None:
    language_of = {cid: random.Random(cid).choice(LANGUAGES) for cid in FAMILIES}
    arms = {
        cid: arm_for(
            experiment_id=experiment_id,
            caregiver_id=cid,
            share_b=share_b,
            language=language_of[cid],
        )
        for cid in FAMILIES
    }
    groups = {"all": list(FAMILIES)} | {
        lang: [cid for cid in FAMILIES if language_of[cid] == lang] for lang in LANGUAGES
    }
    for name, members in groups.items():
        assert len(members) > 4_500, name  # both languages are about half the families
        share = Counter(arms[cid] for cid in members)["B"] / len(members)
        assert abs(share - share_b) <= 0.02, (name, share)


def test_a_family_never_gets_both_wordings() -> None:
    # The arm depends on the experiment and the caregiver only: not on the language the family
    # texts in today (LANG mid-experiment), nor on anything else the caller passes.
    for cid in range(1, 2_001):
        arms = {
            arm_for(experiment_id=3, caregiver_id=cid, share_b=0.5, language=lang)
            for lang in ("en", "es", "fr", "")
        }
        assert len(arms) == 1, cid
    # Experiments are independent: experiment 4 splits experiment 3's B families about in half.
    in_b = [
        c
        for c in range(1, 2_001)
        if arm_for(experiment_id=3, caregiver_id=c, share_b=0.5, language="en") == "B"
    ]
    again = Counter(
        arm_for(experiment_id=4, caregiver_id=c, share_b=0.5, language="en") for c in in_b
    )
    assert abs(again["B"] / len(in_b) - 0.5) < 0.05


def test_raising_the_share_only_moves_families_from_a_to_b() -> None:
    for cid in range(1, 2_001):
        if arm_for(experiment_id=5, caregiver_id=cid, share_b=0.3, language="en") == "B":
            assert arm_for(experiment_id=5, caregiver_id=cid, share_b=0.5, language="en") == "B"
    assert {arm_for(experiment_id=5, caregiver_id=9, share_b=s, language="en") for s in (0, 1)} == {
        "A",
        "B",
    }


@pytest.mark.parametrize("share_b", [1.5, -0.1])
def test_a_share_outside_0_to_1_is_refused(share_b: float) -> None:
    with pytest.raises(ValueError, match="share_b must be between 0 and 1"):
        arm_for(experiment_id=1, caregiver_id=1, share_b=share_b, language="en")


def test_the_sql_form_gives_every_caregiver_the_same_arm_as_python(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no sha256(): the planner's expression is tested below")
    query = text(
        f"SELECT caregiver.id, {ARM_SQL_POSTGRESQL} FROM generate_series(1, 5000) AS caregiver(id)"
    )
    for experiment_id, share_b in ((14, 0.5), (2, 0.3)):
        with engine.connect() as connection:
            rows = connection.execute(query, {"experiment_id": experiment_id, "share_b": share_b})
            in_sql = {cid: arm for cid, arm in rows}
        assert in_sql == {
            cid: arm_for(
                experiment_id=experiment_id, caregiver_id=cid, share_b=share_b, language="en"
            )
            for cid in range(1, 5001)
        }


def test_the_planners_expression_gives_the_same_arm_as_python_on_both_databases(
    engine: Engine,
) -> None:
    # The planner's own column expression (jobs/planning/experiments.py), over caregiver ids
    # 1..2000 counted by a recursive CTE: sha256 in PostgreSQL, the registered function in SQLite.
    first = select(literal(1).label("id")).cte("caregiver", recursive=True)
    ids = first.union_all(select(first.c.id + 1).where(first.c.id < 2000))
    for experiment_id, share_b in ((14, 0.5), (2, 0.3)):
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                register_sqlite_bucket(connection)
            arm = arm_sql(
                dialect=engine.dialect.name,
                experiment_id=literal(experiment_id),
                caregiver_id=ids.c.id,
                share_b=literal(share_b),
            )
            in_sql = {cid: a for cid, a in connection.execute(select(ids.c.id, arm))}
        assert in_sql == {
            cid: arm_for(
                experiment_id=experiment_id, caregiver_id=cid, share_b=share_b, language="en"
            )
            for cid in range(1, 2001)
        }
