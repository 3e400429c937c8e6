"""The JSON API's partner routes under /api: anyone with a token reads, network admins write."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from sms_service.core.models import utcnow
from sms_service.partners.errors import PartnerError
from sms_service.partners.json_format import keywords_input, partner_input, partner_json
from sms_service.partners.keywords import change_keywords
from sms_service.partners.records import (
    create_partner,
    list_partners,
    update_partner,
    visible_partner,
)
from sms_service.web.api_common import BadRequest, error, read_json
from sms_service.web.context import app_context, in_read_transaction, in_transaction
from sms_service.web.guards import current_staff

ADMINS_ONLY = "only network admins can change partners"


async def partners_index(request: Request) -> Response:
    """
    summary: List partners with their families (all and active)
    responses:
      200: {description: "a list of partners"}
    """

    scope = current_staff(request).scope

    def work(session: Session) -> list[dict[str, Any]]:
        return [
            {**partner_json(row.partner), "families": row.families, "active": row.active}
            for row in list_partners(session, scope=scope)
        ]

    return JSONResponse({"partners": await in_read_transaction(request, work)})


async def partners_create(request: Request) -> Response:
    """
    summary: Create a partner with its enrollment keywords (network admins)
    requestBody:
      content:
        application/json:
          schema:
            type: object
            required: [slug, name]
            properties:
              slug: {type: string, example: eastside}
              name: {type: string, example: Eastside Family Center}
              sender: {type: string, description: "its own Twilio number or MG... SID"}
              help_contact: {type: string}
              timezone: {type: string, example: America/Chicago}
              local_resources: {type: string}
              keywords: {type: object, example: {EAST: en, ESTE: es}}
    responses:
      201: {description: "the new partner"}
      400: {description: "the partner cannot be made as asked; error says why"}
      403: {description: "not a network admin"}
    """
    staff = current_staff(request)
    if not staff.is_network_admin:
        return error(403, ADMINS_ONLY)
    settings = app_context(request).settings
    try:
        data = await read_json(request)
        fields = partner_input(data, creating=True)
        keywords = keywords_input(data.get("keywords"))
        created = await in_transaction(
            request,
            lambda s: partner_json(
                create_partner(
                    s,
                    fields=fields,
                    keywords=keywords,
                    settings=settings,
                    actor=staff.actor,
                    now=utcnow(),
                )
            ),
        )
    except (BadRequest, PartnerError) as refused:
        return error(400, str(refused))
    return JSONResponse(created, status_code=201)


async def partner_show(request: Request) -> Response:
    """
    summary: One partner
    parameters:
      - {name: slug, in: path, required: true, schema: {type: string}}
    responses:
      200: {description: "the partner"}
      404: {description: "no such partner"}
    """
    slug, scope = request.path_params["slug"], current_staff(request).scope
    found = await in_read_transaction(
        request, lambda s: partner_json(visible_partner(s, slug, scope=scope))
    )
    return JSONResponse(found)


async def partner_update(request: Request) -> Response:
    """
    summary: Change a partner's fields ("" clears sender, help_contact, timezone) (network admins)
    parameters:
      - {name: slug, in: path, required: true, schema: {type: string}}
    responses:
      200: {description: "the partner after the change"}
      400: {description: "the change cannot be made; error says why"}
      403: {description: "not a network admin"}
      404: {description: "no such partner"}
    """
    staff = current_staff(request)
    if not staff.is_network_admin:
        return error(403, ADMINS_ONLY)
    slug = request.path_params["slug"]
    try:
        fields = partner_input(await read_json(request), creating=False)

        def work(session: Session) -> dict[str, Any]:
            partner = visible_partner(session, slug, scope=staff.scope)
            update_partner(session, partner=partner, fields=fields, actor=staff.actor, now=utcnow())
            return partner_json(partner)

        return JSONResponse(await in_transaction(request, work))
    except (BadRequest, PartnerError) as refused:
        return error(400, str(refused))


async def partner_keywords(request: Request) -> Response:
    """
    summary: Add and remove a partner's enrollment keywords (network admins)
    parameters:
      - {name: slug, in: path, required: true, schema: {type: string}}
    requestBody:
      content:
        application/json:
          schema:
            type: object
            properties:
              add: {type: object, example: {EASTSIDE: en}}
              remove: {type: array, items: {type: string}}
    responses:
      200: {description: "the partner after the change"}
      400: {description: "a keyword is refused (nothing changes); error says why"}
      403: {description: "not a network admin"}
      404: {description: "no such partner"}
    """
    staff = current_staff(request)
    if not staff.is_network_admin:
        return error(403, ADMINS_ONLY)
    slug = request.path_params["slug"]
    settings = app_context(request).settings
    try:
        data = await read_json(request)
        if not isinstance(data, dict):
            raise BadRequest("the body must be a JSON object")
        add = keywords_input(data.get("add"), "add")
        remove = list(keywords_input(data.get("remove"), "remove"))

        def work(session: Session) -> dict[str, Any]:
            partner = visible_partner(session, slug, scope=staff.scope)
            change_keywords(
                session,
                partner=partner,
                add=add,
                remove=remove,
                settings=settings,
                actor=staff.actor,
            )
            return partner_json(partner)

        return JSONResponse(await in_transaction(request, work))
    except (BadRequest, PartnerError) as refused:
        return error(400, str(refused))


routes: list[BaseRoute] = [
    Route("/partners", partners_index, methods=["GET"]),
    Route("/partners", partners_create, methods=["POST"]),
    Route("/partners/{slug:str}", partner_show, methods=["GET"]),
    Route("/partners/{slug:str}", partner_update, methods=["PATCH"]),
    Route("/partners/{slug:str}/keywords", partner_keywords, methods=["POST"]),
]
