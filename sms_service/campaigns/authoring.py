"""Campaigns: messages staff send to an audience, and their life from draft to done.

States: draft -> scheduled -> sending -> done, and paused (from scheduled or sending, back by
resume) and cancelled (from any state but done). A partner's campaign (a local message,
`partner_id` set) reaches only that partner's families and goes draft -> review -> scheduled:
its staff submit it, a network admin approves it or sends it back to draft, within the
network's monthly limit per partner (`Settings.partner_monthly_messages`). Drafts can be
edited, and so can scheduled and paused campaigns until their first text is in the outbox
(then sending has started). The campaign planner (jobs/campaign_planner.py) moves scheduled
-> sending -> done as it fills the outbox.

Times: a message's `send_at` is stored in UTC. For "at this local time for each caregiver"
campaigns (`local_time`) it holds the wall-clock time itself, tagged UTC (12:00 means noon
wherever each caregiver is).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, extract, func, select, update
from sqlalchemy.orm import Session

from content.checker import check_message
from content.findings import Finding
from content.render import render_tip
from content.segments import SegmentInfo, analyze
from sms_service.campaigns.audience import Audience, audience_condition
from sms_service.core.audit import Actor
from sms_service.core.errors import NotFound
from sms_service.core.models import (
    AuditLog,
    Campaign,
    CampaignMessage,
    Caregiver,
    OutboundMessage,
    Partner,
    utcnow,
)
from sms_service.core.phones import mask
from sms_service.core.scope import NETWORK, Scope
from sms_service.core.settings import Settings

MAX_MESSAGES = 10
MAX_TEXT_LENGTH = 480
# Staff plan seasons and school years, not decades: a send time further out is a typo (9999 for
# 2029), and dates near year 9999 cannot even be converted between time zones.
MAX_DAYS_AHEAD = 5 * 366
PAST_GRACE = timedelta(minutes=10)  # "now" typed into a form is a little in the past on submit
PAUSED_NOTE = "campaign paused"
CANCELLED_NOTE = "campaign cancelled"
_PLACEHOLDER = re.compile(r"\{[^}]*\}")
EDITABLE = ("draft", "scheduled", "paused")
SCHEDULABLE = ("draft",)
PAUSABLE = ("scheduled", "sending")
CANCELLABLE = ("draft", "scheduled", "sending", "paused", "review")
# What counts toward a partner's monthly limit: every local message approved or waiting.
COUNTED = ("review", "scheduled", "sending", "paused", "done")


class CampaignError(ValueError):
    """A campaign request that cannot be carried out, with the reason (shown to staff).

    `field` names the form field the reason is about, when there is one, so the form can show
    it beside that field.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class CampaignNotFound(NotFound):
    """No campaign with this id that the viewer may see."""


@dataclass(frozen=True)
class MessageDraft:
    """One message as staff write it: a wall-clock time and a text per language."""

    send_at: datetime  # naive wall-clock time (program zone, or each caregiver's own)
    texts: dict[str, str]


@dataclass(frozen=True)
class LanguagePreview:
    """One language's text rendered as a caregiver receives it, with the checker's findings."""

    language: str
    body: str
    segments: SegmentInfo
    findings: list[Finding]
    sample: str  # a masked phone number from the audience, or a note that there is none

    @property
    def errors(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity == "error"]


def stored_send_at(wall: datetime, *, local_time: bool, zone: ZoneInfo) -> datetime:
    """The UTC value stored for a wall-clock send time (see the module docstring)."""
    naive = wall.replace(tzinfo=None)
    if local_time:
        return naive.replace(tzinfo=UTC)
    return naive.replace(tzinfo=zone).astimezone(UTC)


def wall_clock(message: CampaignMessage, *, local_time: bool, zone: ZoneInfo) -> datetime:
    """The naive wall-clock time staff chose for `message`."""
    if local_time:
        return message.send_at.astimezone(UTC).replace(tzinfo=None)
    return message.send_at.astimezone(zone).replace(tzinfo=None)


