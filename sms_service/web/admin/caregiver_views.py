"""Caregiver pages: search, a family's timeline, and the actions staff take on request."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sms_service.caregivers import lifecycle
from sms_service.caregivers.children import correct_child
from sms_service.caregivers.errors import CaregiverError
from sms_service.caregivers.export import export_caregiver
from sms_service.caregivers.records import (
    get_caregiver,
    search_caregivers,
    set_tags,
    statuses,
    tags_in_use,
    timeline,
    undeliverable_reason,
)
from sms_service.core.models import Caregiver, utcnow
from sms_service.web.admin.forms import caregiver_filters, query_number, text_field
from sms_service.web.admin.support import act_then_show, flash, redirect, take_flash
from sms_service.web.admin.templating import render
from sms_service.web.context import app_context, in_read_transaction, in_transaction
from sms_service.web.guards import current_staff, posted_form, require_admin


async def caregiver_list(request: Request) -> Response:
    params = request.query_params
    filters = caregiver_filters(params)
    page = query_number(params.get("page"), maximum=100_000) or 0
    scope = current_staff(request).scope
    found = await in_read_transaction(request, search_caregivers, scope=scope, page=page, **filters)
    return render(
        request,
        "caregivers.html",
        caregivers=found,
        filters=filters,
        page=page,
        statuses=statuses(),
        export_query=urlencode({k: v for k, v in params.items() if k != "page" and v}),
        **take_flash(request),
    )


async def caregiver_page(request: Request) -> Response:
    caregiver_id = request.path_params["caregiver_id"]
    scope = current_staff(request).scope

    def work(session: Session) -> dict[str, Any]:
        caregiver = get_caregiver(session, caregiver_id, scope=scope)
        return {
            "caregiver": caregiver,
            "entries": timeline(session, caregiver),
            "undeliverable": undeliverable_reason(session, caregiver),
            "known_tags": tags_in_use(session, scope=scope),
        }

    try:
        page = await in_read_transaction(request, work)
    except CaregiverError as error:
        return render(request, "not_found.html", status_code=404, error=str(error))
    return render(
        request, "caregiver.html", **page, today=date.today().isoformat(), **take_flash(request)
    )


def _action(name: str) -> Any:
    async def act(request: Request) -> Response:
        form = await posted_form(request)
        caregiver_id = request.path_params["caregiver_id"]
        staff = require_admin(request) if name == "delete" else current_staff(request)
        zone = app_context(request).settings.zone
        note = text_field(form, "note", 500)
        tags = text_field(form, "tags", 400).split(",")
        until = text_field(form, "until", 12)

        def work(session: Session) -> str:
            caregiver: Caregiver = get_caregiver(session, caregiver_id, scope=staff.scope)
            now = utcnow()
            if name == "pause":
                try:
                    end = datetime.combine(date.fromisoformat(until), time(0), tzinfo=zone)
                except ValueError:
                    raise CaregiverError("pick the date the pause ends") from None
                lifecycle.pause(session, caregiver, until=end, now=now, actor=staff.actor)
                return f"Paused until {until}."
            if name == "resume":
                lifecycle.resume(session, caregiver, now=now, actor=staff.actor)
                return "Resumed."
            if name == "tags":
                set_tags(session, caregiver, tags=tags, actor=staff.actor)
                return "Tags saved."
            if name == "opt-out":
                lifecycle.staff_opt_out(session, caregiver, note=note, actor=staff.actor, now=now)
                return "Opted out: nothing more will be sent."
            lifecycle.delete(session, caregiver, actor=staff.actor)
            return "Personal data deleted; the number stays on the do-not-text list."

        try:
            message = await in_transaction(request, work)
        except CaregiverError as error:
            flash(request, str(error), "error")
            return redirect(f"/admin/caregivers/{caregiver_id}")
        flash(request, message)
        if name == "delete":
            return redirect("/admin/caregivers")
        return redirect(f"/admin/caregivers/{caregiver_id}")

    return act


async def correct_child_view(request: Request) -> Response:
    form = await posted_form(request)
    caregiver_id, child_id = request.path_params["caregiver_id"], request.path_params["child_id"]
    staff = current_staff(request)
    raw_date = text_field(form, "birth_date", 12)

    def work(session: Session) -> str:
        # The family first: another partner's id is a 404 whatever the form holds.
        caregiver = get_caregiver(session, caregiver_id, scope=staff.scope)
        try:
            birth = date.fromisoformat(raw_date)
        except ValueError:
            raise CaregiverError(
                "pick the birth date, or the due date if the baby is not born yet"
            ) from None
        child = correct_child(
            session,
            caregiver,
            child_id,
            name=text_field(form, "name", 60),
            birth_date=birth,
            today=utcnow().astimezone(app_context(request).settings.zone).date(),
            actor=staff.actor,
        )
        born = "due" if child.is_expected else "born"
        return f"Saved: {child.name or 'the child'}, {born} {child.birth_date}."

    return await act_then_show(
        request, work, refusals=(CaregiverError,), then=f"/admin/caregivers/{caregiver_id}"
    )


async def export(request: Request) -> Response:
    caregiver_id = request.path_params["caregiver_id"]
    staff = current_staff(request)

    def work(session: Session) -> dict[str, Any]:
        caregiver = get_caregiver(session, caregiver_id, scope=staff.scope)
        return export_caregiver(session, caregiver, actor=staff.actor)

    try:
        # A write, though a GET: every export of a family's data is audited.
        data = await in_transaction(request, work)
    except CaregiverError as error:
        return render(request, "not_found.html", status_code=404, error=str(error))
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="caregiver-{caregiver_id}.json"',
        },
    )


routes = [
    Route("/caregivers", caregiver_list, methods=["GET"]),
    Route("/caregivers/{caregiver_id:int}", caregiver_page, methods=["GET"]),
    Route("/caregivers/{caregiver_id:int}/export.json", export, methods=["GET"]),
    Route(
        "/caregivers/{caregiver_id:int}/children/{child_id:int}",
        correct_child_view,
        methods=["POST"],
    ),
    *(
        Route(f"/caregivers/{{caregiver_id:int}}/{name}", _action(name), methods=["POST"])
        for name in ("pause", "resume", "tags", "opt-out", "delete")
    ),
]
