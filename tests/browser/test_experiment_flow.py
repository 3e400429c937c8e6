"""Staff run a survey and an experiment on a tip's wording end to end in a real browser.

Write and start a survey, start an experiment on a tip from its page; the real planner plans
both (each family's wording joined in SQL) and the real dispatcher sends them to a fake
Twilio; delivery reports come back signed, simulated families answer the survey, some reply
to the tip and some text STOP; the survey's page shows the answers' distribution and the
experiment's page each arm's counts with an interval equal to a hand computation below.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from jobs.planner import plan
from sms_service.core.db import transaction
from sms_service.core.models import Caregiver, utcnow
from sms_service.core.settings import Settings
from sms_service.experiments.assignment import arm_for
from sms_service.tips.sync import record_version
from sms_service.web.app import create_app
from tests.browser.conftest import screenshot
from tests.fakes.twilio_server import FakeTwilio
from tests.helpers.dispatch import dispatch_to_fake, report_status
from tests.helpers.live_server import live_server
from tests.helpers.people import PASSWORD, add_caregiver, add_staff
from tests.helpers.settings import make_settings
from tests.helpers.texting import Phone
from tests.jobs.factories import make_tip, tip_library

pytestmark = pytest.mark.browser

FAMILIES = 24
TIP = "en-song"  # weeks 12-13, ranked first: every 13-week-old's next tip
TIP_TEXT = "Hum a song to {child} as you get dressed."
WORDING_B = "Sing a short song to {child} while you get dressed. Your voice calms."
QUESTION = "On how many days this week did you sing with {child}? Reply 0-7"
SURVEY = {
    "name": "Singing together",
    "q1_min": "0",
    "q1_max": "7",
    "q1_ask_en": QUESTION,
    "q1_ask_es": "¿Cuántos días esta semana cantaste con {child}? Responde 0-7",
    "q1_reask_en": "Thanks! Any number from 0 to 7 works: on how many days did you sing?",
    "q1_reask_es": "¡Gracias! Manda un número del 0 al 7: ¿cuántos días cantaron?",
    "thanks_en": "Thank you! Your answers help us make our texts better for you.",
    "thanks_es": "¡Gracias! Tus respuestas nos ayudan a mejorar estos mensajes.",
}
Z = 1.959963984540054


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Any time of day (quiet hours of one minute), and room for a survey and a tip a week.
    return make_settings(
        database_url, SMS_TIPS_QUIET_HOURS="23:59-00:00", SMS_TIPS_MESSAGES_PER_WEEK="2"
    )


def _wilson(count: int, total: int) -> tuple[float, float]:
    """By hand: Wilson's score interval, p + z^2/2n -/+ z sqrt(p(1-p)/n + z^2/4n^2), over
    1 + z^2/n."""
    p = count / total
    centre = p + Z * Z / (2 * total)
    spread = Z * math.sqrt(p * (1 - p) / total + Z * Z / (4 * total * total))
    return (centre - spread) / (1 + Z * Z / total), (centre + spread) / (1 + Z * Z / total)


def _newcombe(a: int, n_a: int, b: int, n_b: int) -> tuple[float, float]:
    """By hand: Newcombe's hybrid score interval for p_B - p_A from both Wilson intervals."""
    p_a, p_b = a / n_a, b / n_b
    (la, ua), (lb, ub) = _wilson(a, n_a), _wilson(b, n_b)
    d = p_b - p_a
    return d - math.sqrt((p_b - lb) ** 2 + (ua - p_a) ** 2), d + math.sqrt(
        (ub - p_b) ** 2 + (p_a - la) ** 2
    )


def _families(sessions: sessionmaker[Session], settings: Settings) -> list[tuple[int, str]]:
    """Families whose weekly slot is this hour, each with a 13-week-old: (id, phone)."""
    local = utcnow().astimezone(settings.zone)
    with transaction(sessions) as session:
        session.add_all(tip_library())
        tip = make_tip(TIP, "en", (12, 13), TIP_TEXT)
        session.add(tip)
        session.flush()
        record_version(session, tip, source="files", author="cli")  # as a load records it
        add_staff(session, "ada@example.org", "admin")
        rows = []
        for n in range(FAMILIES):
            family = add_caregiver(
                session,
                phone=f"+1212555{7000 + n:04d}",
                child_name="Mia",
                child_age_days=13 * 7 + 3,
                today=local.date(),
                enrolled_at=utcnow() - timedelta(days=30),
            )
            family.send_weekday, family.send_hour = local.weekday(), local.hour
            rows.append((family.id, family.phone))
        session.flush()
        assert session.query(Caregiver).count() == FAMILIES
    return rows