def message_body(text: str, *, language: str, settings: Settings) -> str:
    """The body every recipient of this language receives ("<program>: " + text)."""
    return render_tip(
        text.strip(),
        language=language,
        child_name=None,
        age_weeks=0,
        program_name=settings.program_name,
    )


def _validate(
    name: str, audience: Audience, messages: list[MessageDraft]
) -> tuple[str, list[MessageDraft]]:
    name = " ".join(name.split())
    if not name:
        raise CampaignError("the campaign needs a name", field="name")
    if len(name) > 120:
        raise CampaignError("the name must be 120 characters or fewer", field="name")
    if not messages:
        raise CampaignError("the campaign needs at least one message")
    if len(messages) > MAX_MESSAGES:
        raise CampaignError(f"a campaign has at most {MAX_MESSAGES} messages")
    latest = utcnow().replace(tzinfo=None) + timedelta(days=MAX_DAYS_AHEAD)
    cleaned: list[MessageDraft] = []
    for number, message in enumerate(messages, start=1):
        if message.send_at.replace(tzinfo=None) > latest:
            raise CampaignError(
                f"message {number} is more than five years ahead: check the year of its send time",
                field=f"send_at_{number - 1}",
            )
        texts = {lang: " ".join(text.split()) for lang, text in message.texts.items() if text}
        texts = {lang: text for lang, text in texts.items() if text}
        for language in audience.target_languages:
            if language not in texts:
                raise CampaignError(
                    f"message {number} needs a text in {language}",
                    field=f"text_{language}_{number - 1}",
                )
        for language, text in texts.items():
            if language not in audience.target_languages:
                continue
            if len(text) > MAX_TEXT_LENGTH:
                raise CampaignError(
                    f"message {number} ({language}) is too long",
                    field=f"text_{language}_{number - 1}",
                )
            if _PLACEHOLDER.search(text):
                raise CampaignError(
                    f"message {number} ({language}): campaign texts cannot use placeholders "
                    "such as {child}; every family gets the same words",
                    field=f"text_{language}_{number - 1}",
                )
        kept = {lang: texts[lang] for lang in audience.target_languages}
        cleaned.append(MessageDraft(send_at=message.send_at, texts=kept))
    times = [message.send_at for message in cleaned]
    if times != sorted(times) or len(set(times)) != len(times):
        raise CampaignError(
            "the messages of a series must go out at different, rising times", field="send_at_1"
        )
    return name, cleaned


def _set_messages(
    session: Session, campaign: Campaign, messages: list[MessageDraft], *, zone: ZoneInfo
) -> None:
    if campaign.messages:
        campaign.messages.clear()
        session.flush()  # the old rows go first: (campaign_id, position) is unique
    for position, message in enumerate(messages):
        campaign.messages.append(
            CampaignMessage(
                position=position,
                send_at=stored_send_at(message.send_at, local_time=campaign.local_time, zone=zone),
                texts=dict(message.texts),
            )
        )
    campaign.kind = "series" if len(messages) > 1 else "one_off"


def create_campaign(
    session: Session,
    *,
    name: str,
    audience: Audience,
    local_time: bool,
    messages: list[MessageDraft],
    actor: Actor,
    settings: Settings,
    exceeds_weekly_cap: bool = False,
) -> Campaign:
    """A new draft campaign; the caller commits. A partner's staff member writes a local
    message: the campaign is their partner's and reaches only its families."""
    audience = own_audience(session, audience, partner_id=actor.partner_id)
    name, messages = _validate(name, audience, messages)
    campaign = Campaign(
        name=name,
        status="draft",
        audience=audience.to_json(),
        local_time=local_time,
        created_by_id=actor.staff_user_id,
        partner_id=actor.partner_id,
    )
    session.add(campaign)
    _set_messages(session, campaign, messages, zone=settings.zone)
    session.flush()
    actor.audit(session, "campaign.create", campaign, name=name)
    _set_cap_exception(session, campaign, exceeds_weekly_cap, actor=actor)
    return campaign


