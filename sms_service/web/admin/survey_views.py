"""Surveys: the list (start the shipped one, start or stop), a new one written by staff, each
survey's results and CSV."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from content.survey_specs import MAX_QUESTIONS, SurveySpecError
from sms_service.core.models import Partner, Survey, utcnow
from sms_service.surveys.definitions import (
    SurveyError,
    create_survey,
    install_default,
    start_survey,
    stop_survey,
)
from sms_service.surveys.results import answers_csv, list_surveys, survey_results
from sms_service.web.admin.support import flash, redirect, take_flash
from sms_service.web.admin.survey_form import LANGUAGES, survey_from_form
from sms_service.web.admin.templating import render
from sms_service.web.context import in_read_transaction, in_transaction
from sms_service.web.guards import current_staff, posted_form, require_network_staff


async def surveys(request: Request) -> Response:
    rows = await in_read_transaction(request, lambda session: list_surveys(session=session))
    return render(request, "surveys.html", surveys=rows, **take_flash(request))


async def survey_page(request: Request) -> Response:
    survey_id, scope = request.path_params["survey_id"], current_staff(request).scope
    results = await in_read_transaction(
        request, lambda session: survey_results(session=session, survey_id=survey_id, scope=scope)
    )
    if results is None:
        return render(request, "not_found.html", status_code=404, error="There is no such survey.")
    return render(request, "survey.html", results=results)


async def survey_csv(request: Request) -> Response:
    survey_id, scope = request.path_params["survey_id"], current_staff(request).scope
    body = await in_read_transaction(
        request, lambda session: answers_csv(session=session, survey_id=survey_id, scope=scope)
    )
    if body is None:
        return render(request, "not_found.html", status_code=404, error="There is no such survey.")
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="survey-{survey_id}.csv"'},
    )


async def new_survey_page(request: Request, status_code: int = 200, **context: Any) -> Response:
    require_network_staff(request)
    partners = await in_read_transaction(
        request, lambda session: list(session.scalars(select(Partner).order_by(Partner.name)))
    )
    return render(
        request,
        "survey_new.html",
        status_code=status_code,
        partners=partners,
        languages=LANGUAGES,
        max_questions=MAX_QUESTIONS,
        values=context.pop("values", {}),
        error=context.pop("error", None),
        **context,
    )


async def create(request: Request) -> Response:
    form = await posted_form(request)
    staff = require_network_staff(request)
    try:
        spec, audience = survey_from_form(form)
        survey = await in_transaction(
            request,
            lambda session: create_survey(
                session=session, spec=spec, now=utcnow(), audience=audience, actor=staff.actor
            ),
        )
    except (SurveySpecError, SurveyError) as error:
        values = {key: value for key, value in form.items() if isinstance(value, str)}
        return await new_survey_page(request, 422, error=str(error), values=values)
    flash(request, f"{survey.name} is ready as a draft: start it to ask families.")
    return redirect("/admin/surveys")


async def install(request: Request) -> Response:
    await posted_form(request)
    require_network_staff(request)
    survey = await in_transaction(
        request, lambda session: install_default(session=session, now=utcnow())
    )
    flash(request, f"{survey.name} is ready as a draft: start it to ask families.")
    return redirect("/admin/surveys")


def _change(start: bool) -> Callable[[Request], Awaitable[Response]]:
    async def change(request: Request) -> Response:
        await posted_form(request)
        require_network_staff(request)
        survey_id = request.path_params["survey_id"]

        def work(session: Session) -> Survey:
            act = start_survey if start else stop_survey
            return act(session=session, survey_id=survey_id, now=utcnow())

        try:
            survey = await in_transaction(request, work)
        except SurveyError as error:
            flash(request, str(error), "error")
            return redirect("/admin/surveys")
        flash(request, f"{survey.name} is {survey.status}.")
        return redirect("/admin/surveys")

    return change


routes = [
    Route("/surveys", surveys, methods=["GET"]),
    Route("/surveys", create, methods=["POST"]),
    Route("/surveys/new", new_survey_page, methods=["GET"]),
    Route("/surveys/default", install, methods=["POST"]),
    Route("/surveys/{survey_id:int}", survey_page, methods=["GET"]),
    Route("/surveys/{survey_id:int}/answers.csv", survey_csv, methods=["GET"]),
    Route("/surveys/{survey_id:int}/start", _change(True), methods=["POST"]),
    Route("/surveys/{survey_id:int}/stop", _change(False), methods=["POST"]),
]
