"""The dashboard's figures and a campaign's results count texts by state the same way
(core/text_states.py): over the same texts they agree figure for figure."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from sms_service.campaigns.results import campaign_results
from sms_service.core.db import transaction
from sms_service.core.models import utcnow
from sms_service.core.scope import NETWORK
from sms_service.core.settings import Settings
from sms_service.reports.figures import range_report
from sms_service.reports.period import preset_period
from tests.helpers.campaigns import make_campaign
from tests.helpers.people import add_caregiver
from tests.helpers.reports import add_text

STATES = ["delivered", "delivered", "undelivered", "sent", "failed", "cancelled", "pending"]


def test_the_dashboard_and_a_campaign_count_the_same_texts_alike(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    now = utcnow()
    with transaction(sessions) as session:
        campaign = make_campaign(
            session, settings, times=[datetime(2031, 4, 7, 10, 0)], now=now, schedule=False
        ).id
        for state in STATES:  # the only texts in the database: the dashboard sees these too
            add_text(
                session,
                add_caregiver(session),
                at=now - timedelta(days=1),
                kind="campaign",
                campaign_id=campaign,
                state=state,
            )
    zone = settings.zone
    period = preset_period("week", today=now.astimezone(zone).date(), zone=zone)
    with sessions() as session:
        report = range_report(session, period=period, scope=NETWORK)
        results = campaign_results(session, campaign)
    assert results.planned == report.planned == 7
    assert results.sent == report.sent == 4  # delivered, undelivered, awaiting a report
    assert results.delivered == report.delivered == 2
    assert results.cancelled == report.cancelled == 1
    assert results.pending == report.pending == 1
    assert report.awaiting == 1
    assert results.failed == report.failed + report.undelivered == 2
