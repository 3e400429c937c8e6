"""Bulk invitations from a CSV: every row checked first, then one invitation text per new number.

An invitation is not consent (CTIA): the number becomes `invited` (no tips, no campaigns) and
gets one text through the outbox, under a dedupe key per caregiver, so importing the same file
again sends nothing. Only the parent's own text (the program keyword, or START) enrolls them;
that opt-in is recorded naming the invitation (`accepted`).
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.ages import Birth, BirthProblem, checked_birth
from content.languages import language as language_of
from content.library import LANGUAGES
from sms_service.caregivers import lifecycle, suppression
from sms_service.caregivers.errors import CaregiverError
from sms_service.caregivers.lifecycle import Evidence, Status
from sms_service.caregivers.partnership import DEFAULT_PARTNER_SLUG, default_partner_id
from sms_service.core import outbox
from sms_service.core.audit import Actor
from sms_service.core.models import Caregiver, Invitation, Partner, Suppression
from sms_service.core.phones import timezone_for, to_e164, us_state_for
from sms_service.core.scope import Scope
from sms_service.core.settings import Settings
from sms_service.delivery.sendwindow import next_send_time
from sms_service.texting.answers import parse_name
from sms_service.texting.messages import texts

MAX_ROWS = 5000
MAX_NAME = 40
# Header names each column may have (folded: lower case, no spaces, underscores or accents).
_COLUMNS = {
    "phone": {"phone", "number", "phonenumber", "mobile", "cell", "telefono"},
    "language": {"language", "lang", "idioma"},
    "child_name": {"childname", "child", "name", "nombre"},
    "birth_date": {"birthdate", "childbirthdate", "duedate", "birthorduedate", "birthday"},
}
_ORDER = ("phone", "language", "child_name", "birth_date")
# Why a known number is not invited, by its status.
_SKIPS = {
    Status.INVITED: "already invited",
    Status.ENROLLING: "already texting us (enrolling)",
    Status.ACTIVE: "already enrolled",
    Status.PAUSED: "already enrolled (paused)",
    Status.OPTED_OUT: "opted out",
    Status.COMPLETED: "completed the program",
    Status.UNDELIVERABLE: "the number cannot receive texts",
}


@dataclass(frozen=True)
class InviteRow:
    """One valid row of an invitation file."""

    line: int
    phone: str
    language: str
    child_name: str | None
    birth: Birth | None


@dataclass(frozen=True)
class Skipped:
    """A valid row whose number is not invited, and why."""

    line: int
    phone: str
    reason: str


@dataclass
class ImportReport:
    """What an import did: who was invited, who was skipped."""

    invited: list[InviteRow] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def summary(self) -> str:
        """One sentence for staff."""
        invited = len(self.invited)
        text = f"Invited {invited} {'family' if invited == 1 else 'families'}"
        if self.skipped:
            text += f"; skipped {len(self.skipped)} (already known, opted out or repeated)"
        return text + "."


class InviteFileError(CaregiverError):
    """A file with bad rows: nothing was imported; `problems` names each by its line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s), nothing imported: " + "; ".join(problems))
        self.problems = problems


def _fold(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value.strip().lower())
    return "".join(c for c in decomposed if c.isalnum() and not unicodedata.combining(c))


def _language(raw: str) -> str | None:
    """A language code from its code or its name (en, English, es, Español...)."""
    folded = _fold(raw)
    for code in LANGUAGES:
        spec = language_of(code)
        names = {_fold(code), _fold(spec.name)} | {
            _fold(word) for word in spec.menu_answers if not word.isdigit()
        }
        if folded in names:
            return code
    return None


def _date(raw: str, *, day_first: bool) -> date | None:
    text = raw.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    parts = text.replace("-", "/").replace(".", "/").split("/")
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        return None
    first, second, year = (int(part) for part in parts)
    month, day = (second, first) if day_first else (first, second)
    try:
        return date(year + 2000 if year < 100 else year, month, day)
    except ValueError:
        return None


def _header(row: list[str]) -> dict[str, int] | None:
    """The column of each field when `row` is a header row, else None."""
    found: dict[str, int] = {}
    for index, cell in enumerate(row):
        for name, spellings in _COLUMNS.items():
            if _fold(cell) in spellings and name not in found:
                found[name] = index
    return found if "phone" in found else None


