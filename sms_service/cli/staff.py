"""`sms-tips staff ...`: manage staff accounts from the shell."""

from __future__ import annotations

import argparse
import getpass
import os

from sqlalchemy import select

from sms_service.cli.common import CommandError, Subparsers, connect, load_settings
from sms_service.core.audit import CLI_ACTOR
from sms_service.core.db import build_sessionmaker, transaction
from sms_service.core.models import StaffUser
from sms_service.partners.errors import PartnerError
from sms_service.partners.records import require_partner
from sms_service.staff.accounts import StaffError, create_staff_user, set_password
from sms_service.staff.signin import StaffIdentity
from sms_service.staff.tokens import create_api_token


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "staff", help="staff accounts", description="Manage staff accounts for the admin."
    )
    commands = parser.add_subparsers(dest="staff_command", metavar="ACTION", required=True)
    create = commands.add_parser(
        "create-user",
        help="add a staff account",
        description=(
            "Add a staff account. The password is asked for on the terminal, or read from "
            "SMS_TIPS_NEW_PASSWORD for scripts."
        ),
    )
    create.add_argument("email", help="the staff member's email, used to sign in")
    create.add_argument(
        "--role",
        choices=["admin", "staff"],
        default="staff",
        help="admin: accounts, content and deletions; staff: campaigns and viewing",
    )
    create.add_argument(
        "--partner",
        metavar="SLUG",
        help="make it a partner's account: it sees only that partner's families and results "
        "(default: the network's own, which sees every partner)",
    )
    create.set_defaults(handler=_create_user)
    reset = commands.add_parser(
        "set-password",
        help="give a staff account a new password",
        description=(
            "Give a staff account a new password and sign it out everywhere. The password is "
            "asked for on the terminal, or read from SMS_TIPS_NEW_PASSWORD for scripts."
        ),
    )
    reset.add_argument("email", help="the staff account")
    reset.set_defaults(handler=_set_password)
    token = commands.add_parser(
        "create-token",
        help="make an API token for a staff account",
        description="Make a bearer token for the JSON API; it is printed once, only its hash kept.",
    )
    token.add_argument("email", help="the staff account the token acts as")
    token.add_argument("--name", default="cli", help="what the token is for")
    token.set_defaults(handler=_create_token)


def _create_user(args: argparse.Namespace) -> int:
    settings = load_settings()
    password = os.environ.get("SMS_TIPS_NEW_PASSWORD") or _ask_password()
    sessions = build_sessionmaker(connect(settings))
    try:
        with transaction(sessions) as session:
            partner = require_partner(session, args.partner) if args.partner else None
            user = create_staff_user(
                session,
                email=args.email,
                password=password,
                role=args.role,
                partner_id=partner.id if partner else None,
            )
            email, title = user.email, StaffIdentity.of(user).title
    except (StaffError, PartnerError) as error:
        raise CommandError(str(error)) from None
    print(f"created {title} account {email}")
    return 0


def _set_password(args: argparse.Namespace) -> int:
    settings = load_settings()
    password = os.environ.get("SMS_TIPS_NEW_PASSWORD") or _ask_password()
    engine = connect(settings)
    try:
        with transaction(build_sessionmaker(engine)) as session:
            email = set_password(session, email=args.email, password=password).email
    except StaffError as error:
        raise CommandError(str(error)) from None
    finally:
        engine.dispose()
    print(f"new password set for {email}; its sessions have ended")
    return 0


def _create_token(args: argparse.Namespace) -> int:
    settings = load_settings()
    engine = connect(settings)
    try:
        with transaction(build_sessionmaker(engine)) as session:
            email = args.email.strip().lower()
            user = session.scalar(select(StaffUser).where(StaffUser.email == email))
            if user is None or not user.is_active:
                raise CommandError(f"no active staff account {args.email}")
            token = create_api_token(
                session, staff_user_id=user.id, name=args.name, actor=CLI_ACTOR
            )
    finally:
        engine.dispose()
    print(token)
    return 0


def _ask_password() -> str:
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise CommandError("the passwords do not match")
    return first
