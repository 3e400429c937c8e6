"""Jinja2 templates of the admin, always autoescaped: whatever a parent texts shows as text."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from content.languages import languages
from content.library import LANGUAGES
from content.segments import SegmentInfo, in_words
from sms_service.core.phones import mask
from sms_service.web.context import app_context
from sms_service.web.guards import csrf_token

TEMPLATES_DIR = Path(__file__).parent / "templates"


def _local(value: Any, zone: str = "UTC", fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return str(value.astimezone(ZoneInfo(zone)).strftime(fmt))


PAGE_LANGUAGE = "en"  # base.html's <html lang>: text in any other language is marked
# Staff read the admin in English; a language without an English name here shows its own.
_ENGLISH_NAMES = {"en": "English", "es": "Spanish"}


def language_label(code: str) -> str:
    """The name staff see for a language code: "Spanish" for es."""
    known = languages().get(code)
    return _ENGLISH_NAMES.get(code) or (known.name if known else code)


def _lang(code: str | None) -> Markup:
    """` lang="es"` for text in a language other than the admin's own (English), else ""."""
    if not code or code == PAGE_LANGUAGE:
        return Markup("")
    return Markup(' lang="{}"').format(code)


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else ""


def _segment_words(info: SegmentInfo, language_name: str = "") -> str:
    return in_words(info, language_name=language_name)


def _context(request: Request) -> dict[str, Any]:
    settings = app_context(request).settings
    return {
        "csrf_token": csrf_token(request),
        "staff": getattr(request.state, "staff", None),
        "inbox_waiting": getattr(request.state, "inbox_waiting", 0),
        "program_name": settings.program_name,
        "program_zone": settings.timezone,
        "messages_per_week": settings.messages_per_week,
    }


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,  # every template, whatever its name
    undefined=jinja2.StrictUndefined,
)
_env.filters["mask"] = mask
_env.filters["local"] = _local
_env.filters["lang"] = _lang
_env.filters["percent_of"] = _percent
_env.filters["segment_words"] = _segment_words
_env.globals["languages"] = LANGUAGES  # the language filters and campaign texts
_env.globals["language_label"] = language_label
templates = Jinja2Templates(env=_env, context_processors=[_context])


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
    """Render an admin page."""
    return templates.TemplateResponse(request, name, context, status_code=status_code)
