"""One tip's page: its text and versions with the families sent each, and the replies and
opt-outs after it, the same figures as its row of the dashboard's results per tip."""

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
from tests.helpers.people import add_caregiver
from tests.helpers.reports import add_opt_out, add_parent_text, add_text


def _seed(sessions: sessionmaker[Session]) -> tuple[str, str, str]:
    """A Spanish tip sent to three families: one answers, one stops, one writes too late."""
    now = utcnow()
    with transaction(sessions) as session:
        sync_library(session, load_library())
        tip = session.scalars(select(Tip).where(Tip.language == "es").order_by(Tip.id)).first()
        assert tip is not None
        answers, stops, late = (add_caregiver(session, language="es") for _ in range(3))
        sent = now - timedelta(days=5)
        for family in (answers, stops, late):
            add_text(session, family, at=sent, tip_id=tip.id, body=tip.text).tip_version = 1
        add_parent_text(session, answers, at=sent + timedelta(hours=3), body="¡Le encantó!")
        add_opt_out(session, stops, at=sent + timedelta(hours=1))
        add_parent_text(session, late, at=sent + timedelta(hours=60), body="gracias, tarde")
        return tip.id, tip.text, answers.phone


def test_a_tip_page_shows_its_versions_replies_and_opt_outs(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    tip_id, text, phone = _seed(sessions)
    dashboard = web.get("/admin/?range=4weeks").text
    link = f'href="/admin/content/tips/{tip_id}?range=4weeks"'
    assert link in dashboard  # the per-tip results lead to the tip's page
    row = re.search(r'<table id="tip-results">.*?</table>', dashboard, re.S)
    assert row is not None and tip_id in row.group(0)

    page = web.get(f"/admin/content/tips/{tip_id}?range=4weeks").text
    assert f'lang="es">{text}' in page.replace("&#39;", "'")  # the version's text, marked es
    versions = re.search(r'<table id="tip-versions">.*?</table>', page, re.S)
    assert versions is not None
    assert re.search(r"<td>1</td>.*?<td>3</td><td>3</td>", versions.group(0), re.S)  # v1: 3
    assert '<b id="tip-sent">3</b>' in page
    assert '<b id="tip-replies">1</b>' in page  # the late text is past 48 hours
    assert '<b id="tip-answered">1</b>' in page and "(33%)" in page
    assert '<b id="tip-opt-outs">1</b>' in page
    assert '<td lang="es">¡Le encantó!</td>' in page
    assert "gracias, tarde" not in page
    assert phone not in page and phone[-4:] in page  # masked for staff
    # The same figures as the dashboard's row for the tip.
    cells = re.findall(r"<td>(\d+)</td>", row.group(0).split(tip_id, 1)[1].split("</tr>")[0])
    assert cells[:1] == ["3"] and cells[-2:] == ["1", "1"]


def test_the_tip_page_is_for_signed_in_staff_and_known_tips(
    web: TestClient, sessions: sessionmaker[Session]
) -> None:
    tip_id, _, _ = _seed(sessions)
    signed_out = web.get(f"/admin/content/tips/{tip_id}", follow_redirects=False)
    assert signed_out.status_code in (302, 303, 307)
    assert "/admin/login" in signed_out.headers["location"]


def test_an_unknown_tip_or_range_is_answered_clearly(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    tip_id, _, _ = _seed(sessions)
    assert web.get("/admin/content/tips/es-nothing-here").status_code == 404
    refused = web.get(f"/admin/content/tips/{tip_id}?range=custom&from=2026-13-40&to=x")
    assert refused.status_code == 200 and 'role="alert"' in refused.text
