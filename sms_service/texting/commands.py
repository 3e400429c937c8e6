"""The commands of an enrolled caregiver: PAUSE, RESUME, TIME, LANG, AGE and ADD."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from sms_service.caregivers import lifecycle
from sms_service.caregivers.lifecycle import LifecycleRefused, Status
from sms_service.core.models import Child
from sms_service.texting.answers import parse_language, parse_pause_weeks
from sms_service.texting.conversation import (
    AGE,
    BIRTH,
    LANG,
    LANGUAGE,
    SCHEDULE,
    TIME,
    Turn,
    add_child,
)
from sms_service.texting.keywords import Keyword, Kind


def command(turn: Turn, keyword: Keyword) -> str:
    """Carry out a command of an enrolled caregiver (PAUSE, RESUME, TIME, LANG, AGE, ADD)."""
    caregiver = turn.caregiver
    turn.go(None)  # a command ends any question under way
    if keyword.kind is Kind.PAUSE:
        until = turn.now + timedelta(weeks=parse_pause_weeks(keyword.argument))
        try:
            lifecycle.pause(turn.session, caregiver, until=until, now=turn.now)
        except LifecycleRefused as refused:
            return _on_hold(turn, refused)
        local_end = until.astimezone(ZoneInfo(caregiver.timezone)).date()
        return turn.texts.render("paused", date=turn.texts.date(local_end))
    if keyword.kind is Kind.RESUME:
        return resume(turn)
    if keyword.kind is Kind.TIME:
        turn.go(SCHEDULE, mode=TIME)
        return turn.texts.render("ask_schedule")
    if keyword.kind is Kind.LANGUAGE:
        language = parse_language(keyword.argument) if keyword.argument else None
        if language is not None:
            caregiver.language = language
            return turn.texts.render("language_updated")
        turn.go(LANGUAGE, mode=LANG)
        return turn.texts.render("choose_language")
    if keyword.kind is Kind.AGE:
        child = _latest_child(turn)
        if child is None:
            return add_child(turn)
        turn.go(BIRTH, mode=AGE, child_id=child.id, name=child.name)
        return turn.texts.render("ask_birth_update", child=child.name)
    return add_child(turn)


def resume(turn: Turn) -> str:
    """End a pause now."""
    try:
        lifecycle.resume(turn.session, turn.caregiver, now=turn.now)
    except LifecycleRefused as refused:
        return _on_hold(turn, refused)
    return turn.texts.render("resumed", when=turn.when())


def _on_hold(turn: Turn, refused: LifecycleRefused) -> str:
    """Why PAUSE or RESUME changes nothing: the tips have ended, or the number was unreachable."""
    return turn.texts.render("tips_ended" if refused.status is Status.COMPLETED else "tips_on_hold")


def _latest_child(turn: Turn) -> Child | None:
    return turn.session.scalar(
        select(Child)
        .where(Child.caregiver_id == turn.caregiver.id, Child.status == "active")
        .order_by(Child.created_at.desc(), Child.id.desc())
        .limit(1)
    )