def update_campaign(
    session: Session,
    campaign: Campaign,
    *,
    name: str,
    audience: Audience,
    local_time: bool,
    messages: list[MessageDraft],
    actor: Actor,
    settings: Settings,
    exceeds_weekly_cap: bool = False,
    now: datetime | None = None,
) -> Campaign:
    """Replace the name, audience, schedule and texts of a draft, or of a scheduled or paused
    campaign none of whose texts is in the outbox yet; the caller commits.

    A scheduled or paused campaign stays so, and must still pass what scheduling asks (no
    checker errors, a first send time not passed).
    """
    _require(campaign, EDITABLE, "edited")
    if campaign.partner_id is not None and campaign.status != "draft":
        # What the network admin approved is what goes out: a changed text needs approval anew.
        raise CampaignError(
            "an approved local message cannot be changed: cancel it, duplicate it and submit "
            "the copy for approval"
        )
    audience = own_audience(session, audience, partner_id=campaign.partner_id)
    if campaign.status != "draft" and _outbox_rows(session, campaign):
        raise CampaignError(
            f"sending has started (its texts are in the outbox), so this {campaign.status} "
            "campaign can no longer be edited; cancel it and duplicate it instead"
        )
    name, messages = _validate(name, audience, messages)
    changed = _changes(campaign, name=name, audience=audience, local_time=local_time)
    campaign.name = name
    campaign.audience = audience.to_json()
    campaign.local_time = local_time
    _set_messages(session, campaign, messages, zone=settings.zone)
    session.flush()
    if campaign.status != "draft":
        _ready_to_send(campaign, settings=settings, now=now or utcnow())
    actor.audit(
        session,
        "campaign.update",
        campaign,
        status=campaign.status,
        changed=changed,
        messages=len(messages),
    )
    _set_cap_exception(session, campaign, exceeds_weekly_cap, actor=actor)
    return campaign


def own_audience(session: Session, audience: Audience, *, partner_id: int | None) -> Audience:
    """A partner's campaign reaches that partner's families, whatever the form asked for; a
    network campaign may name partners, which must exist."""
    if partner_id is None:
        known = set(session.scalars(select(Partner.id).where(Partner.id.in_(audience.partners))))
        unknown = sorted(set(audience.partners) - known)
        if unknown:
            raise CampaignError(f"there is no partner {unknown[0]}", field="partners")
        return audience
    if audience.partners and audience.partners != (partner_id,):
        raise CampaignError("a local message reaches your own families only", field="partners")
    return replace(audience, partners=(partner_id,))


def is_editable(campaign: Campaign, *, planned: int) -> bool:
    """Whether `update_campaign` would take new texts for `campaign`, `planned` of whose texts
    are in the outbox: a draft, or a network campaign scheduled or paused before sending."""
    if campaign.status == "draft":
        return True
    return campaign.partner_id is None and campaign.status in EDITABLE and planned == 0


def _changes(campaign: Campaign, *, name: str, audience: Audience, local_time: bool) -> list[str]:
    # What the audit entry names; texts and times are always rewritten, so they are not listed.
    changed = []
    if campaign.name != name:
        changed.append("name")
    if campaign.audience != audience.to_json():
        changed.append("audience")
    if campaign.local_time != local_time:
        changed.append("timing")
    return changed


def _outbox_rows(session: Session, campaign: Campaign) -> int:
    count = session.scalar(select(func.count()).where(OutboundMessage.campaign_id == campaign.id))
    return int(count or 0)