def parse_invites(text: str, *, today: date) -> list[InviteRow]:
    """Every row of the file, checked; raises InviteFileError naming each bad line."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    columns = {name: index for index, name in enumerate(_ORDER)}
    rows: list[InviteRow] = []
    problems: list[str] = []
    first = True
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if first:
            first = False
            header = _header(cells)
            if header is not None:
                columns = header
                if "language" not in columns:
                    problems.append(f"line {line}: the header has no language column")
                continue
        if len(rows) + len(problems) >= MAX_ROWS:
            problems.append(f"line {line}: more than {MAX_ROWS} rows; split the file")
            break
        found = _row(cells, columns, line=line, today=today)
        if isinstance(found, str):
            problems.append(found)
        else:
            rows.append(found)
    if not rows and not problems:
        problems.append("the file has no rows (expected: phone, language, child name, birth date)")
    if problems:
        raise InviteFileError(problems)
    return rows


def _row(cells: list[str], columns: dict[str, int], *, line: int, today: date) -> InviteRow | str:
    def cell(name: str) -> str:
        index = columns.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    raw_phone, raw_language = cell("phone"), cell("language")
    phone = to_e164(raw_phone)
    if phone is None:
        return f"line {line}: {raw_phone[:30]!r} is not a phone number"
    language = _language(raw_language)
    if language is None:
        known = ", ".join(LANGUAGES)
        return f"line {line}: unknown language {raw_language[:20]!r} (use {known})"
    name = cell("child_name") or None
    if name is not None and len(name) > MAX_NAME:
        return f"line {line}: the child's name is longer than {MAX_NAME} characters"
    birth: Birth | None = None
    raw_birth = cell("birth_date")
    if raw_birth:
        found = _date(raw_birth, day_first=language_of(language).day_first)
        checked = checked_birth(found, today=today) if found is not None else None
        if checked is None or checked is BirthProblem.UNREADABLE:
            return f"line {line}: {raw_birth[:20]!r} is not a date such as 2026-03-14"
        if checked is BirthProblem.TOO_OLD:
            return f"line {line}: {raw_birth} is 36 months ago or more (the program ends there)"
        if checked is BirthProblem.TOO_FAR:
            return f"line {line}: {raw_birth} is too far ahead for a due date"
        assert isinstance(checked, Birth)
        birth = checked
    return InviteRow(line, phone, language, name, birth)


def invitation_body(*, language: str, settings: Settings, partner: str | None) -> str:
    """The invitation text in `language`: the program, the partner if any, how to join."""
    catalog = texts(language, settings)
    keyword = settings.keywords.get(catalog.language, ("JOIN",))[0]
    if partner:
        return catalog.render("invitation_partner", keyword=keyword, partner=partner)
    return catalog.render("invitation", keyword=keyword)


def import_invites(
    session: Session,
    *,
    text: str,
    settings: Settings,
    actor: Actor,
    now: datetime,
    partner_id: int | None = None,
) -> ImportReport:
    """Check the whole file, then invite each new number once, as families of the partner
    `partner_id` (a partner's staff invite to their own partner; None: the program itself);
    the caller commits (one transaction: a bad row raises InviteFileError before anything is
    written)."""
    partner = _inviting_partner(session, actor=actor, partner_id=partner_id, now=now)
    rows = parse_invites(text, today=now.astimezone(settings.zone).date())
    report = ImportReport()
    phones = [row.phone for row in rows]
    known = {
        caregiver.phone: Status(caregiver.status)
        for caregiver in session.scalars(select(Caregiver).where(Caregiver.phone.in_(phones)))
    }
    anyone_erased = session.scalar(select(Suppression.phone_hash).limit(1)) is not None
    seen: dict[str, int] = {}
    for row in rows:
        if row.phone in seen:
            reason = f"repeats line {seen[row.phone]}"
        elif row.phone in known:
            reason = _SKIPS[known[row.phone]]
        elif anyone_erased and suppression.is_suppressed(session, row.phone):
            reason = "erased on request: never texted unless they opt in themselves"
        else:
            reason = ""
        seen.setdefault(row.phone, row.line)
        if reason:
            report.skipped.append(Skipped(row.line, row.phone, reason))
            continue
        _invite(session, row, settings=settings, actor=actor, now=now, partner=partner)
        report.invited.append(row)
    actor.audit(
        session,
        "invitations.import",
        None,
        invited=len(report.invited),
        skipped=len(report.skipped),
        partner=partner.slug,
    )
    return report


def _inviting_partner(
    session: Session, *, actor: Actor, partner_id: int | None, now: datetime
) -> Partner:
    """The partner whose families the invited become: a partner's staff member's own, else the
    one asked for, else the program itself."""
    if not actor.scope.is_network:
        partner_id = actor.partner_id
    partner = session.get(Partner, partner_id or default_partner_id(session, now=now))
    if partner is None:
        raise InviteFileError(["pick one of the partners"])
    return partner


def _invite(
    session: Session,
    row: InviteRow,
    *,
    settings: Settings,
    actor: Actor,
    now: datetime,
    partner: Partner,
) -> None:
    zone = timezone_for(row.phone, partner.timezone or settings.timezone)
    region = us_state_for(row.phone)
    caregiver = lifecycle.invite(
        session,
        phone=row.phone,
        language=row.language,
        timezone=zone,
        region=region,
        now=now,
        partner_id=partner.id,
    )
    invitation = Invitation(
        caregiver_id=caregiver.id,
        child_name=row.child_name,
        birth_date=row.birth.date if row.birth else None,
        line=row.line,
        invited_by_id=actor.staff_user_id,
        created_at=now,
    )
    session.add(invitation)
    named = partner.name if partner.slug != DEFAULT_PARTNER_SLUG else None
    body = invitation_body(language=row.language, settings=settings, partner=named)
    # The dispatcher checks the send window again; planning it inside the window keeps the
    # invitation out of quiet hours even when the import runs at night.
    due = next_send_time(now.astimezone(ZoneInfo(zone)), region, settings).astimezone(UTC)
    outbox.queue_text(
        session,
        key=outbox.invite_key(caregiver_id=caregiver.id),
        kind="system",
        caregiver_id=caregiver.id,
        to_number=row.phone,
        body=body,
        due_at=due,
        now=now,
        sender=partner.sender,
    )
    actor.audit(session, "caregiver.invite", caregiver, invitation_id=invitation.id, line=row.line)


def recent_invitations(
    session: Session, *, scope: Scope, limit: int = 200
) -> list[tuple[Invitation, Caregiver]]:
    """The latest invitations of `scope`'s families, newest first (the admin's list)."""
    rows = session.execute(
        select(Invitation, Caregiver)
        .join(Caregiver, Caregiver.id == Invitation.caregiver_id)
        .where(scope.families())
        .order_by(Invitation.id.desc())
        .limit(limit)
    )
    return [(invitation, caregiver) for invitation, caregiver in rows.all()]


def accepted(
    session: Session, caregiver: Caregiver, evidence: Evidence, *, now: datetime
) -> Evidence:
    """An invited parent's own opt-in, naming the invitation it answers (marked accepted)."""
    invitation = session.scalar(select(Invitation).where(Invitation.caregiver_id == caregiver.id))
    if invitation is None:
        return evidence
    if invitation.accepted_at is None:
        invitation.accepted_at = now
    sent = invitation.created_at.date().isoformat()
    named = f"{evidence.text} (in reply to invitation #{invitation.id} of {sent})"
    return replace(evidence, text=named)


def prefill(session: Session, caregiver: Caregiver, *, today: date) -> dict[str, Any]:
    """What the invitation row said of the child (name, birth or due date) for the enrollment
    conversation to use instead of asking again: empty once a child is on record, and without
    a date the program no longer serves (a due date past is a birth date now)."""
    if caregiver.children:
        return {}
    invitation = session.scalar(select(Invitation).where(Invitation.caregiver_id == caregiver.id))
    if invitation is None:
        return {}
    found: dict[str, Any] = {}
    name = parse_name(invitation.child_name or "")
    if isinstance(name, str):
        found["invited_name"] = name
    if invitation.birth_date is not None:
        birth = checked_birth(invitation.birth_date, today=today)
        if isinstance(birth, Birth):
            found["invited_birth"] = birth.date.isoformat()
            found["invited_expected"] = birth.is_expected
    return found
