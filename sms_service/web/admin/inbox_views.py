"""The inbox pages: families' own texts, read, assigned and answered by staff."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from content.saved_replies import saved_replies
from sms_service.core.models import INBOX_STATES, utcnow
from sms_service.inbox.answers import answer
from sms_service.inbox.items import (
    InboxError,
    InboxFilters,
    assign,
    inbox_item,
    list_inbox,
    staff_for,
)
from sms_service.inbox.items import set_state as set_inbox_state
from sms_service.web.admin.forms import query_number, text_field
from sms_service.web.admin.support import act_then_show, take_flash
from sms_service.web.admin.templating import render
from sms_service.web.context import app_context, in_read_transaction
from sms_service.web.guards import current_staff, posted_form

STATE_CHOICES = ("open", *INBOX_STATES, "all")


def _filters(request: Request) -> InboxFilters:
    params, staff = request.query_params, current_staff(request)
    try:
        since = date.fromisoformat(params.get("since", "")[:10]) if params.get("since") else None
    except ValueError:
        since = None
    state = params.get("state", "open")
    return InboxFilters(
        state=state if state in STATE_CHOICES else "open",
        language=params.get("language", "")[:5].replace("\x00", ""),
        tag=params.get("tag", "")[:40].lower().replace("\x00", ""),
        urgent_only=params.get("urgent") == "1",
        assigned_to_id=staff.id if params.get("mine") == "1" else None,
        since=since,
    )


async def inbox_list(request: Request) -> Response:
    filters = _filters(request)
    page = query_number(request.query_params.get("page"), maximum=100_000) or 0
    scope = current_staff(request).scope
    rows = await in_read_transaction(request, list_inbox, filters, scope=scope, page=page)
    return render(
        request,
        "inbox.html",
        rows=rows,
        filters=filters,
        states=STATE_CHOICES,
        page=page,
        query=request.url.query,
        **take_flash(request),
    )


async def inbox_page(request: Request) -> Response:
    message_id, scope = request.path_params["message_id"], current_staff(request).scope

    def work(session: Session) -> dict[str, Any]:
        item = inbox_item(session, message_id, scope=scope)
        return {"item": item, "staff_users": staff_for(session, item)}

    page = await in_read_transaction(request, work)
    return render(
        request,
        "inbox_item.html",
        **page,
        saved=saved_replies(),
        states=INBOX_STATES,
        today=utcnow().date(),
        **take_flash(request),
    )


def _action(name: str) -> Any:
    async def act(request: Request) -> Response:
        form = await posted_form(request)
        message_id = request.path_params["message_id"]
        staff = current_staff(request)
        settings = app_context(request).settings

        def work(session: Session) -> str:
            if name == "answer":
                text = text_field(form, "text", 2000)
                saved = query_number(text_field(form, "saved", 4))
                if not text and saved is not None and 0 < saved <= len(saved_replies()):
                    language = inbox_item(session, message_id, scope=staff.scope).caregiver.language
                    text = saved_replies()[saved - 1].text(language)
                queued = answer(
                    session, message_id, text, actor=staff.actor, settings=settings, now=utcnow()
                )
                if queued.delayed:
                    return "Answer queued: it goes when the family's quiet hours end."
                return "Answer sent to the outbox: it goes out in a moment."
            if name == "state":
                state = text_field(form, "state", 20)
                set_inbox_state(session, message_id, state, actor=staff.actor)
                return f"Marked {state.replace('_', ' ')}."
            chosen = text_field(form, "staff_user_id", 12)
            target = staff.id if chosen == "me" else query_number(chosen)
            assign(session, message_id, target, actor=staff.actor)
            return "Assigned." if target is not None else "Unassigned."

        return await act_then_show(
            request, work, refusals=(InboxError,), then=f"/admin/inbox/{message_id}"
        )

    return act


routes = [
    Route("/inbox", inbox_list, methods=["GET"]),
    Route("/inbox/{message_id:int}", inbox_page, methods=["GET"]),
    *(
        Route(f"/inbox/{{message_id:int}}/{name}", _action(name), methods=["POST"])
        for name in ("answer", "state", "assign")
    ),
]