def _set_cap_exception(session: Session, campaign: Campaign, wanted: bool, *, actor: Actor) -> None:
    # Going past the "about N messages a week" families agreed to is a decision someone
    # answers for, so turning it on or off is audited on its own.
    if campaign.exceeds_weekly_cap == wanted:
        return
    if wanted and campaign.partner_id is not None:
        # A local message counts against the household's cap like every other text.
        raise CampaignError(
            "a local message stays within the families' weekly limit", field="exceeds_weekly_cap"
        )
    campaign.exceeds_weekly_cap = wanted
    actor.audit(session, "campaign.weekly_cap_exception", campaign, exceeds_weekly_cap=wanted)


def get_campaign(
    session: Session, campaign_id: int, *, scope: Scope = NETWORK, for_update: bool = False
) -> Campaign:
    """The campaign with this id that `scope` sees (locked for the transaction when
    `for_update`); a partner sees its own campaigns, not the network's or another's."""
    query = select(Campaign).where(Campaign.id == campaign_id, scope.owned(Campaign.partner_id))
    if for_update:
        query = query.with_for_update()
    campaign = session.scalar(query)
    if campaign is None:
        raise CampaignNotFound(f"there is no campaign {campaign_id}")
    return campaign


def audience_of(campaign: Campaign) -> Audience:
    """The campaign's audience filters; a partner's campaign never reaches beyond its families,
    whatever its stored filters say (every reader of the audience comes through here)."""
    audience = Audience.from_json(campaign.audience)
    if campaign.partner_id is not None:
        return replace(audience, partners=(campaign.partner_id,))
    return audience


def check_campaign(campaign: Campaign, *, settings: Settings) -> dict[int, list[LanguagePreview]]:
    """Each message's texts rendered and checked, by message position (no sample caregiver)."""
    return {
        message.position: [
            _preview(language, text, settings=settings, sample="")
            for language, text in sorted(message.texts.items())
        ]
        for message in campaign.messages
    }


def preview_campaign(
    session: Session, campaign: Campaign, *, settings: Settings, now: datetime
) -> dict[int, list[LanguagePreview]]:
    """Like check_campaign, each language shown for a sample caregiver of the audience."""
    condition = audience_condition(audience_of(campaign), zone=settings.zone, now=now)
    samples: dict[str, str] = {}
    for language in audience_of(campaign).target_languages:
        phone = session.scalar(
            select(Caregiver.phone)
            .where(condition, Caregiver.language == language)
            .order_by(Caregiver.id)
            .limit(1)
        )
        samples[language] = f"as {mask(phone)} sees it" if phone else "nobody in the audience yet"
    previews = check_campaign(campaign, settings=settings)
    return {
        position: [
            LanguagePreview(p.language, p.body, p.segments, p.findings, samples.get(p.language, ""))
            for p in languages
        ]
        for position, languages in previews.items()
    }


def text_findings(text: str, *, language: str, settings: Settings) -> list[Finding]:
    """The checker's findings on one campaign text, and what saving it would refuse (a
    placeholder, too long), so staff see it while they type."""
    findings = list(check_message(text, language=language, program_name=settings.program_name))
    if _PLACEHOLDER.search(text):
        findings.insert(
            0,
            Finding(
                "placeholder",
                "error",
                "campaign texts cannot use placeholders such as {child}: "
                "every family gets the same words",
            ),
        )
    if len(" ".join(text.split())) > MAX_TEXT_LENGTH:
        findings.insert(
            0, Finding("length", "error", f"at most {MAX_TEXT_LENGTH} characters in a campaign")
        )
    return findings


def _preview(language: str, text: str, *, settings: Settings, sample: str) -> LanguagePreview:
    body = message_body(text, language=language, settings=settings)
    findings = check_message(text, language=language, program_name=settings.program_name)
    return LanguagePreview(language, body, analyze(body), list(findings), sample)


