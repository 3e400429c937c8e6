"""Rows for planning tests: a small tip library, caregivers and children."""

from __future__ import annotations

import hashlib
from datetime import date, datetime

from sqlalchemy.orm import Session

from sms_service.caregivers.partnership import default_partner_id
from sms_service.core.models import Caregiver, Child, Tip, utcnow

PRENATAL_WEEKS = range(-12, 0)
BABY_WEEKS = range(0, 156)


def make_tip(tip_id: str, language: str, weeks: tuple[int, int], text: str) -> Tip:
    """A library tip as a database row."""
    return Tip(
        id=tip_id,
        language=language,
        min_week=weeks[0],
        max_week=weeks[1],
        theme="connection",
        text=text,
        version=1,
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
    )


def tip_library() -> list[Tip]:
    """Two overlapping tips for every week from -12 to 155 in English, one in Spanish.

    Spanish texts contain "ó" (not GSM-7) so they go out as UCS-2, like the real library.
    """
    tips: list[Tip] = []
    for week in [*PRENATAL_WEEKS, *BABY_WEEKS]:
        stage = "bump" if week < 0 else "baby"
        tips.append(
            make_tip(
                f"en-w{week:+04d}-a",
                "en",
                (week, week + 1 if week not in (-1, 155) else week),  # no stage overlap
                f"Week {week} {stage} tip A: {{Child}} loves your voice. Hum to {{child}} today.",
            )
        )
        tips.append(
            make_tip(
                f"en-w{week:+04d}-b",
                "en",
                (week, week),
                f"Week {week} {stage} tip B: a calm minute with {{child}} counts.",
            )
        )
        tips.append(
            make_tip(
                f"es-w{week:+04d}",
                "es",
                (week, week),
                f"Semana {week}: {{Child}} escucha tu canción. Cántale a {{child}} hoy.",
            )
        )
    return tips


def add_caregiver(
    session: Session,
    *,
    phone: str,
    children: list[tuple[str | None, date]],
    timezone: str = "America/New_York",
    region: str | None = "NY",
    weekday: int = 0,
    hour: int = 18,
    language: str = "en",
    status: str = "active",
    expected: bool = False,
    paused_until: datetime | None = None,
    partner_id: int | None = None,
) -> Caregiver:
    """An enrolled caregiver with children given as (name, birth or due date)."""
    caregiver = Caregiver(
        phone=phone,
        language=language,
        timezone=timezone,
        region=region,
        send_weekday=weekday,
        send_hour=hour,
        status=status,
        paused_until=paused_until,
        partner_id=partner_id or default_partner_id(session, now=utcnow()),
        children=[
            Child(name=name, birth_date=born, is_expected=expected) for name, born in children
        ],
    )
    session.add(caregiver)
    session.flush()
    return caregiver
