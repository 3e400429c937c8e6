"""The content library as staff see it: tips by language, age and theme, checker status and
segment counts, and the week-by-week sequence a child of a given age would receive."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from content.checker import WORST_NAME, CheckReport, check_library
from content.library import DEFAULT_ROOT, LANGUAGES, Library, Tip, load_library
from content.render import render_tip
from content.segments import SegmentInfo, analyze
from content.sequence import journey
from sms_service.tips.rows import tip_states
from sms_service.tips.sync import SyncRefused, sync_library
from sms_service.web.admin.support import flash, redirect, take_flash
from sms_service.web.admin.templating import render
from sms_service.web.context import app_context, in_read_transaction, in_transaction
from sms_service.web.guards import posted_form, require_network_admin

SEQUENCE_WEEKS = 12


@dataclass(frozen=True)
class CheckedLibrary:
    """The library with the checker's findings and each tip's worst-case segments."""

    library: Library
    report: CheckReport
    segments: dict[str, SegmentInfo]
    status: dict[str, str]  # tip id -> "ok" / "warning" / "error"


def _fingerprint() -> tuple[tuple[str, int], ...]:
    files = sorted(DEFAULT_ROOT.rglob("*.yaml"))
    return tuple((str(path), path.stat().st_mtime_ns) for path in files)


@lru_cache(maxsize=2)
def _checked(fingerprint: tuple[tuple[str, int], ...], program_name: str) -> CheckedLibrary:
    # Checking every tip takes seconds; the result only changes when a file does.
    library = load_library()
    report = check_library(library)
    segments = {
        tip.id: analyze(
            render_tip(
                tip.text,
                language=tip.language,
                child_name=WORST_NAME,
                age_weeks=tip.min_week,
                program_name=program_name,
            )
        )
        for tip in library.all_tips()
    }
    status: dict[str, str] = {}
    for finding in report.findings:
        if finding.item_id is not None and status.get(finding.item_id) != "error":
            status[finding.item_id] = finding.severity
    return CheckedLibrary(library, report, segments, status)


def checked_library(program_name: str) -> CheckedLibrary:
    """The checked library, recomputed only when a content file changed."""
    return _checked(_fingerprint(), program_name)


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw not in (None, "") else None
    except ValueError:
        return None


async def library_page(request: Request) -> Response:
    params = request.query_params
    language = params.get("language", "") if params.get("language") in LANGUAGES else "en"
    theme = params.get("theme", "")[:40]
    week = _int(params.get("week"))
    settings = app_context(request).settings
    checked = await run_in_threadpool(checked_library, settings.program_name)
    tips: list[Tip] = [
        tip
        for tip in checked.library.tips.get(language, [])
        if (not theme or tip.theme == theme)
        and (week is None or tip.min_week <= week <= tip.max_week)
    ]
    sequence: list[tuple[int, Tip | None]] = []
    if week is not None:
        sequence = journey(
            checked.library.tips.get(language, []),
            start_week=week,
            end_week=week + SEQUENCE_WEEKS,
        )
    general = [f for f in checked.report.findings if f.item_id is None]
    states = await in_read_transaction(request, tip_states, language)
    in_files = {tip.id for tip in checked.library.tips.get(language, [])}
    added = sorted(tip_id for tip_id, state in states.items() if tip_id not in in_files)
    return render(
        request,
        "content.html",
        tips=tips,
        checked=checked,
        language=language,
        theme=theme,
        week="" if week is None else week,
        sequence=sequence,
        general=general,
        states=states,
        added=added,
        **take_flash(request),
    )


async def sync(request: Request) -> Response:
    await posted_form(request)
    staff = require_network_admin(request)

    def work(session: Session) -> Any:
        report = sync_library(session, load_library())
        staff.actor.audit(
            session,
            "sms_service.tips.sync",
            None,
            created=len(report.created),
            updated=len(report.updated),
            retired=len(report.retired),
        )
        return report

    try:
        report = await in_transaction(request, work)
    except SyncRefused as error:
        flash(request, f"Not synced: {error}", "error")
        return redirect("/admin/content")
    flash(
        request,
        f"Synced: {len(report.created)} new, {len(report.updated)} updated, "
        f"{len(report.retired)} retired, {report.unchanged} unchanged.",
    )
    return redirect("/admin/content")


routes = [
    Route("/content", library_page, methods=["GET"]),
    Route("/content/sync", sync, methods=["POST"]),
]
