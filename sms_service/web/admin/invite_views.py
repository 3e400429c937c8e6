"""Invitations: import a CSV (pasted or uploaded) and see the families invited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sms_service.core.models import Partner, utcnow
from sms_service.texting.invites import (
    ImportReport,
    InviteFileError,
    import_invites,
    recent_invitations,
)
from sms_service.web.admin.forms import query_number, text_field
from sms_service.web.admin.templating import render
from sms_service.web.context import app_context, in_read_transaction, in_transaction
from sms_service.web.guards import current_staff, posted_form

MAX_CSV_CHARS = 500_000


async def _page(request: Request, status_code: int = 200, **context: Any) -> Response:
    scope = current_staff(request).scope

    def work(session: Session) -> tuple[list[Any], list[Partner]]:
        partners = session.scalars(select(Partner).where(scope.partners()).order_by(Partner.name))
        return recent_invitations(session, scope=scope), list(partners)

    rows, partners = await in_read_transaction(request, work)
    context.setdefault("csv_text", "")
    context.setdefault("partner_id", None)
    return render(
        request,
        "invitations.html",
        status_code=status_code,
        rows=rows,
        partners=partners,
        **context,
    )


async def invitations(request: Request) -> Response:
    return await _page(request)


async def invitations_import(request: Request) -> Response:
    form = await posted_form(request, max_files=1)
    staff = current_staff(request)
    settings = app_context(request).settings
    text = text_field(form, "csv", MAX_CSV_CHARS, strip=False)
    try:
        upload = form.get("file")
        if isinstance(upload, UploadFile) and upload.filename:
            text = (await upload.read(MAX_CSV_CHARS * 4)).decode("utf-8-sig")[:MAX_CSV_CHARS]
    except UnicodeDecodeError:
        problem = "the file is not UTF-8 text (save it as CSV UTF-8)"
        return await _page(request, 422, problems=[problem])
    finally:
        await form.close()  # the uploaded file's temporary copy
    partner_id = query_number(text_field(form, "partner_id", 12))

    def work(session: Session) -> ImportReport:
        return import_invites(
            session,
            text=text,
            settings=settings,
            actor=staff.actor,
            now=utcnow(),
            partner_id=partner_id,
        )

    try:
        report = await in_transaction(request, work)
    except InviteFileError as error:
        return await _page(
            request, 422, problems=error.problems, csv_text=text, partner_id=partner_id
        )
    return await _page(request, report=report, notice=report.summary())


routes = [
    Route("/invitations", invitations, methods=["GET"]),
    Route("/invitations", invitations_import, methods=["POST"]),
]