def schedule_campaign(
    session: Session, campaign: Campaign, *, actor: Actor, settings: Settings, now: datetime
) -> Campaign:
    """draft -> scheduled, refused while the checker finds errors or a time has passed. A
    local message is not scheduled but submitted for approval (`submit_campaign`)."""
    _require(campaign, SCHEDULABLE, "scheduled")
    if campaign.partner_id is not None:
        raise CampaignError(
            "a local message goes out once a network admin approves it: submit it for approval"
        )
    _ready_to_send(campaign, settings=settings, now=now)
    campaign.status = "scheduled"
    actor.audit(session, "campaign.schedule", campaign)
    return campaign


def submit_campaign(
    session: Session, campaign: Campaign, *, actor: Actor, settings: Settings, now: datetime
) -> Campaign:
    """A local message, draft -> review: ready to send and within the partner's monthly limit,
    it waits for a network admin."""
    _require(campaign, SCHEDULABLE, "submitted for approval")
    if campaign.partner_id is None:
        raise CampaignError("only a partner's local message waits for approval: schedule it")
    _ready_to_send(campaign, settings=settings, now=now)
    _within_monthly_limit(session, campaign, settings=settings)
    campaign.status = "review"
    actor.audit(session, "campaign.submit", campaign)
    return campaign


def approve_campaign(
    session: Session, campaign: Campaign, *, actor: Actor, settings: Settings, now: datetime
) -> Campaign:
    """review -> scheduled, by a network admin: the text passes the checker, its time is still
    ahead and the partner's month has room (checked again: others may have been approved)."""
    _require(campaign, ("review",), "approved")
    if not actor.is_network_admin:
        raise CampaignError("only a network admin approves local messages")
    _ready_to_send(campaign, settings=settings, now=now)
    _within_monthly_limit(session, campaign, settings=settings)
    campaign.status = "scheduled"
    campaign.approved_by_id = actor.staff_user_id
    campaign.approved_at = now
    actor.audit(session, "campaign.approve", campaign)
    return campaign


def send_back_campaign(session: Session, campaign: Campaign, *, actor: Actor, note: str) -> None:
    """review -> draft, by a network admin, with what to change (kept in the audit log)."""
    _require(campaign, ("review",), "sent back")
    if not actor.is_network_admin:
        raise CampaignError("only a network admin sends local messages back")
    note = " ".join(note.split())[:500]
    if not note:
        raise CampaignError("say what to change, so the partner can fix it", field="note")
    campaign.status = "draft"
    actor.audit(session, "campaign.send_back", campaign, note=note)


def sent_back_note(session: Session, campaign: Campaign) -> str | None:
    """What the network admin asked to change, while a sent-back local message is a draft."""
    if campaign.partner_id is None or campaign.status != "draft":
        return None
    detail = session.scalar(
        select(AuditLog.detail)
        .where(
            AuditLog.action == "campaign.send_back",
            AuditLog.target_type == "Campaign",
            AuditLog.target_id == str(campaign.id),
        )
        .order_by(AuditLog.id.desc())
        .limit(1)
    )
    return str(detail.get("note", "")) if detail else None


def _within_monthly_limit(session: Session, campaign: Campaign, *, settings: Settings) -> None:
    # Months are read off the stored send time (UTC, or the wall clock of local-time
    # campaigns): a text sent on the evening of the 31st may count to either month, never twice.
    limit = settings.partner_monthly_messages
    months: dict[tuple[int, int], int] = {}
    for message in campaign.messages:
        key = (message.send_at.year, message.send_at.month)
        months[key] = months.get(key, 0) + 1
    partner = session.get(Partner, campaign.partner_id)
    name = partner.name if partner is not None else "this partner"
    for (year, month), adding in sorted(months.items()):
        taken = session.scalar(
            select(func.count())
            .select_from(CampaignMessage)
            .join(Campaign, Campaign.id == CampaignMessage.campaign_id)
            .where(
                Campaign.partner_id == campaign.partner_id,
                Campaign.id != campaign.id,
                Campaign.status.in_(COUNTED),
                extract("year", CampaignMessage.send_at) == year,
                extract("month", CampaignMessage.send_at) == month,
            )
        )
        if int(taken or 0) + adding > limit:
            raise CampaignError(
                f"{name} can send {limit} local message(s) a month; "
                f"{datetime(year, month, 1):%B %Y} already has {int(taken or 0)} approved or "
                f"waiting, and this campaign adds {adding}"
            )


