"""Spanish content in the admin is marked lang="es" (screen readers switch voice); English,
the admin's own language, is not: the content list, a tip's page, the inbox, the timeline."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from content.library import load_library
from sms_service.core.db import transaction
from sms_service.core.models import Tip, utcnow
from sms_service.tips.sync import sync_library
from tests.helpers.people import add_caregiver, add_inbox_text
from tests.helpers.reports import add_text

QUESTION_ES = "¿El centro abre el 2 de enero?"
QUESTION_EN = "Is there a group for dads near me?"


def _marked(page: str, text: str) -> str | None:
    """The lang attribute of the element whose text starts with `text` (None: not marked)."""
    found = re.search(r"<(\w+)([^>]*)>" + re.escape(text), page)
    assert found is not None, text
    lang = re.search(r'lang="(\w+)"', found.group(2))
    return lang.group(1) if lang else None


def test_spanish_text_is_marked_wherever_it_shows(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        sync_library(session, load_library())
        es_tip = session.scalars(select(Tip).where(Tip.language == "es").order_by(Tip.id)).first()
        en_tip = session.scalars(select(Tip).where(Tip.language == "en").order_by(Tip.id)).first()
        assert es_tip is not None and en_tip is not None
        spanish, english = add_caregiver(session, language="es"), add_caregiver(session)
        add_text(session, spanish, at=utcnow() - timedelta(hours=2), body="Hola desde el programa")
        asked_es = add_inbox_text(session, spanish, QUESTION_ES).id
        asked_en = add_inbox_text(session, english, QUESTION_EN).id
        ids = (es_tip.id, es_tip.text, en_tip.id, en_tip.text, spanish.id, english.id)
    es_id, es_text, en_id, en_text, spanish_id, english_id = ids
    escaped = es_text.replace("'", "&#39;")

    assert _marked(web.get("/admin/content?language=es").text, escaped) == "es"
    assert (
        _marked(web.get("/admin/content?language=en").text, en_text.replace("'", "&#39;")) is None
    )
    tip_page = web.get(f"/admin/content/tips/{es_id}").text
    assert 'id="tip-preview" lang="es"' in tip_page
    assert 'lang="es"' not in web.get(f"/admin/content/tips/{en_id}").text

    inbox = web.get("/admin/inbox").text
    assert _marked(inbox, QUESTION_ES) == "es" and _marked(inbox, QUESTION_EN) is None
    assert _marked(web.get(f"/admin/inbox/{asked_es}").text, QUESTION_ES) == "es"
    assert _marked(web.get(f"/admin/inbox/{asked_en}").text, QUESTION_EN) is None

    timeline = web.get(f"/admin/caregivers/{spanish_id}").text
    assert _marked(timeline, QUESTION_ES) == "es"
    assert _marked(timeline, "Hola desde el programa") == "es"
    assert 'lang="es"' not in web.get(f"/admin/caregivers/{english_id}").text
