"""The database schema as SQLAlchemy 2.0 typed models; Alembic migrations create it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names let migrations alter constraints on SQLite (batch mode) and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class CaregiverStatus(StrEnum):
    """Where a caregiver is in their life with the program; caregivers.lifecycle moves them."""

    INVITED = "invited"  # staff sent one invitation; nothing more until they text to join
    ENROLLING = "enrolling"  # texted us; the conversation is under way (or not begun)
    ACTIVE = "active"  # gets tips
    PAUSED = "paused"  # asked for a break until paused_until
    OPTED_OUT = "opted_out"  # STOP (or the carrier, or staff on request): never texted again
    COMPLETED = "completed"  # every child aged out; the goodbye was the last text
    UNDELIVERABLE = "undeliverable"  # the carrier says the number cannot get texts


CAREGIVER_STATUSES: tuple[str, ...] = tuple(status.value for status in CaregiverStatus)
CHILD_STATUSES = ("active", "completed", "removed")
CONSENT_KINDS = ("opt_in", "opt_out", "help")
CONSENT_SOURCES = ("keyword", "twilio_opt_out_type", "carrier", "staff", "enrollment")
# "reply" answers a parent's text at once (TwiML); "staff" is a staff member's answer from the
# inbox, sent by the dispatcher like any other text.
# "survey" asks a question of a survey (sms_service/surveys/); it counts against the weekly cap.
OUTBOUND_KINDS = ("tip", "campaign", "system", "reply", "staff", "survey")
OUTBOUND_STATES = (
    "pending",  # planned; the dispatcher may claim it once due_at has come
    "sending",  # claimed by a dispatcher holding a lease until lease_expires_at
    "sent",  # accepted by the provider (has a SID) or returned as a TwiML reply
    "delivered",
    "undelivered",
    "failed",
    "cancelled",  # will never be sent (opted out, paused, campaign cancelled)
)
# Where a parent's own text (not a command, not an enrollment answer) is in the staff inbox.
INBOX_STATES = ("unread", "needs_reply", "done")
# "review": a partner's local message waiting for a network admin's approval.
CAMPAIGN_STATUSES = ("draft", "review", "scheduled", "sending", "paused", "done", "cancelled")
CAMPAIGN_KINDS = ("one_off", "series")
STAFF_ROLES = ("admin", "staff")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


def utcnow() -> datetime:
    """The current time as a timezone-aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: attach a time zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        date: Date(),
    }


class Caregiver(Base):
    """A parent or caregiver who texts the program; one row per phone number."""

    __tablename__ = "caregiver"
    __table_args__ = (
        CheckConstraint(_one_of("status", CAREGIVER_STATUSES), name="status"),
        CheckConstraint("send_weekday BETWEEN 0 AND 6", name="send_weekday"),
        CheckConstraint("send_hour BETWEEN 0 AND 23", name="send_hour"),
        Index("ix_caregiver_status_weekday_hour", "status", "send_weekday", "send_hour"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    language: Mapped[str] = mapped_column(String(5), default="en")
    timezone: Mapped[str] = mapped_column(String(64))
    region: Mapped[str | None] = mapped_column(String(8))  # US state from the area code
    send_weekday: Mapped[int | None] = mapped_column(SmallInteger)  # Monday = 0
    send_hour: Mapped[int | None] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(20), default=CaregiverStatus.ENROLLING)
    conversation_step: Mapped[str | None] = mapped_column(String(40))
    conversation_data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    enrollment_keyword: Mapped[str | None] = mapped_column(String(40), index=True)
    # The organisation the family joined through (the default partner is the program itself).
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"), index=True)
    paused_until: Mapped[datetime | None]
    enrolled_at: Mapped[datetime | None] = mapped_column(index=True)  # first tips look here
    opted_out_at: Mapped[datetime | None]
    last_ack_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    children: Mapped[list[Child]] = relationship(
        back_populates="caregiver", cascade="all, delete-orphan", passive_deletes=True
    )
    tags: Mapped[list[CaregiverTag]] = relationship(
        back_populates="caregiver", cascade="all, delete-orphan", passive_deletes=True
    )
    partner: Mapped[Partner] = relationship()

    def __repr__(self) -> str:
        return f"Caregiver(id={self.id!r}, status={self.status!r}, language={self.language!r})"


class Partner(Base):
    """A community organisation the program is delivered with; its families, keywords, sender."""

    __tablename__ = "partner"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(30))  # named in texts: content.catalogs' longest
    # Its own Twilio number (E.164) or Messaging Service SID (MG...): texts to it attribute to
    # the partner, and its families' texts go out from it. None: the program's own sender.
    sender: Mapped[str | None] = mapped_column(String(40), unique=True)
    help_contact: Mapped[str | None] = mapped_column(String(40))
    timezone: Mapped[str | None] = mapped_column(String(64))
    local_resources: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    keywords: Mapped[list[PartnerKeyword]] = relationship(
        back_populates="partner",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="PartnerKeyword.word",
    )

    def __repr__(self) -> str:
        return f"Partner(id={self.id!r}, slug={self.slug!r})"


