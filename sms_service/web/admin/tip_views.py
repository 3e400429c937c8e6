"""One tip in the admin: its page with every version and the families sent each, and, for
admins, editing, adding, retiring and restoring it with the checker running as they type."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from content.library import DEFAULT_ROOT, LANGUAGES, Library, load_themes
from content.render import render_tip
from content.tip_check import TipCheck
from sms_service.core.models import Tip as TipRow
from sms_service.experiments.records import running_for_tip
from sms_service.reports.period import PRESETS
from sms_service.reports.tips import tip_report
from sms_service.tips.editing import (
    TipDraft,
    TipNotFound,
    TipRefused,
    add_tip,
    check_draft,
    edit_tip,
    get_tip,
    restore_tip,
    retire_tip,
    version_history,
)
from sms_service.web.admin.support import (
    act_then_show,
    flash,
    redirect,
    requested_period,
    take_flash,
)
from sms_service.web.admin.templating import render
from sms_service.web.context import app_context, in_read_transaction, in_transaction
from sms_service.web.guards import current_staff, posted_form, require_network_admin

MAX_TEXT = 2000  # characters; far beyond two segments, so the checker says what is wrong


@cache
def content_themes() -> Library:
    """The themes of the content folder (tips are the database's; themes are files)."""
    return Library(root=DEFAULT_ROOT, themes=load_themes(DEFAULT_ROOT, []))


@dataclass(frozen=True)
class ParsedForm:
    """A tip form: the draft, or the fields it could not read; the version it was based on."""

    draft: TipDraft | None
    problems: dict[str, str]
    version: int
    replaces: str | None


def _number(form: FormData, name: str) -> int | None:
    raw = form.get(name)
    try:
        return int(raw) if isinstance(raw, str) and raw.strip() else None
    except ValueError:
        return None


def _text(form: FormData, name: str, limit: int) -> str:
    raw = form.get(name)
    return raw[:limit] if isinstance(raw, str) else ""


def parse_tip_form(form: FormData, *, tip_id: str | None = None) -> ParsedForm:
    """The draft a tip form describes (id and language from the row when editing)."""
    problems: dict[str, str] = {}
    first, last = _number(form, "min_week"), _number(form, "max_week")
    if first is None or last is None:
        problems["weeks"] = "write the first and last week as whole numbers"
    language = _text(form, "language", 5)
    if language not in LANGUAGES:
        problems["id"] = f"choose a language: {', '.join(LANGUAGES)}"
    draft = None
    if first is not None and last is not None:
        draft = TipDraft(
            id=tip_id or _text(form, "id", 64).strip(),
            language=language,
            min_week=first,
            max_week=last,
            theme=_text(form, "theme", 40),
            text=_text(form, "text", MAX_TEXT),
        )
    replaces = _text(form, "replaces", 64) or None
    return ParsedForm(draft, problems, _number(form, "version") or 0, replaces)


def _findings_json(check: TipCheck) -> list[dict[str, str]]:
    return [
        {"field": field, "severity": f.severity, "rule": f.rule, "message": f.message}
        for field, f in check.findings
    ]


def _size(check: TipCheck) -> str:
    info = check.info
    texts = f"{info.segments} text{'s' if info.segments != 1 else ''}"
    why = "special characters" if info.encoding != "GSM-7" else "plain characters"
    return f"{texts} at most ({why}, {info.units} units with a long name)"


async def check_tip_json(request: Request) -> Response:
    """The checker's findings, the size and the phone preview of the tip being typed."""
    form = await posted_form(request)
    require_network_admin(request)
    editing = _text(form, "editing", 64) or None
    parsed = parse_tip_form(form, tip_id=editing)
    if parsed.draft is None:
        problems = [
            {"field": k, "severity": "error", "rule": "form", "message": v}
            for k, v in parsed.problems.items()
        ]
        return JSONResponse({"findings": problems, "size": "", "preview": ""})
    draft = parsed.draft

    def work(session: Session) -> TipCheck:
        row = session.get(TipRow, draft.id) if editing else None
        moved = row is None or (row.min_week, row.max_week) != (draft.min_week, draft.max_week)
        return check_draft(
            session,
            draft,
            library=content_themes(),
            adding=editing is None,
            replaces=parsed.replaces,
            coverage=moved,  # the slow part: only when the weeks change
        )

    check = await in_read_transaction(request, work)
    return JSONResponse(
        {
            "findings": _findings_json(check),
            "size": _size(check),
            "preview": _preview(request, draft.text, draft.language, draft.min_week),
        }
    )


def _preview(request: Request, text: str, language: str, week: int) -> str:
    """The tip as a family with no child name given reads it on their phone."""
    program = app_context(request).settings.program_name
    return render_tip(
        " ".join(text.split()),
        language=language,
        child_name=None,
        age_weeks=max(week, 0),
        program_name=program,
    )


def _page_data(session: Session, tip_id: str) -> dict[str, Any]:
    row = get_tip(session, tip_id)
    return {
        "tip": row,
        "history": version_history(session, tip_id),
        "experiment": running_for_tip(session, tip_id),
    }


def _live_ids(session: Session) -> list[str]:
    return list(
        session.scalars(select(TipRow.id).where(TipRow.retired_at.is_(None)).order_by(TipRow.id))
    )


def _form_page(
    request: Request,
    *,
    data: dict[str, Any],
    values: dict[str, Any],
    check: TipCheck | None = None,
    problems: dict[str, str] | None = None,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    findings: dict[str, list[Any]] = {}
    for field, finding in check.findings if check else []:
        findings.setdefault(field, []).append(finding)
    preview = _preview(
        request, str(values["text"]), str(values["language"]), int(values["min_week"] or 0)
    )
    flashed = take_flash(request)
    if error:
        flashed["error"] = error
    return render(
        request,
        "tip.html",
        status_code=status_code,
        values=values,
        findings=findings,
        problems=problems or {},
        themes=content_themes().themes,
        preview=preview,
        size=_size(check) if check else "",
        **data,
        **flashed,
    )


def _values_of(row: TipRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "language": row.language,
        "min_week": row.min_week,
        "max_week": row.max_week,
        "theme": row.theme,
        "text": row.text,
        "version": row.version,
        "replaces": "",
    }


async def tip_page(request: Request) -> Response:
    """A tip, its versions and the families sent each, the replies and opt-outs after it in a
    date range (the per-tip results of the dashboard); the edit form for admins."""
    return await show_tip(request, str(request.path_params["tip_id"]))


async def show_tip(
    request: Request,
    tip_id: str,
    *,
    status_code: int = 200,
    error: str | None = None,
    experiment_form: dict[str, str] | None = None,
) -> Response:
    """The tip's page; `experiment_form`: what was typed in a refused experiment start."""
    period, refused = requested_period(request)
    scope = current_staff(request).scope  # a partner's staff read their families' texts only

    def work(session: Session) -> dict[str, Any]:
        data = _page_data(session, tip_id)
        report = tip_report(session, tip=data["tip"], period=period, scope=scope)
        return {**data, "report": report}

    try:
        data = await in_read_transaction(request, work)
    except TipNotFound:
        return render(request, "not_found.html", status_code=404, error=f"No tip {tip_id}.")
    page = {
        **data,
        "is_new": False,
        "period": period,
        "presets": PRESETS,
        "refused": refused,
        "experiment_form": experiment_form or {},
    }
    return _form_page(
        request, data=page, values=_values_of(data["tip"]), status_code=status_code, error=error
    )


def _form_values(form: FormData, parsed: ParsedForm) -> dict[str, Any]:
    return {
        "id": _text(form, "id", 64),
        "language": _text(form, "language", 5),
        "min_week": _text(form, "min_week", 8),
        "max_week": _text(form, "max_week", 8),
        "theme": _text(form, "theme", 40),
        "text": _text(form, "text", MAX_TEXT),
        "version": parsed.version,
        "replaces": parsed.replaces or "",
    }


async def save_tip(request: Request) -> Response:
    """Save an edit as a new version (refused, with the findings at their fields, on errors)."""
    form = await posted_form(request)
    staff = require_network_admin(request)
    tip_id = str(request.path_params["tip_id"])
    parsed = parse_tip_form(form, tip_id=tip_id)
    draft = parsed.draft

    def work(session: Session) -> int:
        assert draft is not None
        row = edit_tip(
            session,
            draft=draft,
            expected_version=parsed.version,
            library=content_themes(),
            actor=staff.actor,
        )
        return row.version

    try:
        data = await in_read_transaction(request, _page_data, tip_id)
    except TipNotFound:
        return render(request, "not_found.html", status_code=404, error=f"No tip {tip_id}.")
    values = {**_form_values(form, parsed), "id": tip_id, "language": data["tip"].language}
    if draft is None:
        return _form_page(
            request,
            data={**data, "is_new": False},
            values=values,
            problems=parsed.problems,
            status_code=400,
            error="Not saved: fix the fields marked below.",
        )
    try:
        version = await in_transaction(request, work)
    except TipRefused as refused:
        return _form_page(
            request,
            data={**data, "is_new": False},
            values=values,
            check=refused.check,
            status_code=400,
            error=f"Not saved: {refused}.",
        )
    flash(request, f"Saved: {tip_id} is now version {version}.")
    return redirect(f"/admin/content/tips/{tip_id}")


async def new_tip_page(request: Request) -> Response:
    """The form for a new tip (admins)."""
    require_network_admin(request)
    live = await in_read_transaction(request, _live_ids)
    values = {
        "id": "",
        "language": LANGUAGES[0],
        "min_week": "",
        "max_week": "",
        "theme": "",
        "text": "",
        "version": 0,
        "replaces": "",
    }
    return _form_page(request, data={"is_new": True, "live_ids": live}, values=values)


async def create_tip(request: Request) -> Response:
    """Add a tip, version 1 (optionally replacing a live one in the same step)."""
    form = await posted_form(request)
    staff = require_network_admin(request)
    parsed = parse_tip_form(form)
    live = await in_read_transaction(request, _live_ids)
    data = {"is_new": True, "live_ids": live}
    values = _form_values(form, parsed)
    draft = parsed.draft
    if draft is None:
        error = "Not saved: fix the fields marked below."
        return _form_page(
            request,
            data=data,
            values=values,
            problems=parsed.problems,
            status_code=400,
            error=error,
        )

    def work(session: Session) -> str:
        assert draft is not None
        row = add_tip(
            session,
            draft=draft,
            library=content_themes(),
            actor=staff.actor,
            replaces=parsed.replaces,
        )
        return row.id

    try:
        tip_id = await in_transaction(request, work)
    except (TipRefused, TipNotFound) as refused:
        check = refused.check if isinstance(refused, TipRefused) else None
        return _form_page(
            request,
            data=data,
            values=values,
            check=check,
            status_code=400,
            error=f"Not saved: {refused}.",
        )
    flash(request, f"Added {tip_id}, version 1.")
    return redirect(f"/admin/content/tips/{tip_id}")


async def retire(request: Request) -> Response:
    """Retire a tip: never planned again (refused when a week would be left without a tip)."""
    await posted_form(request)
    staff = require_network_admin(request)
    tip_id = str(request.path_params["tip_id"])

    def work(session: Session) -> str:
        retire_tip(session, tip_id=tip_id, actor=staff.actor)
        return f"Retired {tip_id}: it will not be planned for anyone again."

    return await act_then_show(
        request, work, refusals=(TipRefused, TipNotFound), then=f"/admin/content/tips/{tip_id}"
    )


async def restore(request: Request) -> Response:
    """Plan a retired tip again (refused when it now fails the checker)."""
    await posted_form(request)
    staff = require_network_admin(request)
    tip_id = str(request.path_params["tip_id"])

    def work(session: Session) -> str:
        restore_tip(session, tip_id=tip_id, library=content_themes(), actor=staff.actor)
        return f"Restored {tip_id}."

    return await act_then_show(
        request, work, refusals=(TipRefused, TipNotFound), then=f"/admin/content/tips/{tip_id}"
    )


routes = [
    Route("/content/check-tip", check_tip_json, methods=["POST"]),
    Route("/content/tips/new", new_tip_page, methods=["GET"]),
    Route("/content/tips", create_tip, methods=["POST"]),
    Route("/content/tips/{tip_id}", tip_page, methods=["GET"]),
    Route("/content/tips/{tip_id}", save_tip, methods=["POST"]),
    Route("/content/tips/{tip_id}/retire", retire, methods=["POST"]),
    Route("/content/tips/{tip_id}/restore", restore, methods=["POST"]),
]
