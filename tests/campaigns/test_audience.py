from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from sms_service.campaigns.audience import Audience, AudienceError, audience_select, audience_size
from sms_service.core.db import transaction
from sms_service.core.settings import Settings
from tests.helpers.people import add_caregiver

NOW = datetime(2026, 11, 26, 17, 0, tzinfo=UTC)  # noon in New York
TODAY = date(2026, 11, 26)


def _population(sessions: sessionmaker[Session]) -> dict[str, int]:
    ids: dict[str, int] = {}
    with transaction(sessions) as s:
        ids["en_newborn"] = add_caregiver(s, child_age_days=10, today=TODAY).id
        ids["en_6_months"] = add_caregiver(
            s, child_age_days=190, today=TODAY, tags=("library",), keyword="JOIN-LIBRARY"
        ).id
        ids["es_toddler"] = add_caregiver(s, language="es", child_age_days=400, today=TODAY).id
        ids["es_expected"] = add_caregiver(s, language="es", child_age_days=-30, today=TODAY).id
        ids["opted_out"] = add_caregiver(s, status="opted_out", today=TODAY).id
        ids["paused"] = add_caregiver(s, status="paused", today=TODAY).id
        ids["old_enrollment"] = add_caregiver(
            s, enrolled_at=datetime(2025, 1, 10, 15, tzinfo=UTC), today=TODAY, child_age_days=300
        ).id
    return ids


def _matching(sessions: sessionmaker[Session], audience: Audience, settings: Settings) -> set[int]:
    with sessions() as s:
        return set(s.scalars(audience_select(audience, zone=settings.zone, now=NOW)))


def test_filters_select_the_right_caregivers(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    ids = _population(sessions)
    active = {
        ids[k] for k in ("en_newborn", "en_6_months", "es_toddler", "es_expected", "old_enrollment")
    }
    assert _matching(sessions, Audience(), settings) == active
    assert _matching(sessions, Audience(languages=("es",)), settings) == {
        ids["es_toddler"],
        ids["es_expected"],
    }
    # Age in months: 190 days is 6 months; 400 days is 13 months.
    six_to_twelve = Audience(age_min=6, age_max=12, age_unit="months")
    assert _matching(sessions, six_to_twelve, settings) == {
        ids["en_6_months"],
        ids["old_enrollment"],
    }
    # Age in weeks, including before the due date (negative weeks).
    prenatal = Audience(age_min=-10, age_max=-1, age_unit="weeks")
    assert _matching(sessions, prenatal, settings) == {ids["es_expected"]}
    assert _matching(sessions, Audience(age_min=0, age_max=1), settings) == {ids["en_newborn"]}
    assert _matching(sessions, Audience(keywords=("JOIN-LIBRARY",)), settings) == {
        ids["en_6_months"]
    }
    assert _matching(sessions, Audience(tags=("library",)), settings) == {ids["en_6_months"]}
    enrolled_2025 = Audience(enrolled_from=date(2025, 1, 1), enrolled_to=date(2025, 12, 31))
    assert _matching(sessions, enrolled_2025, settings) == {ids["old_enrollment"]}


def test_size_counts_per_language_in_one_query(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    _population(sessions)
    with sessions() as s:
        assert audience_size(s, Audience(), zone=settings.zone, now=NOW) == {
            "en": 3,
            "es": 2,
            "total": 5,
        }
        assert audience_size(
            s, Audience(languages=("es",), age_min=0), zone=settings.zone, now=NOW
        ) == {"es": 1, "total": 1}


def test_stored_form_round_trips() -> None:
    audience = Audience(
        languages=("en", "es"),
        age_min=2,
        age_max=8,
        age_unit="months",
        enrolled_from=date(2026, 1, 1),
        keywords=("JOIN",),
        tags=("clinic-a",),
    )
    assert Audience.from_json(audience.to_json()) == audience


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"languages": ("fr",)}, "languages"),
        ({"age_min": 10, "age_max": 2}, "youngest"),
        ({"age_unit": "years"}, "unit"),
        ({"enrolled_from": date(2026, 2, 1), "enrolled_to": date(2026, 1, 1)}, "ends before"),
        ({"tags": ("<b>",)}, "not a tag"),
    ],
)
def test_nonsense_filters_are_refused(kwargs: dict[str, object], problem: str) -> None:
    with pytest.raises(AudienceError, match=problem):
        Audience(**kwargs)  # type: ignore[arg-type]


def test_unfiltered_audience_excludes_everyone_not_active(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    ids = _population(sessions)
    found = _matching(sessions, Audience(), settings)
    assert ids["opted_out"] not in found and ids["paused"] not in found
