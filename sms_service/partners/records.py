"""Create, change, find and list partners; every change is audited."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sms_service.core.audit import Actor
from sms_service.core.models import Caregiver, CaregiverStatus, Partner
from sms_service.core.scope import Scope
from sms_service.core.settings import Settings
from sms_service.partners import validation as check
from sms_service.partners.errors import PartnerError, PartnerNotFound
from sms_service.partners.keywords import change_keywords
from sms_service.partners.validation import PartnerFields


@dataclass(frozen=True)
class PartnerSummary:
    """A partner with how many families it has, for lists."""

    partner: Partner
    families: int
    active: int


def _cleaned(fields: PartnerFields) -> tuple[PartnerFields, list[str]]:
    """The fields as they would be stored, and the problems of those that cannot be."""
    problems: list[str] = []
    name = check.one_line(fields.name) if fields.name is not None else None
    slug = fields.slug.strip().lower() if fields.slug is not None else None
    contact = check.one_line(fields.help_contact) if fields.help_contact is not None else None
    zone = fields.timezone.strip() if fields.timezone is not None else None
    resources = fields.local_resources.strip() if fields.local_resources is not None else None
    sender = fields.sender
    if sender:
        normal = check.normal_sender(sender)
        if isinstance(normal, tuple):
            problems.append(normal[1])
        else:
            sender = normal
    problems += [
        problem
        for problem in (
            check.name_problem(name) if name is not None else None,
            check.slug_problem(slug) if slug is not None else None,
            check.contact_problem(contact) if contact else None,
            check.timezone_problem(zone) if zone else None,
            check.resources_problem(resources) if resources is not None else None,
        )
        if problem is not None
    ]
    cleaned = PartnerFields(name, slug, sender, contact, zone, resources)
    return cleaned, problems


def _unique_problems(session: Session, fields: PartnerFields, partner_id: int | None) -> list[str]:
    problems = []
    others = select(Partner).where(Partner.id != (partner_id or 0))
    if fields.slug and session.scalar(others.where(Partner.slug == fields.slug)) is not None:
        problems.append(f"another partner already has the slug {fields.slug!r}")
    if (
        fields.sender
        and (other := session.scalar(others.where(Partner.sender == fields.sender))) is not None
    ):
        problems.append(f"{fields.sender} is already the sender of {other.name}")
    return problems


def _apply(partner: Partner, fields: PartnerFields, now: datetime) -> dict[str, str | None]:
    """Set the given fields; returns what changed (for the audit entry)."""
    changed: dict[str, str | None] = {}
    for name in ("name", "slug", "sender", "help_contact", "timezone", "local_resources"):
        value = getattr(fields, name)
        if value is None:
            continue
        stored = value or (None if name in ("sender", "help_contact", "timezone") else "")
        if getattr(partner, name) != stored:
            setattr(partner, name, stored)
            changed[name] = stored if name != "local_resources" else f"{len(value)} characters"
    partner.updated_at = now
    return changed


def create_partner(
    session: Session,
    *,
    fields: PartnerFields,
    keywords: Mapping[str, str],
    settings: Settings,
    actor: Actor,
    now: datetime,
) -> Partner:
    """A new partner with its keywords (word -> language); PartnerError lists every problem."""
    cleaned, problems = _cleaned(replace(fields, name=fields.name or ""))
    if cleaned.slug is None:
        problems.append("a partner needs a slug")
    problems += _unique_problems(session, cleaned, None)
    if problems:
        raise PartnerError(problems)
    partner = Partner(slug=cleaned.slug, name=cleaned.name, created_at=now, updated_at=now)
    _apply(partner, cleaned, now)
    session.add(partner)
    session.flush()
    actor.audit(session, "partner.create", partner, slug=partner.slug, name=partner.name)
    if keywords:
        change_keywords(
            session, partner=partner, add=keywords, remove=[], settings=settings, actor=actor
        )
    return partner


def update_partner(
    session: Session, *, partner: Partner, fields: PartnerFields, actor: Actor, now: datetime
) -> dict[str, str | None]:
    """Change the given fields of `partner`; returns what changed (PartnerError if refused)."""
    cleaned, problems = _cleaned(fields)
    problems += _unique_problems(session, cleaned, partner.id)
    if problems:
        raise PartnerError(problems)
    changed = _apply(partner, cleaned, now)
    if changed:
        actor.audit(session, "partner.update", partner, **changed)
    return changed


def find_partner(session: Session, slug: str) -> Partner | None:
    """The partner with this slug, if any."""
    return session.scalar(select(Partner).where(Partner.slug == slug.strip().lower()))


def require_partner(session: Session, slug: str) -> Partner:
    """The partner with this slug; PartnerError naming it when there is none."""
    partner = find_partner(session, slug)
    if partner is None:
        raise PartnerError([f"no partner has the slug {slug!r}"])
    return partner


def visible_partner(session: Session, key: str, *, scope: Scope) -> Partner:
    """The partner a path names by slug, or by id (slugs are never digits alone), if `scope`
    sees it; PartnerNotFound otherwise, for a missing partner and another's alike."""
    partner = session.get(Partner, int(key)) if key.isdigit() else find_partner(session, key)
    if partner is None or not scope.sees_partner(partner.id):
        raise PartnerNotFound(f"there is no partner {key!r}")
    return partner


def list_partners(session: Session, *, scope: Scope) -> list[PartnerSummary]:
    """The partners `scope` sees, by name, with their families and active families (one
    query)."""
    active = func.count(Caregiver.id).filter(Caregiver.status == CaregiverStatus.ACTIVE)
    rows = session.execute(
        select(Partner, func.count(Caregiver.id), active)
        .outerjoin(Caregiver, Caregiver.partner_id == Partner.id)
        .where(scope.partners())
        .group_by(Partner.id)
        .order_by(Partner.name, Partner.id)
    ).all()
    return [PartnerSummary(partner, families, active) for partner, families, active in rows]


def partner_names(session: Session, *, scope: Scope) -> dict[int, str]:
    """The names of the partners `scope` sees, by id (for forms and audience summaries)."""
    rows = session.execute(
        select(Partner.id, Partner.name).where(scope.partners()).order_by(Partner.name)
    )
    return {partner_id: name for partner_id, name in rows}
