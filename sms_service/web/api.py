"""The JSON API under /api: campaigns and program stats, for staff with a bearer token.

Authentication happens in sms_service.staff.auth.StaffAccessMiddleware (no cookies here, so no
CSRF); the OpenAPI document at /api/openapi.json is built from the docstrings below.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.schemas import SchemaGenerator

from sms_service.campaigns.audience import Audience, audience_size
from sms_service.campaigns.authoring import (
    CampaignError,
    MessageDraft,
    audience_of,
    cancel_campaign,
    check_campaign,
    create_campaign,
    get_campaign,
    list_campaigns,
    pause_campaign,
    resume_campaign,
    schedule_campaign,
    wall_clock,
)
from sms_service.campaigns.results import campaign_results
from sms_service.core.db import transaction
from sms_service.core.models import Campaign, utcnow
from sms_service.core.settings import Settings
from sms_service.staff.auth import current_staff
from sms_service.staff.reports import program_stats
from sms_service.web.context import app_context

MAX_BODY = 100_000

schemas = SchemaGenerator(
    {
        "openapi": "3.0.3",
        "info": {"title": "sms-tips staff API", "version": "1"},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
)


class BadRequest(Exception):
    """A request body the API cannot use; the message goes back to the caller."""


def campaign_json(campaign: Campaign, *, settings: Settings) -> dict[str, Any]:
    """A campaign as the API (and `sms-tips campaign show`) presents it."""
    return {
        "id": campaign.id,
        "name": campaign.name,
        "kind": campaign.kind,
        "status": campaign.status,
        "local_time": campaign.local_time,
        "audience": campaign.audience,
        "messages": [
            {
                "position": message.position,
                "send_at": wall_clock(
                    message, local_time=campaign.local_time, zone=settings.zone
                ).isoformat(timespec="minutes"),
                "texts": message.texts,
                "planned_at": message.planned_at.isoformat() if message.planned_at else None,
            }
            for message in campaign.messages
        ],
        "created_at": campaign.created_at.isoformat(),
    }


def campaign_input(data: Any) -> tuple[str, Audience, bool, list[MessageDraft]]:
    """Read a campaign from JSON: {name, local_time, audience: {...}, messages: [{send_at,
    texts}]}; send_at is a wall-clock time such as 2026-05-04T10:00."""
    if not isinstance(data, dict):
        raise BadRequest("send a JSON object")
    try:
        audience = Audience.from_json(dict(data.get("audience") or {}))
    except (TypeError, ValueError) as error:  # AudienceError is a ValueError
        raise BadRequest(f"audience: {error}") from None
    try:
        messages = [
            MessageDraft(
                send_at=datetime.fromisoformat(str(item["send_at"])).replace(tzinfo=None),
                texts={str(k): str(v) for k, v in dict(item.get("texts") or {}).items()},
            )
            for item in data.get("messages") or []
        ]
    except (KeyError, TypeError, ValueError, AttributeError):
        raise BadRequest(
            "messages must be a list of {send_at: '2026-05-04T10:00', texts: {en: ..., es: ...}}"
        ) from None
    return str(data.get("name") or ""), audience, bool(data.get("local_time")), messages


Handler = Callable[[Request], Awaitable[Response]]


async def _db(request: Request, work: Callable[[Session], Any]) -> Any:
    def run() -> Any:
        with transaction(app_context(request).sessions) as session:
            return work(session)

    return await run_in_threadpool(run)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _body(request: Request) -> Any:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise BadRequest("the request body is too large")
    try:
        return json.loads(raw or b"{}")
    except ValueError:
        raise BadRequest("the body is not valid JSON") from None


async def campaigns_index(request: Request) -> Response:
    """
    summary: List campaigns, newest first
    responses:
      200: {description: "a list of campaigns"}
    """
    settings = app_context(request).settings
    items = await _db(
        request, lambda s: [campaign_json(c, settings=settings) for c in list_campaigns(s)]
    )
    return JSONResponse({"campaigns": items})


async def campaigns_create(request: Request) -> Response:
    """
    summary: Create a draft campaign
    requestBody:
      content:
        application/json:
          schema:
            type: object
            required: [name, messages]
            properties:
              name: {type: string}
              local_time: {type: boolean}
              audience: {type: object}
              messages:
                type: array
                items:
                  type: object
                  properties:
                    send_at: {type: string, example: "2026-05-04T10:00"}
                    texts: {type: object, example: {en: "...", es: "..."}}
    responses:
      201: {description: "the new campaign"}
      400: {description: "the campaign cannot be made as asked; error says why"}
    """
    settings = app_context(request).settings
    actor = current_staff(request).actor
    try:
        name, audience, local_time, messages = campaign_input(await _body(request))
        created = await _db(
            request,
            lambda s: campaign_json(
                create_campaign(
                    s,
                    name=name,
                    audience=audience,
                    local_time=local_time,
                    messages=messages,
                    actor=actor,
                    settings=settings,
                ),
                settings=settings,
            ),
        )
    except (BadRequest, CampaignError) as error:
        return _error(400, str(error))
    return JSONResponse(created, status_code=201)


async def campaign_show(request: Request) -> Response:
    """
    summary: One campaign with its checker findings, audience size and results
    parameters:
      - {name: campaign_id, in: path, required: true, schema: {type: integer}}
    responses:
      200: {description: "the campaign"}
      404: {description: "no such campaign"}
    """
    campaign_id = request.path_params["campaign_id"]
    settings = app_context(request).settings

    def work(session: Session) -> dict[str, Any]:
        campaign = get_campaign(session, campaign_id)
        data = campaign_json(campaign, settings=settings)
        data["audience_size"] = audience_size(
            session, audience_of(campaign), zone=settings.zone, now=utcnow()
        )
        data["checks"] = {
            str(position): {
                p.language: {
                    "body": p.body,
                    "segments": p.segments.segments,
                    "encoding": p.segments.encoding,
                    "findings": [
                        {"rule": f.rule, "severity": f.severity, "message": f.message}
                        for f in p.findings
                    ],
                }
                for p in previews
            }
            for position, previews in check_campaign(campaign, settings=settings).items()
        }
        data["results"] = campaign_results(session, campaign.id).to_json()
        return data

    try:
        return JSONResponse(await _db(request, work))
    except CampaignError as error:
        return _error(404, str(error))


def _transition(name: str) -> Handler:
    async def act(request: Request) -> Response:
        campaign_id = request.path_params["campaign_id"]
        settings = app_context(request).settings
        actor = current_staff(request).actor

        def work(session: Session) -> dict[str, Any]:
            campaign = get_campaign(session, campaign_id, for_update=True)
            if name == "schedule":
                schedule_campaign(session, campaign, actor=actor, settings=settings, now=utcnow())
            elif name == "pause":
                pause_campaign(session, campaign, actor=actor)
            elif name == "resume":
                resume_campaign(session, campaign, actor=actor)
            else:
                cancel_campaign(session, campaign, actor=actor)
            return campaign_json(campaign, settings=settings)

        try:
            return JSONResponse(await _db(request, work))
        except CampaignError as error:
            status = 404 if "there is no campaign" in str(error) else 409
            return _error(status, str(error))

    act.__doc__ = f"""
    summary: {name.capitalize()} a campaign
    parameters:
      - {{name: campaign_id, in: path, required: true, schema: {{type: integer}}}}
    responses:
      200: {{description: "the campaign after the change"}}
      404: {{description: "no such campaign"}}
      409: {{description: "the campaign's state does not allow it; error says why"}}
    """
    return act


async def stats(request: Request) -> Response:
    """
    summary: Program figures (caregivers by status, this week's texts, reply rate, charts' data)
    responses:
      200: {description: "the figures"}
    """
    zone = app_context(request).settings.zone
    data = await _db(request, lambda s: program_stats(s, now=utcnow(), zone=zone).to_json())
    return JSONResponse(data)


async def openapi(request: Request) -> Response:
    """
    summary: This API's OpenAPI document
    responses:
      200: {description: "OpenAPI 3 JSON"}
    """
    return JSONResponse(schemas.get_schema(routes=list(routes)))


routes: list[BaseRoute] = [
    Mount(
        "/api",
        routes=[
            Route("/openapi.json", openapi, methods=["GET"], include_in_schema=False),
            Route("/campaigns", campaigns_index, methods=["GET"]),
            Route("/campaigns", campaigns_create, methods=["POST"]),
            Route("/campaigns/{campaign_id:int}", campaign_show, methods=["GET"]),
            *(
                Route(f"/campaigns/{{campaign_id:int}}/{name}", _transition(name), methods=["POST"])
                for name in ("schedule", "pause", "resume", "cancel")
            ),
            Route("/stats", stats, methods=["GET"]),
        ],
    )
]