def test_staff_run_a_survey_and_an_experiment_and_read_both_results(
    page: Page, settings: Settings, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    families = _families(sessions, settings)
    page.on("dialog", lambda dialog: dialog.accept())
    with FakeTwilio() as fake, live_server(create_app(settings, engine=engine)) as base:
        page.goto(base + "/admin/login")
        page.fill("#email", "ada@example.org")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")

        # The survey: written in the admin, saved as a draft, then started.
        page.goto(base + "/admin/surveys/new")
        for name, value in SURVEY.items():
            page.fill(f"#{name}", value)
        page.click("text=Save the survey as a draft")
        expect(page).to_have_url(base + "/admin/surveys")
        page.click("button:has-text('Start asking')")
        expect(page.locator("#surveys")).to_contain_text("active")

        # The experiment: a wording that fails the checker is refused, then a good one starts.
        page.goto(base + f"/admin/content/tips/{TIP}")
        page.fill("#wording_b", "x" * 400)
        page.fill("#target_size", "1000")
        page.click("text=Start the experiment")
        expect(page.locator(".flash.error")).to_contain_text("Not started")
        expect(page.locator("#wording_b")).to_have_value("x" * 400)  # nothing typed is lost
        page.fill("#wording_b", WORDING_B)
        page.fill("#share_b_percent", "50")
        page.fill("#target_size", "1000")
        page.click("text=Start the experiment")
        expect(page).to_have_url(re.compile(r"/admin/experiments/\d+$"))
        experiment_id = int(page.url.rsplit("/", 1)[1])
        expect(page.locator("#experiment-status")).to_have_text("running")
        screenshot(page, "experiment-01-started")

        # The planner and the dispatcher, for real, against the fake Twilio.
        report = plan(engine, now=utcnow(), settings=settings)
        assert (report.planned, report.asked) == (FAMILIES, FAMILIES)
        dispatch_to_fake(sessions, settings, fake)
        assert fake.violations == []
        arms = {
            phone: arm_for(
                experiment_id=experiment_id, caregiver_id=id_, share_b=0.5, language="en"
            )
            for id_, phone in families
        }
        assert set(arms.values()) == {"A", "B"}
        for phone, arm in arms.items():
            bodies = [m["body"] for m in fake.sent_to(phone)]
            wording = (WORDING_B if arm == "B" else TIP_TEXT).replace("{child}", "Mia")
            assert f"Little Moments: {wording}" in bodies  # its arm's wording, and only it
            other = (TIP_TEXT if arm == "B" else WORDING_B).replace("{child}", "Mia")
            assert f"Little Moments: {other}" not in bodies
            assert any("sing with Mia" in body for body in bodies)  # the survey question

        # Delivery reports; families answer the survey, some reply, some stop.
        undelivered = {phone for n, (_, phone) in enumerate(families) if n % 6 == 5}
        for message in fake.messages:
            failed = message["to"] in undelivered and "Reply 0-7" not in message["body"]
            report_status(base, settings, message["sid"], "undelivered" if failed else "delivered")
        expected = {arm: {"sent": 0, "delivered": 0, "replied": 0, "stopped": 0} for arm in "AB"}
        answers = [0] * 8
        with httpx.Client(base_url=base) as client:
            for n, (_, phone) in enumerate(families):
                counts = expected[arms[phone]]
                counts["sent"] += 1
                counts["delivered"] += phone not in undelivered
                family = Phone(client, phone)
                family.text(str(n % 8))
                answers[n % 8] += 1
                if n % 3 != 1:
                    family.text("We sang it in the car!")
                    counts["replied"] += 1
                if n % 7 == 3:
                    family.text("STOP")
                    counts["stopped"] += 1

        # The survey's page: the question's distribution.
        page.goto(base + "/admin/surveys")
        page.click("text=Singing together")
        question = page.locator(".question").first
        expect(question).to_contain_text(f"{FAMILIES} answers")
        cells = question.locator("tr.all td")
        expect(cells).to_have_text([str(count) for count in answers])
        screenshot(page, "experiment-02-survey-results")

        # The experiment's page: per-arm counts and the interval, as computed by hand.
        page.goto(base + f"/admin/experiments/{experiment_id}")
        for arm, counts in expected.items():
            row = page.locator(f"#arm-{arm}")
            expect(row.locator(".sent")).to_have_text(str(counts["sent"]))
            expect(row.locator(".delivered")).to_contain_text(f"{counts['delivered']} (")
            expect(row.locator(".replied_48h")).to_contain_text(f"{counts['replied']} (")
            expect(row.locator(".opted_out_7d")).to_contain_text(f"{counts['stopped']} (")
        a, b = expected["A"], expected["B"]
        for outcome, key in (
            ("delivered", "delivered"),
            ("replied_48h", "replied"),
            ("opted_out_7d", "stopped"),
        ):
            low, high = _newcombe(a[key], a["sent"], b[key], b["sent"])
            row = page.locator(f"#compare-{outcome}")
            expect(row.locator(".interval")).to_have_text(f"{low * 100:+.1f} to {high * 100:+.1f}")
            assert float(row.get_attribute("data-low") or "nan") == pytest.approx(low, abs=1e-9)
            assert float(row.get_attribute("data-high") or "nan") == pytest.approx(high, abs=1e-9)
            clear = low > 0 or high < 0
            sentence = page.locator("#sentences li").nth(
                ["delivered", "replied_48h", "opted_out_7d"].index(outcome)
            )
            expect(sentence).to_contain_text("Clear" if clear else "Not clear yet")
        # Every family answered the survey after its tip: the answers per arm are its families.
        survey_cells = page.locator("#survey-q1 td")
        expect(survey_cells.nth(0)).to_have_text(str(a["sent"]))
        expect(survey_cells.nth(2)).to_have_text(str(b["sent"]))
        screenshot(page, "experiment-03-results")

        # Stop, keeping wording B: it becomes the tip's next version.
        page.click("text=Stop and keep wording B")
        expect(page.locator("#experiment-status")).to_have_text("stopped")
        expect(page.locator(".flash.ok")).to_contain_text("version 2")
        # The page still names what B was compared with, though the tip's text is B's now.
        expect(page.locator("#wording-a")).to_have_text(TIP_TEXT)
        expect(page.locator("#wording-b")).to_have_text(WORDING_B)
        page.goto(base + "/admin/experiments")
        expect(page.locator("#experiments")).to_contain_text("kept B")
