"""Staff accounts (admins only: a partner's admin manages their partner's) and each person's
own API tokens."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sms_service.core.errors import NotFound
from sms_service.core.models import ApiToken, Partner, StaffUser, utcnow
from sms_service.staff.accounts import (
    StaffError,
    change_password,
    create_staff_user,
    get_staff,
    list_staff,
)
from sms_service.staff.passwords import MIN_PASSWORD_LENGTH
from sms_service.staff.signin import StaffIdentity, refused_until
from sms_service.staff.tokens import create_api_token
from sms_service.web.admin.forms import query_number, text_field
from sms_service.web.admin.support import flash, redirect, take_flash
from sms_service.web.admin.templating import render
from sms_service.web.context import in_read_transaction, in_transaction
from sms_service.web.guards import current_staff, posted_form, require_admin, sign_in

# What each account action did, as a sentence ({email} is the account's).
_DONE = {
    "unlock": "Unlocked {email}: it can sign in again from every address.",
    "activate": "Activated {email}: its owner can sign in again.",
    "deactivate": "Deactivated {email} and signed it out everywhere.",
}


async def staff_list(request: Request) -> Response:
    admin = require_admin(request)

    def work(session: Session) -> tuple[list[StaffUser], list[Partner]]:
        partners = list(session.scalars(select(Partner).where(admin.scope.partners())))
        return list_staff(session, scope=admin.scope), sorted(partners, key=lambda p: p.name)

    users, partners = await in_read_transaction(request, work)
    now = utcnow()
    throttled = {
        user.id: sum(
            refused_until(user, client, now) is not None for client in user.signin_throttle or {}
        )
        for user in users
    }
    return render(
        request,
        "staff.html",
        users=users,
        partners=partners,
        throttled=throttled,
        **take_flash(request),
    )


async def staff_create(request: Request) -> Response:
    form = await posted_form(request)
    admin = require_admin(request)
    email = text_field(form, "email", 254)
    role = text_field(form, "role", 10)
    password = text_field(form, "password", 1024, strip=False)
    partner = query_number(text_field(form, "partner_id", 12))

    def work(session: Session) -> str:
        user = create_staff_user(
            session,
            email=email,
            password=password,
            role=role,
            partner_id=partner,
            actor=admin.actor,
        )
        return f"Created {StaffIdentity.of(user).title} account {user.email}."

    try:
        flash(request, await in_transaction(request, work))
    except StaffError as error:
        flash(request, str(error), "error")
    return redirect("/admin/staff")


def _staff_action(name: str) -> Any:
    async def act(request: Request) -> Response:
        await posted_form(request)
        admin = require_admin(request)
        user_id = request.path_params["user_id"]

        def work(session: Session) -> str:
            user = get_staff(session, user_id, scope=admin.scope)
            if name == "unlock":
                user.failed_logins, user.signin_throttle = 0, {}
            elif user.id == admin.id:
                return "You cannot deactivate your own account."
            else:
                user.is_active = name == "activate"
                if not user.is_active:
                    # Its sessions end for good: reactivating does not bring them back.
                    user.session_version += 1
            admin.actor.audit(session, f"staff.{name}", user)
            return _DONE[name].format(email=user.email)

        flash(request, await in_transaction(request, work))
        return redirect("/admin/staff")

    return act


async def account(request: Request) -> Response:
    staff = current_staff(request)
    tokens = await in_read_transaction(
        request,
        lambda s: list(
            s.scalars(
                select(ApiToken)
                .where(ApiToken.staff_user_id == staff.id)
                .order_by(ApiToken.id.desc())
            )
        ),
    )
    new_token = request.session.pop("new_token", None)
    return render(
        request,
        "account.html",
        tokens=tokens,
        new_token=new_token,
        min_password=MIN_PASSWORD_LENGTH,
        **take_flash(request),
    )


async def password_change(request: Request) -> Response:
    form = await posted_form(request)
    staff = current_staff(request)
    try:
        version = await in_transaction(
            request,
            change_password,
            staff_id=staff.id,
            current=text_field(form, "current_password", 1024, strip=False),
            new=text_field(form, "new_password", 1024, strip=False),
            repeated=text_field(form, "new_password_again", 1024, strip=False),
            actor=staff.actor,
        )
    except StaffError as error:
        message = str(error)
        flash(request, message[:1].upper() + message[1:], "error")
        return redirect("/admin/account")
    if version is None:
        flash(request, "Your current password is not right, so nothing was changed.", "error")
        return redirect("/admin/account")
    # Every other session of this person ended with the change; this one goes on.
    sign_in(request, staff, version)
    flash(request, "Your password is changed. You were signed out on every other device.")
    return redirect("/admin/account")


async def token_create(request: Request) -> Response:
    form = await posted_form(request)
    staff = current_staff(request)
    token = await in_transaction(
        request,
        create_api_token,
        staff_user_id=staff.id,
        name=text_field(form, "name", 80),
        actor=staff.actor,
    )
    # Shown once on the next page, then gone: only its hash is stored.
    request.session["new_token"] = token
    return redirect("/admin/account")


async def token_revoke(request: Request) -> Response:
    await posted_form(request)
    staff = current_staff(request)
    token_id = request.path_params["token_id"]

    def work(session: Session) -> None:
        token = session.get(ApiToken, token_id)
        if token is None or token.staff_user_id != staff.id:
            raise NotFound(f"you have no API token {token_id}")  # another's token: the same
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            staff.actor.audit(session, "api_token.revoke", token)

    await in_transaction(request, work)
    flash(request, "The token is revoked: programs using it can no longer read the API.")
    return redirect("/admin/account")


routes = [
    Route("/staff", staff_list, methods=["GET"]),
    Route("/staff", staff_create, methods=["POST"]),
    *(
        Route(f"/staff/{{user_id:int}}/{name}", _staff_action(name), methods=["POST"])
        for name in ("unlock", "activate", "deactivate")
    ),
    Route("/account", account, methods=["GET"]),
    Route("/account/password", password_change, methods=["POST"]),
    Route("/account/tokens", token_create, methods=["POST"]),
    Route("/account/tokens/{token_id:int}/revoke", token_revoke, methods=["POST"]),
]
