"""Run in a process of its own with SMS_TIPS_CONTENT_DIR set: enroll by text, plan, print."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from content.library import load_library
from jobs.planner import plan
from sms_service.cli.common import connect
from sms_service.cli.simulator import Simulator
from sms_service.core.db import build_sessionmaker, transaction
from sms_service.core.models import Caregiver, OutboundMessage
from sms_service.core.settings import Settings
from sms_service.delivery.sendwindow import next_send_time
from sms_service.tips.sync import sync_library


def main(phone: str, answers: list[str]) -> None:
    settings = Settings.from_env(env_file=None)
    engine = connect(settings, migrate=True)
    sessions = build_sessionmaker(engine)
    with transaction(sessions) as session:
        sync_library(session, load_library())
    with Simulator(settings, engine, phone) as simulator:
        replies = [simulator.send(answer) for answer in answers]
    with transaction(sessions) as session:
        caregiver = session.scalars(select(Caregiver).where(Caregiver.phone == phone)).one()
        enrolled = caregiver.enrolled_at or datetime.now(UTC)
        zone = ZoneInfo(caregiver.timezone)
        language, status = caregiver.language, caregiver.status
        region = caregiver.region
    run = next_send_time((enrolled + timedelta(minutes=5)).astimezone(zone), region, settings)
    plan(engine, now=run.astimezone(UTC), settings=settings)
    with transaction(sessions) as session:
        tips = session.scalars(select(OutboundMessage).where(OutboundMessage.kind == "tip"))
        planned = [{"tip_id": row.tip_id, "body": row.body} for row in tips]
    print(json.dumps({"replies": replies, "language": language, "status": status, "tips": planned}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
