"""Who a campaign reaches: audience filters turned into one SQL condition, shared by the size
shown in the admin, the campaign planner and the CSV export."""

from __future__ import annotations

import calendar
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, exists, func, select, true
from sqlalchemy.orm import Session

from content.library import LANGUAGES
from sms_service.core.models import Caregiver, CaregiverStatus, CaregiverTag, Child

AGE_UNITS = ("weeks", "months")
_TAG = re.compile(r"^[a-z0-9][a-z0-9 _-]{0,39}$")


class AudienceError(ValueError):
    """An audience filter that makes no sense, with the reason."""


@dataclass(frozen=True)
class Audience:
    """Campaign audience filters; every filter left empty matches everyone active."""

    languages: tuple[str, ...] = ()
    age_min: int | None = None  # in age_unit; negative = before the due date
    age_max: int | None = None
    age_unit: str = "weeks"
    enrolled_from: date | None = None
    enrolled_to: date | None = None  # inclusive
    keywords: tuple[str, ...] = ()
    tags: tuple[str, ...] = field(default=())
    # Partner ids: only families who joined with one of these partners (empty: every family).
    # A partner's own campaign always names just that partner (authoring.audience_of).
    partners: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if any(language not in LANGUAGES for language in self.languages):
            raise AudienceError(f"languages must be among {', '.join(LANGUAGES)}")
        if self.age_unit not in AGE_UNITS:
            raise AudienceError("the age unit must be weeks or months")
        if self.age_min is not None and self.age_max is not None and self.age_min > self.age_max:
            raise AudienceError("the youngest age is above the oldest age")
        limit = 40 if self.age_unit == "months" else 160
        for age in (self.age_min, self.age_max):
            if age is not None and not -limit <= age <= limit:
                raise AudienceError(f"ages must be between -{limit} and {limit} {self.age_unit}")
        if self.enrolled_from and self.enrolled_to and self.enrolled_from > self.enrolled_to:
            raise AudienceError("the enrollment range ends before it starts")
        if any(isinstance(p, bool) or not isinstance(p, int) or p < 1 for p in self.partners):
            raise AudienceError("partners are named by their ids")
        for tag in self.tags:
            if not _TAG.match(tag):
                raise AudienceError(f"{tag!r} is not a tag (lowercase letters, digits, - and _)")

    @property
    def target_languages(self) -> tuple[str, ...]:
        """The languages this audience can include (all of them when not filtered)."""
        return self.languages or LANGUAGES

    def to_json(self) -> dict[str, Any]:
        """The stored form (campaign.audience)."""
        data = asdict(self)
        data["languages"] = list(self.languages)
        data["keywords"] = list(self.keywords)
        data["tags"] = list(self.tags)
        data["partners"] = list(self.partners)
        for key in ("enrolled_from", "enrolled_to"):
            value = data[key]
            data[key] = value.isoformat() if value is not None else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Audience:
        """Read the stored form back (unknown keys are ignored)."""

        def day(value: Any) -> date | None:
            return date.fromisoformat(value) if value else None

        def number(value: Any) -> int | None:
            return int(value) if value is not None and value != "" else None

        return cls(
            languages=tuple(data.get("languages") or ()),
            age_min=number(data.get("age_min")),
            age_max=number(data.get("age_max")),
            age_unit=data.get("age_unit") or "weeks",
            enrolled_from=day(data.get("enrolled_from")),
            enrolled_to=day(data.get("enrolled_to")),
            keywords=tuple(keyword.upper() for keyword in data.get("keywords") or ()),
            tags=tuple(tag.lower() for tag in data.get("tags") or ()),
            partners=tuple(sorted({int(p) for p in data.get("partners") or ()})),
        )

    def describe(self, partner_names: dict[int, str] | None = None) -> str:
        """A one-line summary for people (partners by name where `partner_names` has them)."""
        parts = [f"languages {', '.join(self.target_languages)}"]
        if self.partners:
            names = partner_names or {}
            listed = ", ".join(names.get(p, f"partner {p}") for p in self.partners)
            parts.append(f"families of {listed}")
        if self.age_min is not None or self.age_max is not None:
            low = "" if self.age_min is None else str(self.age_min)
            high = "" if self.age_max is None else str(self.age_max)
            parts.append(f"child aged {low}..{high} {self.age_unit}")
        if self.enrolled_from or self.enrolled_to:
            parts.append(f"enrolled {self.enrolled_from or ''}..{self.enrolled_to or ''}")
        if self.keywords:
            parts.append(f"keyword {', '.join(self.keywords)}")
        if self.tags:
            parts.append(f"tagged {', '.join(self.tags)}")
        return "; ".join(parts)


def _months_before(day: date, months: int) -> date:
    total = day.year * 12 + (day.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _born_on_or_before(today: date, age: int, unit: str) -> date:
    """The latest birth date of a child who is at least `age` old today."""
    if unit == "weeks":
        return today - timedelta(weeks=age)
    return _months_before(today, age)


def audience_condition(audience: Audience, *, zone: ZoneInfo, now: datetime) -> ColumnElement[bool]:
    """The condition on Caregiver for this audience: active caregivers matching every filter.

    Dates are read in the program's zone; child ages are whole weeks or months on its today.
    """
    today = now.astimezone(zone).date()
    conditions: list[ColumnElement[bool]] = [Caregiver.status == CaregiverStatus.ACTIVE]
    if audience.languages:
        conditions.append(Caregiver.language.in_(audience.languages))
    if audience.partners:
        conditions.append(Caregiver.partner_id.in_(audience.partners))
    if audience.keywords:
        conditions.append(Caregiver.enrollment_keyword.in_(audience.keywords))
    if audience.enrolled_from is not None:
        conditions.append(Caregiver.enrolled_at >= _start_of(audience.enrolled_from, zone))
    if audience.enrolled_to is not None:
        conditions.append(
            Caregiver.enrolled_at < _start_of(audience.enrolled_to + timedelta(days=1), zone)
        )
    for tag in audience.tags:
        conditions.append(
            exists().where(CaregiverTag.caregiver_id == Caregiver.id, CaregiverTag.tag == tag)
        )
    if audience.age_min is not None or audience.age_max is not None:
        child_conditions: list[ColumnElement[bool]] = [
            Child.caregiver_id == Caregiver.id,
            Child.status == "active",
        ]
        if audience.age_min is not None:
            child_conditions.append(
                Child.birth_date <= _born_on_or_before(today, audience.age_min, audience.age_unit)
            )
        if audience.age_max is not None:
            # "up to 12 months" includes a child of 12 months and 3 weeks, not one of 13 months.
            child_conditions.append(
                Child.birth_date
                > _born_on_or_before(today, audience.age_max + 1, audience.age_unit)
            )
        conditions.append(exists().where(and_(*child_conditions)))
    return and_(true(), *conditions)


def _start_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def audience_select(audience: Audience, *, zone: ZoneInfo, now: datetime) -> Select[int]:
    """SELECT caregiver.id for the audience (for INSERT ... SELECT and exports)."""
    return select(Caregiver.id).where(audience_condition(audience, zone=zone, now=now))


def audience_size(
    session: Session, audience: Audience, *, zone: ZoneInfo, now: datetime
) -> dict[str, int]:
    """How many caregivers the audience reaches today, per language and in total (one query)."""
    rows = session.execute(
        select(Caregiver.language, func.count())
        .where(audience_condition(audience, zone=zone, now=now))
        .group_by(Caregiver.language)
    ).all()
    sizes = {language: 0 for language in audience.target_languages}
    for language, count in rows:
        sizes[language] = count
    sizes["total"] = sum(count for _, count in rows)
    return sizes
