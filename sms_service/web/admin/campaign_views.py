"""Campaign pages: list, create, edit and duplicate, the live checker, preview, schedule, pause,
results; a partner's local messages submitted, approved or sent back.

Every campaign is read through the viewer's scope (another partner's id is a 404); writing is
for the network's staff and partners' admins (`require_message_author`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from content.library import LANGUAGES
from content.segments import analyze, in_words
from sms_service.campaigns.audience import audience_size
from sms_service.campaigns.authoring import (
    CampaignError,
    approve_campaign,
    audience_of,
    cancel_campaign,
    create_campaign,
    get_campaign,
    is_editable,
    list_campaigns,
    message_body,
    own_audience,
    pause_campaign,
    preview_campaign,
    resume_campaign,
    schedule_campaign,
    send_back_campaign,
    sent_back_note,
    submit_campaign,
    text_findings,
    update_campaign,
    wall_clock,
)
from sms_service.campaigns.duplicate import duplicate_campaign
from sms_service.campaigns.results import campaign_results
from sms_service.core.models import Campaign, utcnow
from sms_service.partners.records import partner_names
from sms_service.web.admin.forms import campaign_from_form, form_values
from sms_service.web.admin.support import flash, redirect, take_flash
from sms_service.web.admin.templating import language_label, render
from sms_service.web.context import app_context, in_read_transaction, in_transaction
from sms_service.web.guards import (
    current_staff,
    posted_form,
    require_message_author,
    require_network_admin,
)


def _campaign_values(campaign: Campaign, request: Request) -> dict[str, Any]:
    zone = app_context(request).settings.zone
    audience = audience_of(campaign)
    values: dict[str, Any] = {
        "name": campaign.name,
        "timing": "local" if campaign.local_time else "program",
        "exceeds_weekly_cap": "on" if campaign.exceeds_weekly_cap else "",
        "age_min": "" if audience.age_min is None else str(audience.age_min),
        "age_max": "" if audience.age_max is None else str(audience.age_max),
        "age_unit": audience.age_unit,
        "enrolled_from": audience.enrolled_from.isoformat() if audience.enrolled_from else "",
        "enrolled_to": audience.enrolled_to.isoformat() if audience.enrolled_to else "",
        "keywords": ", ".join(audience.keywords),
        "tags": ", ".join(audience.tags),
    }
    for language in audience.languages:
        values[f"lang_{language}"] = "on"
    for partner_id in audience.partners:
        values[f"partner_{partner_id}"] = "on"
    for index, message in enumerate(campaign.messages):
        wall = wall_clock(message, local_time=campaign.local_time, zone=zone)
        values[f"send_at_{index}"] = wall.strftime("%Y-%m-%dT%H:%M")
        for language, text in message.texts.items():
            values[f"text_{language}_{index}"] = text
    return values


def _new_values(request: Request) -> dict[str, Any]:
    zone = app_context(request).settings.zone
    soon = (utcnow() + timedelta(minutes=1)).astimezone(zone)
    return {"timing": "program", "age_unit": "weeks", "send_at_0": soon.strftime("%Y-%m-%dT%H:%M")}


async def _form_page(
    request: Request,
    values: dict[str, Any],
    *,
    campaign_id: int | None,
    error: str = "",
    error_field: str | None = None,
    status_code: int = 200,
) -> Response:
    slots = 1 + max(
        [int(key.rsplit("_", 1)[1]) for key in values if key.startswith("send_at_")] or [0]
    )
    staff = current_staff(request)
    names = (
        await in_read_transaction(request, lambda s: partner_names(s, scope=staff.scope))
        if staff.scope.is_network
        else {}
    )
    return render(
        request,
        "campaign_form.html",
        status_code=status_code,
        values=values,
        slots=slots,
        campaign_id=campaign_id,
        error=error,
        error_field=error_field or "",
        partners=[{"id": id_, "name": name} for id_, name in names.items()],
        monthly_limit=app_context(request).settings.partner_monthly_messages,
    )


async def _refused(
    request: Request, values: dict[str, Any], error: CampaignError, *, campaign_id: int | None
) -> Response:
    return await _form_page(
        request,
        values,
        campaign_id=campaign_id,
        error=str(error),
        error_field=error.field,
        status_code=400,
    )


async def campaign_list(request: Request) -> Response:
    zone = app_context(request).settings.zone
    staff = current_staff(request)

    def work(session: Session) -> list[dict[str, Any]]:
        names = partner_names(session, scope=staff.scope)
        return [
            {
                "campaign": campaign,
                "audience": audience_of(campaign).describe(names),
                "first_send": (
                    wall_clock(campaign.messages[0], local_time=campaign.local_time, zone=zone)
                    if campaign.messages
                    else None
                ),
            }
            for campaign in list_campaigns(session, scope=staff.scope)
        ]

    rows = await in_read_transaction(request, work)
    waiting = sum(row["campaign"].status == "review" for row in rows)
    return render(
        request,
        "campaigns.html",
        rows=rows,
        may_write=current_staff(request).writes_campaigns,
        waiting=waiting if staff.is_network_admin else 0,
        **take_flash(request),
    )


async def new_campaign_page(request: Request) -> Response:
    require_message_author(request)
    return await _form_page(request, _new_values(request), campaign_id=None)


async def create(request: Request) -> Response:
    form = await posted_form(request)
    settings = app_context(request).settings
    actor = require_message_author(request).actor
    values = form_values(form)
    try:
        data = campaign_from_form(form)
    except CampaignError as error:
        return await _refused(request, values, error, campaign_id=None)

    def work(session: Session) -> int:
        return create_campaign(
            session,
            name=data.name,
            audience=data.audience,
            local_time=data.local_time,
            messages=data.messages,
            actor=actor,
            settings=settings,
            exceeds_weekly_cap=data.exceeds_weekly_cap,
        ).id

    try:
        campaign_id = await in_transaction(request, work)
    except CampaignError as error:
        return await _refused(request, values, error, campaign_id=None)
    next_step = "submit it for approval" if actor.partner_id else "schedule it"
    flash(request, f"Draft saved. Check the preview, then {next_step}.")
    return redirect(f"/admin/campaigns/{campaign_id}")


async def edit_page(request: Request) -> Response:
    campaign_id = request.path_params["campaign_id"]
    scope = require_message_author(request).scope
    values = await in_read_transaction(
        request, lambda s: _campaign_values(get_campaign(s, campaign_id, scope=scope), request)
    )
    return await _form_page(request, values, campaign_id=campaign_id)


async def update(request: Request) -> Response:
    form = await posted_form(request)
    campaign_id = request.path_params["campaign_id"]
    settings = app_context(request).settings
    actor = require_message_author(request).actor
    values = form_values(form)
    try:
        data = campaign_from_form(form)
    except CampaignError as error:
        return await _refused(request, values, error, campaign_id=campaign_id)

    def work(session: Session) -> None:
        campaign = get_campaign(session, campaign_id, scope=actor.scope, for_update=True)
        update_campaign(
            session,
            campaign,
            name=data.name,
            audience=data.audience,
            local_time=data.local_time,
            messages=data.messages,
            actor=actor,
            settings=settings,
            exceeds_weekly_cap=data.exceeds_weekly_cap,
            now=utcnow(),
        )

    try:
        await in_transaction(request, work)
    except CampaignError as error:
        return await _refused(request, values, error, campaign_id=campaign_id)
    flash(request, "Campaign saved.")
    return redirect(f"/admin/campaigns/{campaign_id}")


async def size(request: Request) -> Response:
    form = await posted_form(request)
    settings = app_context(request).settings
    partner_id = current_staff(request).partner_id

    def work(session: Session) -> dict[str, int]:
        audience = own_audience(session, campaign_from_form(form).audience, partner_id=partner_id)
        return audience_size(session, audience, zone=settings.zone, now=utcnow())

    try:
        return JSONResponse(await in_read_transaction(request, work))
    except CampaignError as error:
        return JSONResponse({"error": str(error)}, status_code=400)


async def check(request: Request) -> Response:
    """The checker on one text while staff type it: segments in words, and the findings."""
    form = await posted_form(request)
    settings = app_context(request).settings
    language = str(form.get("language") or "")
    text = str(form.get("text") or "")[:1000]
    if language not in LANGUAGES:
        return JSONResponse({"error": "unknown language"}, status_code=400)
    if not text.strip():
        return JSONResponse({"segments": 0, "words": "empty", "findings": []})
    info = analyze(message_body(text, language=language, settings=settings))
    findings = text_findings(text, language=language, settings=settings)
    return JSONResponse(
        {
            "segments": info.segments,
            "words": in_words(info, language_name=language_label(language)),
            "findings": [
                {"severity": f.severity, "rule": f.rule, "message": f.message} for f in findings
            ],
        }
    )


async def duplicate(request: Request) -> Response:
    await posted_form(request)
    campaign_id = request.path_params["campaign_id"]
    settings = app_context(request).settings
    actor = require_message_author(request).actor

    def work(session: Session) -> int:
        source = get_campaign(session, campaign_id, scope=actor.scope)
        return duplicate_campaign(session, source, actor=actor, settings=settings).id

    try:
        copy_id = await in_transaction(request, work)
    except CampaignError as error:
        flash(request, str(error), "error")
        return redirect(f"/admin/campaigns/{campaign_id}")
    flash(request, "Copied as a new draft. Check its send times and texts before sending it.")
    return redirect(f"/admin/campaigns/{copy_id}")


async def detail(request: Request) -> Response:
    campaign_id = request.path_params["campaign_id"]
    settings = app_context(request).settings
    scope = current_staff(request).scope

    def work(session: Session) -> dict[str, Any]:
        now = utcnow()
        campaign = get_campaign(session, campaign_id, scope=scope)
        audience = audience_of(campaign)
        results = campaign_results(session, campaign_id)
        names = partner_names(session, scope=scope)
        return {
            "partner_names": names,
            "partner_name": names.get(campaign.partner_id or 0, ""),
            "sent_back": sent_back_note(session, campaign),
            "editable": is_editable(campaign, planned=results.planned),
            "campaign": campaign,
            "audience": audience,
            "size": audience_size(session, audience, zone=settings.zone, now=now),
            "previews": preview_campaign(session, campaign, settings=settings, now=now),
            "results": results,
            "times": [
                wall_clock(m, local_time=campaign.local_time, zone=settings.zone)
                for m in campaign.messages
            ],
        }

    page = await in_read_transaction(request, work)
    page["editable"] = page["editable"] and current_staff(request).writes_campaigns
    blocked = any(p.errors for previews in page["previews"].values() for p in previews)
    return render(
        request,
        "campaign.html",
        blocked=blocked,
        may_write=current_staff(request).writes_campaigns,
        **page,
        **take_flash(request),
    )


def _action(name: str) -> Any:
    async def act(request: Request) -> Response:
        form = await posted_form(request)
        campaign_id = request.path_params["campaign_id"]
        settings = app_context(request).settings
        network_only = name in ("approve", "send-back")
        staff = require_network_admin(request) if network_only else require_message_author(request)
        actor = staff.actor

        def work(session: Session) -> str:
            campaign = get_campaign(session, campaign_id, scope=actor.scope, for_update=True)
            if name == "schedule":
                schedule_campaign(session, campaign, actor=actor, settings=settings, now=utcnow())
                return "Scheduled. The planner will send it at its time."
            if name == "submit":
                submit_campaign(session, campaign, actor=actor, settings=settings, now=utcnow())
                return (
                    "Submitted. A network admin reviews it; it goes out at its time once approved."
                )
            if name == "approve":
                approve_campaign(session, campaign, actor=actor, settings=settings, now=utcnow())
                return "Approved. The planner will send it at its time."
            if name == "send-back":
                send_back_campaign(session, campaign, actor=actor, note=str(form.get("note", "")))
                return "Sent back to the partner as a draft, with your note."
            if name == "pause":
                held = pause_campaign(session, campaign, actor=actor)
                return f"Paused; {held} text(s) held back."
            if name == "resume":
                resume_campaign(session, campaign, actor=actor)
                return "Resumed."
            cancelled = cancel_campaign(session, campaign, actor=actor)
            return f"Cancelled; {cancelled} unsent text(s) will never go out."

        try:
            flash(request, await in_transaction(request, work))
        except CampaignError as error:
            flash(request, str(error), "error")
        return redirect(f"/admin/campaigns/{campaign_id}")

    return act


routes = [
    Route("/campaigns", campaign_list, methods=["GET"]),
    Route("/campaigns/new", new_campaign_page, methods=["GET"]),
    Route("/campaigns/new", create, methods=["POST"]),
    Route("/campaigns/audience-size", size, methods=["POST"]),
    Route("/campaigns/check", check, methods=["POST"]),
    Route("/campaigns/{campaign_id:int}/duplicate", duplicate, methods=["POST"]),
    Route("/campaigns/{campaign_id:int}", detail, methods=["GET"]),
    Route("/campaigns/{campaign_id:int}/edit", edit_page, methods=["GET"]),
    Route("/campaigns/{campaign_id:int}/edit", update, methods=["POST"]),
    *(
        Route(f"/campaigns/{{campaign_id:int}}/{name}", _action(name), methods=["POST"])
        for name in ("schedule", "submit", "approve", "send-back", "pause", "resume", "cancel")
    ),
]
