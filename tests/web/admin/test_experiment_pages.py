"""The experiment pages and API: admins start one from a tip's page and stop it keeping a
wording; staff read; refusals say why and write nothing."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from sms_service.core.audit import CLI_ACTOR
from sms_service.core.db import transaction
from sms_service.core.models import AuditLog, Experiment, Tip
from sms_service.staff.tokens import create_api_token
from tests.helpers.people import add_staff
from tests.helpers.tips import add_probe_tip

TIP = "en-probe"
WORDING_B = "Hello {child}, your smile lights up the room."


def _tip(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        add_probe_tip(session, TIP)


def test_an_admin_starts_an_experiment_and_stops_it_keeping_b(
    web: TestClient, admin_csrf: str, sessions: sessionmaker[Session]
) -> None:
    _tip(sessions)
    assert "Try a second wording" in web.get(f"/admin/content/tips/{TIP}").text
    form = {"csrf_token": admin_csrf, "wording_b": WORDING_B, "share_b_percent": "30"}
    refused = web.post(f"/admin/content/tips/{TIP}/experiment", data=form)
    assert refused.status_code == 400
    assert "Not started: give a stop date or a number of families." in refused.text
    # What was typed comes back in the form.
    assert f">{WORDING_B}</textarea>" in refused.text and 'value="30"' in refused.text
    stale = {**form, "stop_date": "2020-01-01"}
    assert (
        "the stop date has passed"
        in web.post(f"/admin/content/tips/{TIP}/experiment", data=stale).text
    )
    started = web.post(f"/admin/content/tips/{TIP}/experiment", data={**form, "target_size": "200"})
    assert f"started on {TIP}" in started.text
    assert "What each wording led to" in started.text
    assert "no family has been sent wording A and B yet" in started.text
    with sessions() as session:
        experiment = session.scalars(select(Experiment)).one()
        assert (experiment.share_b, experiment.target_size) == (0.3, 200)
    tip_page = web.get(f"/admin/content/tips/{TIP}").text
    assert "In a running experiment" in tip_page and "Try a second wording" not in tip_page
    listing = web.get("/admin/experiments").text
    assert f"Experiment {experiment.id}" in listing and "after 200 families" in listing

    stopped = web.post(
        f"/admin/experiments/{experiment.id}/stop", data={"csrf_token": admin_csrf, "keep": "B"}
    )
    assert "Wording B is now en-probe&#39;s text, version 2." in stopped.text
    with sessions() as session:
        tip = session.get_one(Tip, TIP)
        assert (tip.text, tip.version) == (WORDING_B, 2)
        actions = session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions[-3:] == [
        "sms_service.experiments.start",
        "sms_service.tips.edit",
        "sms_service.experiments.stop",
    ]
    again = web.post(
        f"/admin/experiments/{experiment.id}/stop", data={"csrf_token": admin_csrf, "keep": "A"}
    )
    assert "Not stopped: the experiment is already stopped." in again.text
    assert web.get("/admin/experiments/999").status_code == 404


def test_a_wording_that_fails_the_checker_is_refused_with_its_findings(
    web: TestClient, admin_csrf: str, sessions: sessionmaker[Session]
) -> None:
    _tip(sessions)
    form = {"csrf_token": admin_csrf, "wording_b": "word " * 120, "target_size": "50"}
    refused = web.post(f"/admin/content/tips/{TIP}/experiment", data=form)
    assert "Not started: the checker found" in refused.text
    with sessions() as session:
        assert session.scalars(select(Experiment)).all() == []


def test_staff_read_but_only_network_admins_start_or_stop(
    web: TestClient, staff_csrf: str, sessions: sessionmaker[Session]
) -> None:
    _tip(sessions)
    with transaction(sessions) as session:
        session.add(Experiment(id=7, tip_id=TIP, wording_b=WORDING_B, share_b=0.5))
    page = web.get("/admin/experiments/7")
    assert page.status_code == 200 and "Stop and keep" not in page.text
    form = {"csrf_token": staff_csrf, "wording_b": WORDING_B, "target_size": "50"}
    assert web.post(f"/admin/content/tips/{TIP}/experiment", data=form).status_code == 403
    stop = web.post("/admin/experiments/7/stop", data={"csrf_token": staff_csrf, "keep": "B"})
    assert stop.status_code == 403


def test_the_api_lists_experiments_and_gives_results(
    app: Starlette, sessions: sessionmaker[Session]
) -> None:
    _tip(sessions)
    with transaction(sessions) as session:
        session.add(Experiment(id=7, tip_id=TIP, wording_b=WORDING_B, share_b=0.5))
        staff_id = add_staff(session, "sam@example.org")
        token = create_api_token(session, staff_user_id=staff_id, name="t", actor=CLI_ACTOR)
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as api:
        [listed] = api.get("/api/experiments").json()
        assert (listed["id"], listed["tip_id"], listed["status"]) == (7, TIP, "running")
        results = api.get("/api/experiments/7").json()
        assert results["arms"]["A"]["sent"] == 0
        assert [c["outcome"] for c in results["comparisons"]] == [
            "delivered",
            "replied_48h",
            "opted_out_7d",
        ]
        assert api.get("/api/experiments/8").status_code == 404