def _ready_to_send(campaign: Campaign, *, settings: Settings, now: datetime) -> None:
    if not campaign.messages:
        raise CampaignError("the campaign has no messages")
    problems = [
        f"message {position + 1} ({preview.language}): {finding.message}"
        for position, previews in check_campaign(campaign, settings=settings).items()
        for preview in previews
        for finding in preview.errors
    ]
    if problems:
        raise CampaignError("fix the checker's errors first: " + "; ".join(problems))
    first = campaign.messages[0]
    earliest = (
        # A local-time message is late only once it is late everywhere (UTC-12 is last).
        first.send_at + timedelta(hours=12) if campaign.local_time else first.send_at
    )
    if earliest < now - PAST_GRACE:
        raise CampaignError(
            "the first message's time has passed: pick a later time", field="send_at_0"
        )


def pause_campaign(session: Session, campaign: Campaign, *, actor: Actor) -> int:
    """Stop a campaign: its texts not yet sent are held back. Returns how many were held."""
    _require(campaign, PAUSABLE, "paused")
    held = _cancel_pending(session, campaign, PAUSED_NOTE)
    campaign.status = "paused"
    actor.audit(session, "campaign.pause", campaign, held=held)
    return held


def resume_campaign(session: Session, campaign: Campaign, *, actor: Actor) -> Campaign:
    """Go on after a pause: the planner plans the held texts again, with fresh send times.

    The held rows never reached anyone, so they are removed; re-planning inserts them again
    (the dedupe key still stops anyone who already got a message from getting it twice), and
    quiet hours are applied to the new send times.
    """
    _require(campaign, ("paused",), "resumed")
    session.execute(
        delete(OutboundMessage).where(
            OutboundMessage.campaign_id == campaign.id,
            OutboundMessage.state == "cancelled",
            OutboundMessage.error_message == PAUSED_NOTE,
        )
    )
    for message in campaign.messages:
        message.planned_at = None
    already = session.scalar(select(func.count()).where(OutboundMessage.campaign_id == campaign.id))
    campaign.status = "sending" if already else "scheduled"
    actor.audit(session, "campaign.resume", campaign)
    return campaign


def cancel_campaign(session: Session, campaign: Campaign, *, actor: Actor) -> int:
    """Stop a campaign for good; returns how many unsent texts were cancelled."""
    _require(campaign, CANCELLABLE, "cancelled")
    cancelled = _cancel_pending(session, campaign, CANCELLED_NOTE)
    campaign.status = "cancelled"
    actor.audit(session, "campaign.cancel", campaign, cancelled=cancelled)
    return cancelled


def _cancel_pending(session: Session, campaign: Campaign, note: str) -> int:
    result = session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.campaign_id == campaign.id, OutboundMessage.state == "pending")
        .values(state="cancelled", error_message=note)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _require(campaign: Campaign, states: tuple[str, ...], verb: str) -> None:
    if campaign.status not in states:
        raise CampaignError(f"a {campaign.status} campaign cannot be {verb}")


def list_campaigns(
    session: Session, *, scope: Scope = NETWORK, status: str | None = None, limit: int = 200
) -> list[Campaign]:
    """The campaigns `scope` sees (of one status if given), newest first."""
    query = select(Campaign).where(scope.owned(Campaign.partner_id))
    if status is not None:
        query = query.where(Campaign.status == status)
    return list(session.scalars(query.order_by(Campaign.id.desc()).limit(limit)))
