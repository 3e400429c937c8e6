"""Demo data for a local database: families in both languages, replies, campaigns and delivery
history, so a new user sees a living admin. Fills only an empty database (never production)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import count
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from content.library import load_library
from content.segments import analyze
from content.urgent import is_urgent
from sms_service.campaigns.audience import Audience
from sms_service.campaigns.authoring import (
    MessageDraft,
    create_campaign,
    message_body,
    stored_send_at,
    submit_campaign,
)
from sms_service.caregivers.partnership import default_partner_id
from sms_service.core import outbox
from sms_service.core.audit import CLI_ACTOR, Actor
from sms_service.core.models import (
    Campaign,
    CampaignMessage,
    Caregiver,
    CaregiverTag,
    Child,
    ConsentEvent,
    InboundMessage,
    Invitation,
    OutboundMessage,
    StaffUser,
    Tip,
)
from sms_service.core.settings import Settings
from sms_service.partners.records import create_partner
from sms_service.partners.validation import PartnerFields
from sms_service.staff.accounts import create_staff_user
from sms_service.tips.sync import sync_library


class DemoRefused(Exception):
    """The database is not empty (or not local): demo data would mix with real families."""


@dataclass(frozen=True)
class Family:
    """One demo family: language, child (age in days; negative: due), status, tags, reply."""

    language: str
    child: str | None
    age_days: int
    status: str = "active"
    tags: tuple[str, ...] = ()
    reply: str | None = None
    failure: str | None = None  # the error code of the last tip


FAMILIES = (
    Family("en", "Maya", 12, tags=("clinic-east",), reply="She smiled when I sang to her!"),
    Family("es", "José", 45, tags=("clinic-east",), reply="¿El centro abre el 2 de enero?"),
    Family("es", "Sofía", -40, tags=("prenatal",)),
    Family("en", "Zoë", 95, reply="what do I do if he cries every time I change his diaper?"),
    Family("es", "Ángel", 130, reply="no puedo más, estoy muy cansada y sola"),
    Family("en", "Liam", 200, tags=("library",), failure="30003"),
    Family("es", "Ximena", 260, tags=("library",), reply="Gracias, nos encantó la canción"),
    Family("en", "Chloé", 330, reply="Is there a group for dads near me?"),
    Family("es", "Mateo", 400, failure="30005"),
    Family("en", "Renée", 470, tags=("clinic-east",)),
    Family("es", "Valentina", 540, reply="Mi hija ya dice mamá 😊"),
    Family("en", "Aiden", 610, failure="30006"),
    Family("es", "Begoña", 680, tags=("prenatal",), failure="30007"),
    Family("en", "Noah", 750, reply="I feel like I can't do this anymore"),
    Family("es", "Iñaki", 820),
    Family("en", None, 890, tags=("library",)),
    Family("es", "Lucía", 960, status="paused"),
    Family("en", "Ava", 1030, status="opted_out", failure="21610"),
    Family("es", "Martín", -100),
    Family("en", "Amélie", 60, status="undeliverable", failure="30005"),
    Family("es", "Joaquín", 20, status="enrolling"),
    Family("en", "Hana", 300, status="invited"),
    Family("es", "Dulce", 150, status="invited"),
)
CAMPAIGNS = (
    (
        "Library story time",
        "done",
        -10,
        "Story time at the Main Library is Saturday at 10 am. Bring your little one!",
        "La hora del cuento en la biblioteca es el sábado a las 10 am. ¡Trae a tu bebé!",
    ),
    (
        "Winter clinic hours",
        "scheduled",
        3,
        "The East clinic has new winter hours: Monday to Friday, 8 am to 6 pm.",
        "La clínica del Este tiene nuevo horario de invierno: lunes a viernes, de 8 am a 6 pm.",
    ),
    (
        "Dads group (draft)",
        "draft",
        14,
        "A new group for dads meets on Thursdays at 6 pm. Reply to ask about it.",
        "Un grupo nuevo para papás se reúne los jueves a las 6 pm. Responde para saber más.",
    ),
)


@dataclass(frozen=True)
class DemoReport:
    """What the demo wrote and how to sign in."""

    families: int
    texts: int
    replies: int
    campaigns: int
    accounts: dict[str, str]  # email -> password (shown once)


LOCAL_MESSAGE = {
    "en": "Our family playgroup meets Thursdays at 10 at the Eastside library. Come sing with us!",
    "es": "Nuestro grupo de juego familiar es los jueves a las 10 en la biblioteca de Eastside. "
    "¡Vengan a cantar con nosotros!",
}


def fill_demo(session: Session, *, settings: Settings, now: datetime) -> DemoReport:
    """Write the demo families and their history; refused unless the database is empty."""
    if settings.is_production:
        raise DemoRefused("demo data is refused when SMS_TIPS_ENV=production")
    for model in (Caregiver, Campaign, StaffUser):
        if session.scalar(select(func.count()).select_from(model)):
            raise DemoRefused(
                "the database is not empty: demo data fills only a new database "
                "(point DATABASE_URL at a new file, e.g. sqlite:///demo.db)"
            )
    sync_library(session, load_library(), now=now)
    partner = create_partner(
        session,
        fields=PartnerFields(
            slug="eastside",
            name="Eastside Family Center",
            help_contact="call 212-555-0100",
            local_resources="Playgroup Thursdays at 10, Eastside library.",
        ),
        keywords={"EAST": "en", "ESTE": "es"},
        settings=settings,
        actor=CLI_ACTOR,
        now=now,
    )
    # (role, partner): the network's admin and staff, and the Eastside partner's admin.
    roles = {
        "demo-admin@example.org": ("admin", None),
        "demo-staff@example.org": ("staff", None),
        "demo-eastside@example.org": ("admin", partner.id),
    }
    accounts = {email: secrets.token_urlsafe(12) for email in roles}
    staff_ids = [
        create_staff_user(
            session,
            email=email,
            password=password,
            role=roles[email][0],
            partner_id=roles[email][1],
        ).id
        for email, password in accounts.items()
    ]
    program = default_partner_id(session, now=now)
    sids = count(1)
    texts = replies = 0
    today = now.astimezone(settings.zone).date()
    for index, family in enumerate(FAMILIES):
        # Every third family joined through Eastside, the others through the program itself.
        partner_id = partner.id if index % 3 == 2 else program
        caregiver = _caregiver(
            session, index, family, settings=settings, now=now, today=today, partner_id=partner_id
        )
        if family.status in ("invited", "enrolling"):
            continue
        texts += _history(session, caregiver, family, now=now, sids=sids)
        if family.reply is not None:
            replies += 1
            _reply(session, caregiver, family, now=now, sid=next(sids), staff_ids=staff_ids)
    for name, status, days, english, spanish in CAMPAIGNS:
        texts += _campaign(
            session, name, status, days, {"en": english, "es": spanish}, now=now, settings=settings
        )
    _local_message(session, partner.id, staff_ids[2], now=now, settings=settings)
    CLI_ACTOR.audit(session, "demo.fill", None, families=len(FAMILIES))
    return DemoReport(len(FAMILIES), texts, replies, len(CAMPAIGNS) + 1, accounts)


def _local_message(
    session: Session, partner_id: int, author_id: int, *, now: datetime, settings: Settings
) -> None:
    """Eastside's local message, submitted and waiting for a network admin's approval."""
    author = Actor(
        name="demo-eastside@example.org",
        staff_user_id=author_id,
        role="admin",
        partner_id=partner_id,
    )
    wall = datetime.combine((now + timedelta(days=5)).astimezone(settings.zone).date(), time(10))
    campaign = create_campaign(
        session,
        name="Eastside playgroup",
        audience=Audience(),
        local_time=False,
        messages=[MessageDraft(send_at=wall, texts=dict(LOCAL_MESSAGE))],
        actor=author,
        settings=settings,
    )
    submit_campaign(session, campaign, actor=author, settings=settings, now=now)


def _caregiver(
    session: Session,
    index: int,
    family: Family,
    *,
    settings: Settings,
    now: datetime,
    today: date,
    partner_id: int,
) -> Caregiver:
    enrolled = now - timedelta(days=min(abs(family.age_days), 120) // 2 + 7)
    joined = family.status not in ("invited", "enrolling")
    caregiver = Caregiver(
        phone=f"+1212555{index + 100:04d}",
        language=family.language,
        timezone=settings.timezone,
        region="NY",
        partner_id=partner_id,
        send_weekday=index % 3 * 2 if joined else None,
        send_hour=(10, 18)[index % 2] if joined else None,
        status=family.status,
        enrollment_keyword=("HOLA" if family.language == "es" else "JOIN") if joined else None,
        enrolled_at=enrolled if joined else None,
        opted_out_at=now - timedelta(days=3) if family.status == "opted_out" else None,
        paused_until=now + timedelta(days=10) if family.status == "paused" else None,
        conversation_step="birth_date" if family.status == "enrolling" else None,
        conversation_data={"mode": "enroll", "name": family.child}
        if family.status == "enrolling"
        else {},
        created_at=enrolled,
        updated_at=now,
    )
    caregiver.tags = [CaregiverTag(tag=tag) for tag in family.tags]
    session.add(caregiver)
    session.flush()
    birth = today - timedelta(days=family.age_days)
    if family.status == "invited":
        session.add(
            Invitation(
                caregiver_id=caregiver.id,
                child_name=family.child,
                birth_date=birth,
                line=index + 2,
                created_at=now - timedelta(days=1),
            )
        )
    elif joined:
        session.add(
            Child(
                caregiver_id=caregiver.id,
                name=family.child,
                birth_date=birth,
                is_expected=family.age_days < 0,
                created_at=enrolled,
            )
        )
        session.add(
            ConsentEvent(
                caregiver_id=caregiver.id,
                kind="opt_in",
                source="enrollment",
                keyword=caregiver.enrollment_keyword,
                text="You're signed up! (demo)",
                created_at=enrolled,
            )
        )
    return caregiver


def _history(
    session: Session, caregiver: Caregiver, family: Family, *, now: datetime, sids: count[int]
) -> int:
    """Up to four weekly tips, the last one failed when the family has a failure code."""
    weeks = max(family.age_days, 0) // 7
    tips = list(
        session.scalars(
            select(Tip)
            .where(Tip.language == family.language, Tip.max_week >= min(weeks, 150) - 4)
            .order_by(Tip.min_week, Tip.id)
            .limit(4)
        )
    )
    child = session.scalar(select(Child.id).where(Child.caregiver_id == caregiver.id))
    for number, tip in enumerate(tips):
        sent = now - timedelta(weeks=len(tips) - number, hours=2)
        last = number == len(tips) - 1
        code = family.failure if last else None
        state = (
            "failed"
            if code in ("30005", "30006", "21610")
            else "undelivered"
            if code
            else "delivered"
        )
        session.add(
            OutboundMessage(
                dedupe_key=outbox.tip_key(
                    caregiver_id=caregiver.id,
                    child_id=child or 0,
                    week=outbox.week_label(day=sent.date()),
                ),
                kind="tip",
                caregiver_id=caregiver.id,
                child_id=child,
                tip_id=tip.id,
                tip_version=tip.version,
                to_number=caregiver.phone,
                body=tip.text,
                segments=analyze(tip.text).segments,
                state=state,
                due_at=sent,
                cap_week=outbox.week_label(day=sent.date()),
                attempts=1,
                provider_sid=f"SMdemo{next(sids):026d}",
                error_code=code,
                sent_at=sent,
                delivered_at=sent + timedelta(seconds=4) if state == "delivered" else None,
                created_at=sent,
                updated_at=sent,
            )
        )
    return len(tips)


def _reply(
    session: Session,
    caregiver: Caregiver,
    family: Family,
    *,
    now: datetime,
    sid: int,
    staff_ids: list[int],
) -> None:
    assert family.reply is not None
    state = ("unread", "needs_reply", "done")[sid % 3]
    session.add(
        InboundMessage(
            message_sid=f"SMdemoin{sid:024d}",
            caregiver_id=caregiver.id,
            from_number=caregiver.phone,
            to_number="+15005550006",
            body=family.reply,
            handled_as="reply",
            received_at=now - timedelta(hours=sid % 40 + 1),
            inbox_state="unread" if is_urgent(family.reply) else state,
            urgent=is_urgent(family.reply),
            assigned_to_id=staff_ids[sid % 2] if state == "needs_reply" else None,
        )
    )


def _campaign(
    session: Session,
    name: str,
    status: str,
    days: int,
    texts: dict[str, str],
    *,
    now: datetime,
    settings: Settings,
) -> int:
    wall = datetime.combine((now + timedelta(days=days)).date(), time(10))
    send_at = stored_send_at(wall, local_time=False, zone=settings.zone)
    campaign = Campaign(
        name=name,
        status=status,
        audience={"languages": ["en", "es"]},
        created_at=now - timedelta(days=20),
        updated_at=now,
    )
    message = CampaignMessage(
        position=0,
        send_at=send_at,
        texts=texts,
        planned_at=send_at if status == "done" else None,
    )
    campaign.messages.append(message)
    session.add(campaign)
    session.flush()
    if status != "done":
        return 0
    rows: list[dict[str, Any]] = []
    for caregiver in session.scalars(select(Caregiver).where(Caregiver.status == "active")):
        body = message_body(
            texts[caregiver.language], language=caregiver.language, settings=settings
        )
        rows.append(
            {
                "dedupe_key": outbox.campaign_key(
                    campaign_message_id=message.id, caregiver_id=caregiver.id
                ),
                "kind": "campaign",
                "caregiver_id": caregiver.id,
                "campaign_id": campaign.id,
                "to_number": caregiver.phone,
                "body": body,
                "segments": analyze(body).segments,
                "state": "delivered",
                "due_at": send_at,
                "attempts": 1,
                "sent_at": send_at,
                "delivered_at": send_at + timedelta(seconds=5),
                "created_at": send_at,
                "updated_at": send_at,
            }
        )
    for row in rows:
        session.add(OutboundMessage(**row))
    return len(rows)
