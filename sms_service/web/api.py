"""The JSON API under /api: campaigns, program stats and partners (web/api_partners.py), for
staff with a bearer token.

The mount's BearerGuard (sms_service.web.guards) lets only token holders in (no cookies here, so
no CSRF); the OpenAPI document at /api/openapi.json is built from the docstrings below.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.schemas import SchemaGenerator

from sms_service.campaigns.audience import audience_size
from sms_service.campaigns.authoring import (
    CampaignError,
    approve_campaign,
    audience_of,
    cancel_campaign,
    check_campaign,
    create_campaign,
    get_campaign,
    list_campaigns,
    pause_campaign,
    resume_campaign,
    schedule_campaign,
    send_back_campaign,
    submit_campaign,
)
from sms_service.campaigns.json_format import CampaignJsonError, campaign_input, campaign_json
from sms_service.campaigns.results import campaign_results
from sms_service.core.models import utcnow
from sms_service.experiments.records import get_experiment, list_experiments
from sms_service.experiments.results import experiment_json, experiment_results
from sms_service.reports.figures import range_report
from sms_service.reports.period import PeriodError, period_from_query
from sms_service.reports.tips import tip_results
from sms_service.staff.reports import program_stats
from sms_service.surveys.results import answers_csv, list_surveys, survey_results
from sms_service.web import api_partners
from sms_service.web.api_common import BadRequest, read_json
from sms_service.web.api_common import error as _error
from sms_service.web.context import app_context, in_read_transaction, in_transaction
from sms_service.web.guards import (
    API_MIDDLEWARE,
    AdminOnly,
    current_staff,
    require_message_author,
    require_network_admin,
)

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


Handler = Callable[[Request], Awaitable[Response]]


async def campaigns_index(request: Request) -> Response:
    """
    summary: List campaigns, newest first
    responses:
      200: {description: "a list of campaigns"}
    """
    settings = app_context(request).settings
    scope = current_staff(request).scope
    items = await in_read_transaction(
        request,
        lambda s: [campaign_json(c, settings=settings) for c in list_campaigns(s, scope=scope)],
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
              exceeds_weekly_cap:
                type: boolean
                description: send even to families whose weekly limit is used up (audited)
              audience: {type: object}
              messages:
                type: array
                items:
                  type: object
                  properties:
                    send_at: {type: string, example: "2026-05-04T10:00"}
                    texts: {type: object, example: {en: "...", es: "..."}}
    responses:
      201: {description: "the new campaign (a partner's token: a local message to approve)"}
      400: {description: "the campaign cannot be made as asked; error says why"}
      403: {description: "a partner's staff member (not an admin) sends no campaigns"}
    """
    settings = app_context(request).settings
    try:
        actor = require_message_author(request).actor
    except AdminOnly as refused:
        return _error(403, refused.detail)
    try:
        name, audience, local_time, messages, exceeds_cap = campaign_input(await read_json(request))
        created = await in_transaction(
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
                    exceeds_weekly_cap=exceeds_cap,
                ),
                settings=settings,
            ),
        )
    except (BadRequest, CampaignJsonError, CampaignError) as error:
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
    scope = current_staff(request).scope

    def work(session: Session) -> dict[str, Any]:
        campaign = get_campaign(session, campaign_id, scope=scope)
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

    return JSONResponse(await in_read_transaction(request, work))


_SUMMARIES = {
    "schedule": "Schedule a network campaign",
    "submit": "Submit a partner's local message for a network admin's approval",
    "approve": "Approve a local message (network admins; it is then scheduled)",
    "send-back": "Send a local message back to draft with a note on what to fix (network admins)",
    "pause": "Pause a campaign",
    "resume": "Resume a campaign",
    "cancel": "Cancel a campaign",
}


def _transition(name: str) -> Handler:
    async def act(request: Request) -> Response:
        campaign_id = request.path_params["campaign_id"]
        settings = app_context(request).settings
        network_only = name in ("approve", "send-back")
        try:
            staff = (
                require_network_admin(request) if network_only else require_message_author(request)
            )
        except AdminOnly as refused:
            return _error(403, refused.detail)
        actor = staff.actor
        try:
            body = await read_json(request) if name == "send-back" else {}
        except BadRequest as error:
            return _error(400, str(error))
        note = str(body.get("note") or "") if isinstance(body, dict) else ""

        def work(session: Session) -> dict[str, Any]:
            campaign = get_campaign(session, campaign_id, scope=actor.scope, for_update=True)
            if name == "schedule":
                schedule_campaign(session, campaign, actor=actor, settings=settings, now=utcnow())
            elif name == "submit":
                submit_campaign(session, campaign, actor=actor, settings=settings, now=utcnow())
            elif name == "approve":
                approve_campaign(session, campaign, actor=actor, settings=settings, now=utcnow())
            elif name == "send-back":
                send_back_campaign(session, campaign, actor=actor, note=note)
            elif name == "pause":
                pause_campaign(session, campaign, actor=actor)
            elif name == "resume":
                resume_campaign(session, campaign, actor=actor)
            else:
                cancel_campaign(session, campaign, actor=actor)
            return campaign_json(campaign, settings=settings)

        try:
            return JSONResponse(await in_transaction(request, work))
        except CampaignError as error:
            return _error(409, str(error))

    act.__doc__ = f"""
    summary: {_SUMMARIES[name]}
    parameters:
      - {{name: campaign_id, in: path, required: true, schema: {{type: integer}}}}
    responses:
      200: {{description: "the campaign after the change"}}
      403: {{description: "this account may not do this to campaigns"}}
      404: {{description: "no such campaign"}}
      409: {{description: "the campaign's state does not allow it; error says why"}}
    """
    return act


