"""Each role sees what it may, and nothing of another partner: the whole route table walked as
every role, and every route that takes an id tried with another partner's ids (id guessing).

Two partners, Eastside and Westside, each with a family, an inbox text, a tag and a local
message; the network has a campaign of its own. The Westside family's marks (its child's
name, tag, masked number, text and message) must never reach an Eastside account, on any page
or API answer, and nothing of Westside may change whatever an Eastside account posts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import BaseRoute, Mount, Route
from starlette.testclient import TestClient

from sms_service.core.audit import CLI_ACTOR
from sms_service.core.db import transaction
from sms_service.core.models import (
    ApiToken,
    Campaign,
    Caregiver,
    CaregiverTag,
    Child,
    Experiment,
    InboundMessage,
    StaffUser,
    utcnow,
)
from sms_service.core.settings import Settings
from sms_service.staff.tokens import create_api_token
from sms_service.surveys.definitions import install_default
from sms_service.web.guards import LOGIN_PATH
from tests.helpers.campaigns import make_campaign
from tests.helpers.partners import add_partner
from tests.helpers.people import add_caregiver, add_inbox_text, add_staff
from tests.helpers.tips import add_probe_tip
from tests.web.admin.conftest import sign_in

# Path parameters naming something that belongs to a partner: another partner's is a 404.
OWNED = {"caregiver_id", "child_id", "message_id", "campaign_id", "user_id", "token_id", "slug"}
# Path parameters naming the network's shared content, the same for everyone to read.
SHARED = {"survey_id", "tip_id", "experiment_id"}
# The survey, the probe tip and the experiment on it that the world holds.
SHARED_IDS = {"survey_id": 1, "tip_id": "1", "experiment_id": 1}
# What Westside's family and staff leave on a page that shows them.
WEST_MARKS = (
    "Wren",
    "west-market",
    "***9911",
    "+12125559911",
    "Westside question",
    "Westside market",
    "westside-helper@",
)
ROLES = ("network_admin", "network_staff", "east_admin", "east_staff")
# What each role may not open at all (403); everything else answers 200 with the role's own ids.
NEW_TIP = "/admin/content/tips/new"  # content is the network admins'
# A partner's staff answer their families; its admins write the local messages.
WRITING = {"/admin/campaigns/new", "/admin/campaigns/{campaign_id:int}/edit"}
# Partners compared, and any one partner's dashboard, are the network's staff's.
PARTNERS = {"/admin/partners", "/admin/partners/{slug}", "/admin/export/partners.csv"}
NEW_SURVEY = "/admin/surveys/new"  # a survey reaches every partner's families: the network's
FORBIDDEN: dict[str, set[str]] = {
    "network_admin": set(),
    "network_staff": {"/admin/staff", NEW_TIP},
    "east_admin": {NEW_TIP, NEW_SURVEY, "/admin/audit", *PARTNERS},
    "east_staff": {"/admin/staff", NEW_TIP, NEW_SURVEY, "/admin/audit", *PARTNERS, *WRITING},
}
_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


@dataclass
class World:
    """The ids of both partners' things, by path parameter name."""

    east: dict[str, object]
    west: dict[str, object]
    emails: dict[str, str]
    tokens: dict[str, str]