class PartnerKeyword(Base):
    """An enrollment keyword of a partner: unique across the network, whatever its language."""

    __tablename__ = "partner_keyword"

    word: Mapped[str] = mapped_column(String(12), primary_key=True)  # folded, upper case
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("partner.id", ondelete="CASCADE"), index=True
    )
    language: Mapped[str] = mapped_column(String(5))  # the language a family joining gets

    partner: Mapped[Partner] = relationship(back_populates="keywords")

    def __repr__(self) -> str:
        return f"PartnerKeyword(word={self.word!r}, partner_id={self.partner_id!r})"


class CaregiverTag(Base):
    """A label staff put on a caregiver, used to target campaigns."""

    __tablename__ = "caregiver_tag"

    caregiver_id: Mapped[int] = mapped_column(
        ForeignKey("caregiver.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(40), primary_key=True)

    caregiver: Mapped[Caregiver] = relationship(back_populates="tags")

    def __repr__(self) -> str:
        return f"CaregiverTag(caregiver_id={self.caregiver_id!r}, tag={self.tag!r})"


class Child(Base):
    """A baby or toddler whose age picks the tips; birth_date is the due date while expected."""

    __tablename__ = "child"
    __table_args__ = (
        CheckConstraint(_one_of("status", CHILD_STATUSES), name="status"),
        # The hourly aging scan looks for active children born before a date: without this it
        # reads every child to find the handful who turned 36 months.
        Index("ix_child_status_birth_date", "status", "birth_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    caregiver_id: Mapped[int] = mapped_column(
        ForeignKey("caregiver.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(String(40))
    birth_date: Mapped[date]
    is_expected: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]

    caregiver: Mapped[Caregiver] = relationship(back_populates="children")

    def __repr__(self) -> str:
        return f"Child(id={self.id!r}, birth_date={self.birth_date!r}, status={self.status!r})"


class Invitation(Base):
    """The one invitation text staff sent a number from a CSV import (it is not consent)."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    caregiver_id: Mapped[int] = mapped_column(
        ForeignKey("caregiver.id", ondelete="CASCADE"), unique=True
    )
    child_name: Mapped[str | None] = mapped_column(String(40))  # from the CSV, unconfirmed
    birth_date: Mapped[date | None]
    line: Mapped[int]  # its line in the file it came from
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    accepted_at: Mapped[datetime | None]  # when the parent texted to join

    def __repr__(self) -> str:
        return f"Invitation(id={self.id!r}, caregiver_id={self.caregiver_id!r})"


class ConsentEvent(Base):
    """One opt-in, opt-out or help request, with the words and source that made it."""

    __tablename__ = "consent_event"
    __table_args__ = (
        CheckConstraint(_one_of("kind", CONSENT_KINDS), name="kind"),
        CheckConstraint(_one_of("source", CONSENT_SOURCES), name="source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    caregiver_id: Mapped[int] = mapped_column(
        ForeignKey("caregiver.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(30))
    keyword: Mapped[str | None] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text, default="")  # what the caregiver wrote or was sent
    inbound_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_message.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Through these the event may be added before its rows are written: the session writes
    # them first (the text's row at the end of its handling, with how it was handled).
    caregiver: Mapped[Caregiver] = relationship()
    inbound: Mapped[InboundMessage | None] = relationship()

    def __repr__(self) -> str:
        return f"ConsentEvent(id={self.id!r}, kind={self.kind!r}, source={self.source!r})"


class InboundMessage(Base):
    """Every text received from Twilio, kept whole; MessageSid makes webhooks idempotent."""

    __tablename__ = "inbound_message"
    __table_args__ = (
        CheckConstraint(_one_of("inbox_state", INBOX_STATES), name="inbox_state"),
        Index("ix_inbound_message_inbox", "inbox_state", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_sid: Mapped[str] = mapped_column(String(64), unique=True)
    caregiver_id: Mapped[int | None] = mapped_column(
        ForeignKey("caregiver.id", ondelete="CASCADE"), index=True
    )
    from_number: Mapped[str] = mapped_column(String(64))
    to_number: Mapped[str] = mapped_column(String(64), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    num_media: Mapped[int] = mapped_column(Integer, default=0)
    opt_out_type: Mapped[str | None] = mapped_column(String(20))
    handled_as: Mapped[str | None] = mapped_column(String(40))  # keyword, answer, reply, ...
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # In the staff inbox (None: a command or an answer the service handled by itself).
    inbox_state: Mapped[str | None] = mapped_column(String(12))
    urgent: Mapped[bool] = mapped_column(default=False)  # content.urgent matched a phrase
    assigned_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL")
    )

    def __repr__(self) -> str:
        return f"InboundMessage(id={self.id!r}, handled_as={self.handled_as!r})"


class Tip(Base):
    """One tip of the content library; `id` is the stable id from the content files."""

    __tablename__ = "tip"
    __table_args__ = (
        CheckConstraint("min_week <= max_week", name="age_range"),
        CheckConstraint("version >= 1", name="version"),
        Index("ix_tip_language_weeks", "language", "min_week", "max_week"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    language: Mapped[str] = mapped_column(String(5))
    min_week: Mapped[int]  # age in weeks; negative while the baby is expected
    max_week: Mapped[int]
    theme: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)
    content_hash: Mapped[str] = mapped_column(String(64))
    retired_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # [{rule, reason}]: a reviewer's safety exceptions, as in the tip file (`safety_reviewed`).
    safety_reviewed: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    # The tip file it is exported to, e.g. "01-months-0-3.yaml" (tips/<language>/ is implied).
    source_file: Mapped[str | None] = mapped_column(String(120))
    # Set when staff change the tip in the admin; cleared once the files say the same again.
    # While set, `sms-tips content load` refuses to overwrite the tip (unless --force).
    edited_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"Tip(id={self.id!r}, version={self.version!r})"


class TipVersion(Base):
    """One version of a tip as it was: what a family got when its text names this version."""

    __tablename__ = "tip_version"

    tip_id: Mapped[str] = mapped_column(ForeignKey("tip.id"), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    min_week: Mapped[int]
    max_week: Mapped[int]
    theme: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(10))  # "files" (a load) or "admin"
    author: Mapped[str] = mapped_column(String(254))  # an email, or "cli"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"TipVersion(tip_id={self.tip_id!r}, version={self.version!r})"


class StaffUser(Base):
    """A program staff member who signs in to the admin."""

    __tablename__ = "staff_user"
    __table_args__ = (CheckConstraint(_one_of("role", STAFF_ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(10), default="staff")
    # The partner whose families this person works with; None: the network's own staff, who
    # see every partner (sms_service/core/scope.py).
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"), index=True)
    partner: Mapped[Partner | None] = relationship()
    is_active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)  # since the last sign-in, anywhere
    # Failed sign-ins per client address: {address: {failures, last, locked_until}} (ISO times).
    signin_throttle: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # In every session cookie; bumping it ends all of this person's sessions.
    session_version: Mapped[int] = mapped_column(default=0)
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"StaffUser(id={self.id!r}, email={self.email!r}, role={self.role!r})"


class Campaign(Base):
    """A one-off message or a series that staff send to an audience."""

    __tablename__ = "campaign"
    __table_args__ = (
        CheckConstraint(_one_of("status", CAMPAIGN_STATUSES), name="status"),
        CheckConstraint(_one_of("kind", CAMPAIGN_KINDS), name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(10), default="one_off")
    status: Mapped[str] = mapped_column(String(12), default="draft")
    audience: Mapped[dict[str, Any]] = mapped_column(default=dict)  # filters, see the admin
    local_time: Mapped[bool] = mapped_column(default=False)  # each caregiver's own clock
    # Staff chose to send it even to families whose weekly limit is already used up.
    exceeds_weekly_cap: Mapped[bool] = mapped_column(default=False)
    # The partner whose local message this is (it reaches only that partner's families and is
    # sent once a network admin approves it); None: a network campaign.
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"), index=True)
    approved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    approved_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    messages: Mapped[list[CampaignMessage]] = relationship(
        back_populates="campaign",
        cascade="all, delete-orphan",
        order_by="CampaignMessage.position",
        passive_deletes=True,
    )

    def __repr__(self) -> str:
        return f"Campaign(id={self.id!r}, name={self.name!r}, status={self.status!r})"


class CampaignMessage(Base):
    """One message of a campaign: its text per language and when it goes out."""

    __tablename__ = "campaign_message"
    __table_args__ = (UniqueConstraint("campaign_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    send_at: Mapped[datetime]  # program time, or a local wall-clock time when campaign.local_time
    texts: Mapped[dict[str, Any]] = mapped_column(default=dict)  # language -> text
    planned_at: Mapped[datetime | None]  # when its outbox rows were inserted

    campaign: Mapped[Campaign] = relationship(back_populates="messages")

    def __repr__(self) -> str:
        return f"CampaignMessage(id={self.id!r}, position={self.position!r})"


class OutboundMessage(Base):
    """The outbox: every text the service sends; `dedupe_key` makes each send happen once."""

    __tablename__ = "outbound_message"
    __table_args__ = (
        CheckConstraint(_one_of("kind", OUTBOUND_KINDS), name="kind"),
        CheckConstraint(_one_of("state", OUTBOUND_STATES), name="state"),
        CheckConstraint("attempts >= 0", name="attempts"),
        CheckConstraint("segments >= 0", name="segments"),
        Index("ix_outbound_message_state_due_at", "state", "due_at"),
        Index("ix_outbound_message_caregiver_created", "caregiver_id", "created_at"),
        Index("ix_outbound_message_caregiver_cap_week", "caregiver_id", "cap_week"),
        CheckConstraint("arm IS NULL OR arm IN ('A', 'B')", name="arm"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    caregiver_id: Mapped[int] = mapped_column(ForeignKey("caregiver.id", ondelete="CASCADE"))
    child_id: Mapped[int | None] = mapped_column(
        ForeignKey("child.id", ondelete="SET NULL"), index=True
    )
    tip_id: Mapped[str | None] = mapped_column(ForeignKey("tip.id"), index=True)
    tip_version: Mapped[int | None]
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaign.id", ondelete="SET NULL"), index=True
    )
    # The survey run whose question this text asks (kind "survey", or a reply asking the next).
    survey_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_run.id", ondelete="SET NULL"), index=True
    )
    to_number: Mapped[str] = mapped_column(String(20))
    # The family's partner's own number or Messaging Service it goes out from, as it was when
    # the text was written (core.outbox.sender_sql); None: the program's own sender.
    sender: Mapped[str | None] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    segments: Mapped[int] = mapped_column(default=1)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    due_at: Mapped[datetime]
    # The caregiver's local ISO week whose cap this text counts against (core/weekly_cap.py);
    # None for texts outside the cap.
    cap_week: Mapped[str | None] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(default=0)
    lease_expires_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    # The first claim whose send may have reached the provider unrecorded (a dispatcher died,
    # or a reconciliation failed): every later search for it starts here until it is resolved.
    uncertain_since: Mapped[datetime | None]
    # When this claim passed the last check (jobs/last_check.py), right before its provider
    # call: from then on the text is on its way, and a STOP leaves the row alone. A new claim
    # clears it, so every send attempt passes a check of its own.
    checked_at: Mapped[datetime | None]
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    error_code: Mapped[str | None] = mapped_column(String(20))
    error_message: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # The tip experiment this text was part of and the family's wording in it ("A" the tip's
    # own, "B" the experiment's); None for every other text.
    experiment_id: Mapped[int | None] = mapped_column(
        ForeignKey("experiment.id", ondelete="SET NULL"), index=True
    )
    arm: Mapped[str | None] = mapped_column(String(1))

    def __repr__(self) -> str:
        return f"OutboundMessage(id={self.id!r}, kind={self.kind!r}, state={self.state!r})"


class ApiToken(Base):
    """A bearer token for the JSON API; only its SHA-256 is stored, the token is shown once."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_user.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"ApiToken(id={self.id!r}, name={self.name!r})"


class EarlyDeliveryReport(Base):
    """A delivery report that came before its message's SID was stored; applied once it is."""

    __tablename__ = "early_delivery_report"

    provider_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    error_code: Mapped[str | None] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"EarlyDeliveryReport(status={self.status!r})"


class SendPacer(Base):
    """The shared send schedule of one sender (jobs.ratelimit): every dispatcher on this
    database reserves its sending time here, so together they keep to SMS_TIPS_SEND_RATE."""

    __tablename__ = "send_pacer"

    sender: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Wall-clock epoch seconds (time.time()) at which the next segment may go.
    next_free_at: Mapped[float] = mapped_column(Double)

    def __repr__(self) -> str:
        return f"SendPacer(sender={self.sender!r}, next_free_at={self.next_free_at!r})"


class Suppression(Base):
    """An anonymous opt-out left behind when a caregiver's personal data is deleted."""

    __tablename__ = "suppression"

    phone_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # phones.phone_hash
    reason: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"Suppression(reason={self.reason!r})"


class AuditLog(Base):
    """Who did what, when, to which record: every staff action lands here."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"), index=True
    )
    actor: Mapped[str] = mapped_column(String(254))  # email, or "cli" / "system"
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"AuditLog(id={self.id!r}, actor={self.actor!r}, action={self.action!r})"


SURVEY_STATUSES = ("draft", "active", "stopped")
SURVEY_SCHEDULES = ("once", "every", "at_age")  # once; every N weeks; at a child's age
SURVEY_QUESTION_KINDS = ("number", "choice", "yes_no")
# open: a question is out (or about to go); done: every question answered; closed: the window
# passed (or the family stopped) before the last answer.
SURVEY_RUN_STATES = ("open", "done", "closed")


class Survey(Base):
    """A short survey by text: 1 to 3 questions, an audience and a schedule."""

    __tablename__ = "survey"
    __table_args__ = (
        CheckConstraint(_one_of("status", SURVEY_STATUSES), name="status"),
        CheckConstraint(_one_of("schedule", SURVEY_SCHEDULES), name="schedule"),
        CheckConstraint("schedule != 'every' OR every_weeks BETWEEN 1 AND 52", name="every_weeks"),
        CheckConstraint("schedule != 'at_age' OR at_age_months IS NOT NULL", name="at_age"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    # The audience: None means everyone (any language, age or tag).
    language: Mapped[str | None] = mapped_column(String(5))
    tag: Mapped[str | None] = mapped_column(String(40))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"))  # None: every one
    partner: Mapped[Partner | None] = relationship()
    min_age_months: Mapped[int | None] = mapped_column(SmallInteger)
    max_age_months: Mapped[int | None] = mapped_column(SmallInteger)
    schedule: Mapped[str] = mapped_column(String(10), default="once")
    every_weeks: Mapped[int | None] = mapped_column(SmallInteger)
    at_age_months: Mapped[list[int] | None] = mapped_column(JSON)  # e.g. [6, 12, 24]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    questions: Mapped[list[SurveyQuestion]] = relationship(
        back_populates="survey",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="SurveyQuestion.position",
    )

    def __repr__(self) -> str:
        return f"Survey(id={self.id!r}, name={self.name!r}, status={self.status!r})"


class SurveyQuestion(Base):
    """One question of a survey, worded per language; `kind` says which answers fit."""

    __tablename__ = "survey_question"
    __table_args__ = (
        CheckConstraint(_one_of("kind", SURVEY_QUESTION_KINDS), name="kind"),
        CheckConstraint("position BETWEEN 1 AND 3", name="position"),
        CheckConstraint(
            "kind != 'number' OR (min_value IS NOT NULL AND max_value >= min_value)",
            name="number_range",
        ),
        CheckConstraint("kind != 'choice' OR choices IS NOT NULL", name="choices"),
        UniqueConstraint("survey_id", "position", name="uq_survey_question_position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(SmallInteger)
    key: Mapped[str] = mapped_column(String(40))  # a short name for results and CSV columns
    kind: Mapped[str] = mapped_column(String(10))
    min_value: Mapped[int | None] = mapped_column(SmallInteger)
    max_value: Mapped[int | None] = mapped_column(SmallInteger)
    texts: Mapped[dict[str, Any]]  # language -> the question as sent (may use {child})
    choices: Mapped[dict[str, Any] | None]  # language -> the labels, answered 1..n or by word

    survey: Mapped[Survey] = relationship(back_populates="questions")

    def __repr__(self) -> str:
        return f"SurveyQuestion(id={self.id!r}, key={self.key!r}, kind={self.kind!r})"


class SurveyRun(Base):
    """One family's turn at a survey on one occasion: which question is out, since when."""

    __tablename__ = "survey_run"
    __table_args__ = (
        CheckConstraint(_one_of("state", SURVEY_RUN_STATES), name="state"),
        # Planning twice (or on two machines) asks a family once per occasion.
        UniqueConstraint("survey_id", "caregiver_id", "occasion", name="uq_survey_run_occasion"),
        Index("ix_survey_run_caregiver_state", "caregiver_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    caregiver_id: Mapped[int] = mapped_column(ForeignKey("caregiver.id", ondelete="CASCADE"))
    child_id: Mapped[int | None] = mapped_column(ForeignKey("child.id", ondelete="SET NULL"))
    occasion: Mapped[str] = mapped_column(String(40))  # "once", "2026-W10", "age:6:<child>"
    state: Mapped[str] = mapped_column(String(10), default="open")
    question_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_question.id", ondelete="SET NULL")
    )
    # When the current question reached the family: None while its outbox text waits (the
    # first question's window starts at that text's sent_at).
    asked_at: Mapped[datetime | None]
    reasked: Mapped[bool] = mapped_column(default=False)  # the current question asked again
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"SurveyRun(id={self.id!r}, survey_id={self.survey_id!r}, state={self.state!r})"


class SurveyAnswer(Base):
    """A family's answer to one question of a run (one per question: the first that fits)."""

    __tablename__ = "survey_answer"
    __table_args__ = (
        UniqueConstraint("run_id", "question_id", name="uq_survey_answer_run_question"),
        Index("ix_survey_answer_question_answered", "question_id", "answered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("survey_run.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("survey_question.id", ondelete="CASCADE"))
    inbound_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_message.id", ondelete="SET NULL")
    )
    value: Mapped[int] = mapped_column(SmallInteger)  # the number; a choice 1..n; yes 1, no 0
    answered_at: Mapped[datetime]

    def __repr__(self) -> str:
        return (
            f"SurveyAnswer(id={self.id!r}, question_id={self.question_id!r}, value={self.value!r})"
        )


EXPERIMENT_STATUSES = ("running", "stopped")
EXPERIMENT_ARMS = ("A", "B")


class Experiment(Base):
    """A second wording (B) of a tip, sent instead of the tip's own (A) to a share of families."""

    __tablename__ = "experiment"
    __table_args__ = (
        CheckConstraint(_one_of("status", EXPERIMENT_STATUSES), name="status"),
        CheckConstraint("share_b > 0 AND share_b < 1", name="share_b"),
        CheckConstraint("kept_arm IS NULL OR kept_arm IN ('A', 'B')", name="kept_arm"),
        CheckConstraint("target_size IS NULL OR target_size > 0", name="target_size"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tip_id: Mapped[str] = mapped_column(ForeignKey("tip.id"), index=True)
    wording_b: Mapped[str] = mapped_column(Text)
    share_b: Mapped[float] = mapped_column(Double)  # the part of families sent wording B
    status: Mapped[str] = mapped_column(String(10), default="running")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Families are assigned until stop_at passes or target_size families were sent the tip.
    stop_at: Mapped[datetime | None]
    target_size: Mapped[int | None]
    stopped_at: Mapped[datetime | None]
    kept_arm: Mapped[str | None] = mapped_column(String(1))  # the wording kept when stopped
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL")
    )

    tip: Mapped[Tip] = relationship()

    def __repr__(self) -> str:
        return f"Experiment(id={self.id!r}, tip_id={self.tip_id!r}, status={self.status!r})"
