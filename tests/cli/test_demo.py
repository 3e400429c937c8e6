"""`sms-tips demo` fills an empty local database with a living admin, once, never in production."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from sms_service.core.db import build_engine, build_sessionmaker
from sms_service.core.models import (
    Campaign,
    Caregiver,
    Child,
    InboundMessage,
    OutboundMessage,
    Partner,
)
from tests.cli.test_cli import run_cli


def test_demo_fills_a_new_database_once(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    environ = {"DATABASE_URL": f"sqlite:///{path}"}
    result = run_cli("demo", env=environ, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "sign in at /admin/login as demo-admin@example.org with password" in result.stdout
    # A partner's admin too, who sees only the families that joined through Eastside.
    assert "sign in at /admin/login as demo-eastside@example.org with password" in result.stdout
    engine = build_engine(f"sqlite:///{path}")
    with build_sessionmaker(engine)() as session:
        by_partner = dict(
            session.execute(
                select(Partner.slug, func.count(Caregiver.id))
                .join(Caregiver, Caregiver.partner_id == Partner.id)
                .group_by(Partner.slug)
            ).all()
        )
        assert set(by_partner) == {"program", "eastside"} and min(by_partner.values()) >= 3
        languages = session.scalars(select(Caregiver.language).distinct()).all()
        assert sorted(languages) == ["en", "es"]
        statuses = set(session.scalars(select(Caregiver.status)))
        assert {"active", "paused", "opted_out", "invited", "undeliverable"} <= statuses
        names = set(session.scalars(select(Child.name)))
        assert {"José", "Ángel", "Zoë"} <= names
        expected = session.scalar(select(func.count()).where(Child.is_expected.is_(True)))
        assert expected and expected >= 2
        urgent = session.scalar(select(func.count()).where(InboundMessage.urgent.is_(True)))
        assert urgent and urgent >= 2
        campaigns = set(session.scalars(select(Campaign.status)))
        assert campaigns == {"draft", "scheduled", "done", "review"}
        # Eastside's local message waits for the network admin, for its families only.
        local = session.scalars(select(Campaign).where(Campaign.status == "review")).one()
        assert local.partner_id is not None and local.audience["partners"] == [local.partner_id]
        codes = set(session.scalars(select(OutboundMessage.error_code).distinct()))
        assert {"30003", "30005", "30006", "30007", "21610"} <= codes
        delivered = session.scalar(select(func.count()).where(OutboundMessage.state == "delivered"))
        assert delivered and delivered > 40
    engine.dispose()
    again = run_cli("demo", env=environ, cwd=tmp_path)
    assert again.returncode == 1
    assert again.stderr.strip().splitlines()[-1] == (
        "sms-tips: the database is not empty: demo data fills only a new database "
        "(point DATABASE_URL at a new file, e.g. sqlite:///demo.db)"
    )  # after the migration's log lines


def test_demo_is_refused_in_production(tmp_path: Path) -> None:
    environ = {"DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}", "SMS_TIPS_ENV": "production"}
    result = run_cli("demo", env=environ, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "sms-tips: demo data is refused when SMS_TIPS_ENV=production"
    assert not (tmp_path / "p.db").exists()
