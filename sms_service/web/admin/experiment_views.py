"""Experiments on tip wording: the list, each one's results per arm, starting one from a tip's
page and stopping it keeping wording A or B (network admins; everyone signed in may read)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sms_service.core.errors import NotFound
from sms_service.experiments.records import (
    ExperimentRefused,
    families_exposed,
    get_experiment,
    list_experiments,
    start_experiment,
    stop_experiment,
    wording_a,
)
from sms_service.experiments.results import experiment_results
from sms_service.tips.editing import TipNotFound, TipRefused
from sms_service.web.admin.support import flash, redirect, take_flash
from sms_service.web.admin.templating import render
from sms_service.web.admin.tip_views import MAX_TEXT, content_themes, show_tip
from sms_service.web.context import app_context, in_read_transaction, in_transaction
from sms_service.web.guards import current_staff, posted_form, require_network_admin

START_FIELDS = ("wording_b", "share_b_percent", "stop_date", "target_size")


async def experiments(request: Request) -> Response:
    """Every experiment, running first, with the families assigned so far."""

    def work(session: Session) -> list[tuple[Any, int]]:
        return [(row, families_exposed(session, row.id)) for row in list_experiments(session)]

    rows = await in_read_transaction(request, work)
    return render(request, "experiments.html", experiments=rows, **take_flash(request))


async def experiment_page(request: Request) -> Response:
    """One experiment: both wordings, counts and rates per arm, B - A with its 95% interval
    and the sentence; stop-and-keep buttons for network admins. A partner's staff see their
    own families' counts."""
    experiment_id = int(request.path_params["experiment_id"])
    scope = current_staff(request).scope

    def work(session: Session) -> dict[str, Any]:
        row = get_experiment(session, experiment_id)
        return {
            "results": experiment_results(session, row, scope=scope),
            "tip": row.tip,
            "exposed": families_exposed(session, row.id),
            "wording_a": wording_a(session, row),
        }

    data = await in_read_transaction(request, work)
    return render(request, "experiment.html", **data, **take_flash(request))


def _field(form: FormData, name: str, limit: int = 40) -> str:
    raw = form.get(name)
    return raw[:limit].strip() if isinstance(raw, str) else ""


def parse_start_form(form: FormData, *, zone: ZoneInfo) -> dict[str, Any]:
    """The start form's share, stop moment (the end of the stop date in the program's time
    zone) and target size; ExperimentRefused names a field it cannot read."""
    try:
        share = float(_field(form, "share_b_percent") or "50") / 100
    except ValueError:
        raise ExperimentRefused("write wording B's share as a percentage, e.g. 50") from None
    stop_at = None
    if raw_date := _field(form, "stop_date"):
        try:
            day = date.fromisoformat(raw_date)
        except ValueError:
            raise ExperimentRefused("write the stop date as YYYY-MM-DD") from None
        stop_at = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    target = None
    if raw_target := _field(form, "target_size"):
        if not raw_target.isdigit():
            raise ExperimentRefused("write the number of families as a whole number")
        target = int(raw_target)
    return {"share_b": share, "stop_at": stop_at, "target_size": target}


async def start(request: Request) -> Response:
    """Start an experiment on the tip with the typed wording B (refused with the checker's
    findings when wording B fails it)."""
    form = await posted_form(request)
    staff = require_network_admin(request)
    tip_id = str(request.path_params["tip_id"])
    zone = app_context(request).settings.zone

    def work(session: Session) -> int:
        fields = parse_start_form(form, zone=zone)
        row = start_experiment(
            session,
            tip_id=tip_id,
            wording_b=_field(form, "wording_b", MAX_TEXT),
            library=content_themes(),
            actor=staff.actor,
            **fields,
        )
        return row.id

    try:
        experiment_id = await in_transaction(request, work)
    except TipNotFound:
        raise NotFound(f"no tip {tip_id}") from None
    except (ExperimentRefused, TipRefused) as refused:
        findings = refused.check.errors if isinstance(refused, TipRefused) and refused.check else []
        details = "; ".join(finding.message for _, finding in findings)
        # The tip's page again, with what was typed: nothing is lost to a refusal.
        typed = {name: _field(form, name, MAX_TEXT) for name in START_FIELDS}
        return await show_tip(
            request,
            tip_id,
            status_code=400,
            error=f"Not started: {refused}{': ' + details if details else ''}.",
            experiment_form=typed,
        )
    flash(request, f"Experiment {experiment_id} started on {tip_id}.")
    return redirect(f"/admin/experiments/{experiment_id}")


async def stop(request: Request) -> Response:
    """Stop the experiment, keeping wording A (the tip stays) or B (the tip's new version)."""
    form = await posted_form(request)
    staff = require_network_admin(request)
    experiment_id = int(request.path_params["experiment_id"])
    keep = _field(form, "keep", 1)

    def work(session: Session) -> str:
        row = stop_experiment(
            session,
            experiment_id=experiment_id,
            keep="B" if keep == "B" else "A",
            library=content_themes(),
            actor=staff.actor,
        )
        if keep == "B":
            return f"Stopped. Wording B is now {row.tip_id}'s text, version {row.tip.version}."
        return f"Stopped. {row.tip_id} keeps its own wording (A)."

    try:
        message = await in_transaction(request, work)
    except (ExperimentRefused, TipRefused) as refused:
        flash(request, f"Not stopped: {refused}.", "error")
    else:
        flash(request, message)
    return redirect(f"/admin/experiments/{experiment_id}")


routes = [
    Route("/experiments", experiments, methods=["GET"]),
    Route("/experiments/{experiment_id:int}", experiment_page, methods=["GET"]),
    Route("/experiments/{experiment_id:int}/stop", stop, methods=["POST"]),
    Route("/content/tips/{tip_id}/experiment", start, methods=["POST"]),
]
