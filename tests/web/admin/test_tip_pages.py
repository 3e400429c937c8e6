"""The tip pages: staff may look, only admins may edit; the live checker answers JSON; a save
with a checker error is refused at the field; a good save is the next version."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from content.library import load_library
from sms_service.core.db import transaction
from sms_service.core.models import Tip as TipRow
from sms_service.tips.sync import sync_library

TIP = "en-w000-your-face"
GOOD = (
    "{Child} loves your face most of all. During a feed, let your eyes meet and smile. "
    "Your face is the first picture your baby learns by heart."
)
DEFICIT = "You should look at {child} during every feed. Your face is what your baby knows."


@pytest.fixture
def tips(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        sync_library(session, load_library())


def form(csrf: str, text: str, **extra: str) -> dict[str, str]:
    fields = {"csrf_token": csrf, "language": "en", "min_week": "0", "max_week": "3"}
    return {**fields, "theme": "connection", "text": text, "version": "1", **extra}


@pytest.mark.usefixtures("tips")
def test_staff_see_a_tip_but_may_not_change_one(web: TestClient, staff_csrf: str) -> None:
    page = web.get(f"/admin/content/tips/{TIP}")
    assert page.status_code == 200
    assert 'id="tip-versions"' in page.text and 'id="tip-form"' not in page.text
    for path, data in [
        (f"/admin/content/tips/{TIP}", form(staff_csrf, GOOD)),
        (f"/admin/content/tips/{TIP}/retire", {"csrf_token": staff_csrf}),
        (f"/admin/content/tips/{TIP}/restore", {"csrf_token": staff_csrf}),
        ("/admin/content/tips", form(staff_csrf, GOOD, id="en-new")),
        ("/admin/content/check-tip", form(staff_csrf, GOOD, editing=TIP)),
    ]:
        assert web.post(path, data=data).status_code == 403, path
    assert web.get("/admin/content/tips/new").status_code == 403


@pytest.mark.usefixtures("tips")
def test_the_live_check_and_a_refused_then_accepted_save(
    web: TestClient, admin_csrf: str, sessions: sessionmaker[Session]
) -> None:
    checked = web.post(
        "/admin/content/check-tip",
        data=form(admin_csrf, DEFICIT, editing=TIP),
        headers={"X-CSRF-Token": admin_csrf},
    ).json()
    assert [(f["field"], f["rule"]) for f in checked["findings"]] == [("text", "framing")]
    assert checked["preview"].startswith("Little Moments: You should look at your baby")
    assert checked["size"].startswith("1 text at most")

    refused = web.post(f"/admin/content/tips/{TIP}", data=form(admin_csrf, DEFICIT))
    assert refused.status_code == 400
    assert "deficit framing &#39;You should&#39;" in refused.text
    saved = web.post(
        f"/admin/content/tips/{TIP}", data=form(admin_csrf, GOOD), follow_redirects=False
    )
    assert saved.status_code == 303
    assert "is now version 2" in web.get(saved.headers["location"]).text
    with sessions() as session:
        row = session.get_one(TipRow, TIP)
        assert (row.version, row.text) == (2, GOOD)
    # The library page lists the files, and says which tips the admin changed.
    library = web.get("/admin/content?language=en").text
    assert "v2, <b>changed in the admin</b>" in library


@pytest.mark.usefixtures("tips")
def test_a_missing_tip_is_a_page_not_a_crash(web: TestClient, admin_csrf: str) -> None:
    assert web.get("/admin/content/tips/en-nothing").status_code == 404
    assert web.get("/admin/content/tips/new").status_code == 200


REPLACEMENT = (
    "Hold {child} close on your chest while you both are awake. Your warm skin and your "
    "heartbeat help your baby settle."
)


@pytest.mark.usefixtures("tips")
def test_an_admin_adds_a_replacement_and_a_retirement_that_leaves_a_gap_is_refused(
    web: TestClient, admin_csrf: str, sessions: sessionmaker[Session]
) -> None:
    fields = form(admin_csrf, REPLACEMENT, min_week="2", max_week="5", id="en-w001-chest-hold")
    alone = web.post("/admin/content/tips", data=fields)
    assert alone.status_code == 400
    assert "no family would receive en-w153-share-what-you-know anymore" in alone.text
    added = web.post(
        "/admin/content/tips",
        data={**fields, "replaces": "en-w001-bare-chest"},
        follow_redirects=False,
    )
    assert added.headers["location"] == "/admin/content/tips/en-w001-chest-hold"
    refused = web.post(
        "/admin/content/tips/en-w001-chest-hold/retire", data={"csrf_token": admin_csrf}
    )
    assert "add its replacement first" in refused.text
    with sessions() as session:
        assert session.get_one(TipRow, "en-w001-bare-chest").retired_at is not None
        assert session.get_one(TipRow, "en-w001-chest-hold").retired_at is None