def routes_of(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path template) of every endpoint (static files left out)."""
    for route in routes:
        if isinstance(route, Mount) and route.routes:
            yield from routes_of(list(route.routes), prefix + route.path)
        elif isinstance(route, Route):
            for method in sorted(route.methods or {"GET"}):
                if method != "HEAD":
                    yield method, prefix + route.path


def filled(template: str, ids: dict[str, object]) -> str:
    return _PARAM.sub(lambda match: str(ids[match.group(1)]), template)


def params_of(template: str) -> set[str]:
    return {match.group(1) for match in _PARAM.finditer(template)}


def _side(
    session: Session, settings: Settings, slug: str, *, phone: str, child: str, tag: str
) -> dict[str, object]:
    partner = add_partner(session, settings, slug)
    family = add_caregiver(
        session, phone=phone, child_name=child, tags=(tag,), partner_id=partner.id
    )
    text = add_inbox_text(session, family, f"{slug.title()} question about naps")
    campaign = make_campaign(session, settings, times=[datetime(2031, 4, 7, 10)], now=utcnow())
    campaign.name, campaign.partner_id = f"{slug.title()} market day", partner.id
    staff = add_staff(session, f"{slug}-helper@example.org", "staff", partner_id=partner.id)
    session.flush()
    return {
        "partner_id": partner.id,
        "slug": slug,
        "caregiver_id": family.id,
        "child_id": session.scalars(select(Child.id).where(Child.caregiver_id == family.id)).one(),
        "message_id": text.id,
        "campaign_id": campaign.id,
        "user_id": staff,
    }


@pytest.fixture
def world(sessions: sessionmaker[Session], settings: Settings) -> World:
    with transaction(sessions) as session:
        east = _side(
            session, settings, "eastside", phone="+12125554411", child="Ivy", tag="east-garden"
        )
        west = _side(
            session, settings, "westside", phone="+12125559911", child="Wren", tag="west-market"
        )
        make_campaign(session, settings, times=[datetime(2031, 5, 5, 10)], now=utcnow())
        add_probe_tip(session)
        session.add(Experiment(id=1, tip_id="1", wording_b="Other words", share_b=0.5))
        install_default(session=session, now=utcnow())
        emails = {
            "network_admin": "ada@example.org",
            "network_staff": "sam@example.org",
            "east_admin": "eve@example.org",
            "east_staff": "eli@example.org",
        }
        add_staff(session, emails["network_admin"], "admin")
        add_staff(session, emails["network_staff"], "staff")
        add_staff(session, emails["east_admin"], "admin", partner_id=int(str(east["partner_id"])))
        add_staff(session, emails["east_staff"], "staff", partner_id=int(str(east["partner_id"])))
        tokens = {}
        for role, email in emails.items():
            user = session.scalars(select(StaffUser).where(StaffUser.email == email)).one()
            tokens[role] = create_api_token(
                session, staff_user_id=user.id, name=role, actor=CLI_ACTOR
            )
        west_user = int(str(west["user_id"]))
        create_api_token(session, staff_user_id=west_user, name="west", actor=CLI_ACTOR)
        token_ids = {name: id_ for name, id_ in session.execute(select(ApiToken.name, ApiToken.id))}
    east["token_id"], west["token_id"] = token_ids["east_admin"], token_ids["west"]
    return World(east=east, west=west, emails=emails, tokens=tokens)


def _table(web: TestClient) -> list[tuple[str, str]]:
    table = sorted(set(routes_of(list(web.app.routes))))  # type: ignore[attr-defined]
    guarded = [(m, p) for m, p in table if p.startswith(("/admin", "/api"))]
    assert len(guarded) >= 60  # the walk really holds the admin and the API
    return [(m, p) for m, p in guarded if p not in (LOGIN_PATH, "/admin/logout")]


def test_every_path_parameter_is_known_to_be_owned_or_shared(web: TestClient) -> None:
    # A new route with an id must say here whose it is, so the id-guessing test tries it.
    for _method, path in _table(web):
        unknown = params_of(path) - OWNED - SHARED
        assert not unknown, f"{path}: add {unknown} to OWNED or SHARED"


@pytest.mark.parametrize("role", ROLES)
def test_every_page_and_api_read_answers_each_role_with_only_what_it_may_see(
    web: TestClient, world: World, role: str
) -> None:
    partner_user = role.startswith("east")
    own = world.east if partner_user else world.west
    csrf = sign_in(web, world.emails[role])
    assert csrf
    bearer = {"Authorization": f"Bearer {world.tokens[role]}"}
    pages = 0
    for method, template in _table(web):
        if method != "GET":
            continue
        path = filled(template, {**own, **SHARED_IDS, "token_id": world.east["token_id"]})
        if template.startswith("/api"):
            response = web.get(path, headers=bearer)
        else:
            response = web.get(path, follow_redirects=False)
        if template in FORBIDDEN[role]:
            assert response.status_code == 403, (role, path)
            continue
        if "token_id" in template:
            continue  # no GET route takes a token id; kept for the routes to come
        assert response.status_code == 200, (role, path, response.text[:300])
        if partner_user:
            leaked = [mark for mark in WEST_MARKS if mark in response.text]
            assert not leaked, (role, path, leaked)
        pages += 1
    assert pages >= 25
    families = web.get("/admin/caregivers").text
    inbox = web.get("/admin/inbox").text
    if partner_user:
        assert "Ivy" in families and "Wren" not in families
        assert 'class="count">1<' in inbox  # the waiting count is Eastside's only
    else:  # the network sees both partners: the marks above are real marks
        assert "Ivy" in families and "Wren" in families
        assert 'class="count">2<' in inbox


@pytest.mark.parametrize("role", ("east_admin", "east_staff"))
def test_another_partners_ids_answer_404_on_every_route_and_change_nothing(
    web: TestClient, world: World, role: str, sessions: sessionmaker[Session]
) -> None:
    csrf = sign_in(web, world.emails[role])
    bearer = {"Authorization": f"Bearer {world.tokens[role]}"}
    tried = 0
    for method, template in _table(web):
        if not params_of(template) & OWNED:
            continue
        path = filled(template, {**world.west, **SHARED_IDS})
        if template.startswith("/api"):
            response = web.request(method, path, headers=bearer, json={})
        elif method == "GET":
            response = web.get(path, follow_redirects=False)
        else:
            response = web.request(method, path, data={"csrf_token": csrf}, follow_redirects=False)
        # A refusal of the whole kind of action (403, the same for every id) tells nothing;
        # anything else must be the not-found answer of a missing id.
        expected = (403, 404) if _role_may_not(role, method, template) else (404,)
        assert response.status_code in expected, (role, method, path, response.text[:200])
        if response.status_code == 404:
            assert not [mark for mark in WEST_MARKS if mark in response.text], path
        tried += 1
    assert tried >= 25
    with sessions() as session:
        family = session.get(Caregiver, world.west["caregiver_id"])
        assert family is not None and family.status == "active"
        assert session.scalars(
            select(CaregiverTag.tag).where(CaregiverTag.caregiver_id == family.id)
        ).all() == ["west-market"]
        text = session.get(InboundMessage, world.west["message_id"])
        assert text is not None and text.inbox_state == "unread"
        assert text.assigned_to_id is None
        campaign = session.get(Campaign, world.west["campaign_id"])
        assert campaign is not None and campaign.status == "scheduled"
        helper = session.get(StaffUser, world.west["user_id"])
        assert helper is not None and helper.is_active
        token = session.get(ApiToken, world.west["token_id"])
        assert token is not None and token.revoked_at is None


def _role_may_not(role: str, method: str, template: str) -> bool:
    """Actions a partner's staff member may not take at all, or the network's alone."""
    network_only = (
        (template.startswith("/api/partners") and method != "GET")
        or template.endswith(("/approve", "/send-back"))
        or template in PARTNERS
    )
    campaign_write = "/campaigns" in template and (method != "GET" or template in WRITING)
    admins_only = template.startswith("/admin/staff") or template.endswith("/delete")
    return network_only or (role == "east_staff" and (admins_only or campaign_write))