async def stats(request: Request) -> Response:
    """
    summary: Program figures over a date range (families by status, texts, rates, per tip)
    description: >
      Rates are null when nothing was counted. delivery = delivered / texts with a final
      status; opt_outs_per_100_sent = opt-outs per 100 texts sent; reply = tip and campaign
      texts answered (a parent's own text within 48 h and before the next text) / tip and
      campaign texts sent. Times are local to the program's zone.
    parameters:
      - {name: range, in: query, schema: {type: string, enum: [week, 4weeks, custom]}}
      - {name: from, in: query, schema: {type: string, format: date}}
      - {name: to, in: query, schema: {type: string, format: date}}
    responses:
      200: {description: "the figures"}
      400: {description: "the range cannot be reported on; error says why"}
    """
    zone = app_context(request).settings.zone
    now = utcnow()
    try:
        period = period_from_query(
            request.query_params, today=now.astimezone(zone).date(), zone=zone
        )
    except PeriodError as error:
        return _error(400, str(error))

    scope = current_staff(request).scope  # a partner's token: its families' figures only

    def work(session: Session) -> dict[str, Any]:
        return {
            **program_stats(session, now=now, zone=zone, scope=scope).to_json(),
            **range_report(session, period=period, scope=scope).to_json(),
            "tips": [t.to_json() for t in tip_results(session, period=period, scope=scope)],
        }

    return JSONResponse(await in_read_transaction(request, work))


async def surveys_index(request: Request) -> Response:
    """
    summary: List surveys, newest first
    responses:
      200: {description: "a list of surveys (id, name, status, schedule)"}
    """

    def work(session: Session) -> list[dict[str, Any]]:
        return [
            {"id": s.id, "name": s.name, "status": s.status, "schedule": s.schedule}
            for s in list_surveys(session=session)
        ]

    return JSONResponse(await in_read_transaction(request, work))


async def survey_results_show(request: Request) -> Response:
    """
    summary: A survey's results (response rate; each question's answers by language, age, month)
    description: >
      response.rate = families who answered at least one question / families whose first
      question went out; null when nobody was asked yet.
    parameters:
      - {name: survey_id, in: path, required: true, schema: {type: integer}}
    responses:
      200: {description: "the results"}
      404: {description: "no such survey"}
    """
    survey_id = request.path_params["survey_id"]
    results = await in_read_transaction(
        request,
        lambda session: survey_results(
            session=session, survey_id=survey_id, scope=current_staff(request).scope
        ),
    )
    if results is None:
        return _error(404, f"there is no survey {survey_id}")
    return JSONResponse(results.to_json())


async def survey_answers_csv(request: Request) -> Response:
    """
    summary: A survey's answers as CSV (one row an answer; no phone numbers)
    parameters:
      - {name: survey_id, in: path, required: true, schema: {type: integer}}
    responses:
      200: {description: "text/csv"}
      404: {description: "no such survey"}
    """
    survey_id = request.path_params["survey_id"]
    body = await in_read_transaction(
        request,
        lambda session: answers_csv(
            session=session, survey_id=survey_id, scope=current_staff(request).scope
        ),
    )
    if body is None:
        return _error(404, f"there is no survey {survey_id}")
    return Response(body, media_type="text/csv; charset=utf-8")


async def experiments_index(request: Request) -> Response:
    """
    summary: List experiments on tip wording, running first
    responses:
      200: {description: "a list of experiments (id, tip_id, wording_b, share_b, status, ...)"}
    """

    def work(session: Session) -> list[dict[str, Any]]:
        return [experiment_json(e) for e in list_experiments(session)]

    return JSONResponse(await in_read_transaction(request, work))


async def experiment_show(request: Request) -> Response:
    """
    summary: An experiment's results per arm (counts; B - A with a 95% Newcombe interval)
    description: >
      Rates are over the families sent the tip in each arm; low and high bound B - A. A
      partner's token sees its own families' counts.
    parameters:
      - {name: experiment_id, in: path, required: true, schema: {type: integer}}
    responses:
      200: {description: "the results"}
      404: {description: "no such experiment"}
    """
    experiment_id = int(request.path_params["experiment_id"])
    scope = current_staff(request).scope

    def work(session: Session) -> dict[str, Any]:
        row = get_experiment(session, experiment_id)
        return experiment_results(session, row, scope=scope).to_json()

    return JSONResponse(await in_read_transaction(request, work))


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
                for name in _SUMMARIES
            ),
            Route("/stats", stats, methods=["GET"]),
            *api_partners.routes,
            Route("/surveys", surveys_index, methods=["GET"]),
            Route("/experiments", experiments_index, methods=["GET"]),
            Route("/experiments/{experiment_id:int}", experiment_show, methods=["GET"]),
            Route("/surveys/{survey_id:int}/results", survey_results_show, methods=["GET"]),
            Route("/surveys/{survey_id:int}/answers.csv", survey_answers_csv, methods=["GET"]),
        ],
        middleware=API_MIDDLEWARE,
    )
]
