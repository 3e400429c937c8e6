"""Log lines carry request fields verbatim: none of them can forge a line, write a control
character or show a phone number whole."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from sms_service.core.logsetup import (
    FORMAT,
    TRACEBACK_INDENT,
    MaskPhones,
    configure_logging,
    escape_controls,
)
from sms_service.core.models import InboundMessage
from tests.helpers.texting import Phone

FORGED = "\n1999-01-01 00:00:00,000 INFO sms_service.texting.inbound: forged"


@pytest.fixture
def log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger writing through the service's filter and format into a string."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(MaskPhones())
    logger = logging.getLogger("test.logsetup")
    logger.addHandler(handler)
    logger.propagate, logger.level = False, logging.INFO
    yield logger, stream
    logger.removeHandler(handler)
    logger.propagate, logger.level = True, logging.NOTSET


def _starts_of_records(output: str) -> list[str]:
    """The lines that begin a record (every other line is indented or empty)."""
    return [line for line in output.splitlines() if line and not line.startswith(" ")]


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("SM1" + FORGED, "SM1\\n1999-01-01 00:00:00,000 INFO sms_service.texting.inbound: forged"),
        ("a\rb\tc", "a\\rb\\tc"),
        ("nul\x00bell\x07esc\x1b[31m", "nul\\x00bell\\x07esc\\x1b[31m"),
        ("nel\x85ls\u2028ps\u2029", "nel\\x85ls\\u2028ps\\u2029"),
        ("rtl\u202eevil\u2066\u200f", "rtl\\u202eevil\\u2066\\u200f"),
        ("lone\ud800", "lone\\ud800"),
        ("plain text, ñ, 👶, ٣ and a \\n already escaped", None),
    ],
)
def test_escape_controls(raw: str, escaped: str | None) -> None:
    assert escape_controls(raw) == (raw if escaped is None else escaped)
    assert escape_controls(escape_controls(raw)) == escape_controls(raw)  # idempotent
    assert escape_controls(raw).isprintable()


def test_a_forged_line_in_a_field_stays_on_the_record_s_line(
    log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = log
    logger.info("text %s from %s handled as %s", "SM\x00" + FORGED, "+12125550123", "answer")
    output = stream.getvalue()
    [line] = output.splitlines()
    assert line.endswith(
        "text SM\\x00\\n1999-01-01 00:00:00,000 INFO sms_service.texting.inbound: forged"
        " from ***0123 handled as answer"
    )
    assert "\x00" not in output and "+12125550123" not in output


def test_a_number_right_after_a_newline_is_still_masked(
    log: tuple[logging.Logger, io.StringIO],
) -> None:
    # Masking comes first: once escaped, "\n2125550123" reads as "n2125550123", a word.
    logger, stream = log
    logger.info("sid %s", "SM1\n2125550123")
    assert stream.getvalue().rstrip("\n").endswith("sid SM1\\n***0123")


def test_a_traceback_keeps_its_lines_but_none_can_pass_for_a_record(
    log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = log
    try:
        raise ValueError("bad sid SM1" + FORGED + " from +12125550123\x00")
    except ValueError:
        logger.exception("handling %s failed", "SM1")
    output = stream.getvalue()
    [start] = _starts_of_records(output)
    assert start.endswith("ERROR test.logsetup: handling SM1 failed")
    lines = output.splitlines()
    assert lines[1] == TRACEBACK_INDENT + "Traceback (most recent call last):"
    assert f"{TRACEBACK_INDENT}1999-01-01 00:00:00,000 INFO" in output
    assert "+12125550123" not in output and "***0123\\x00" in output


def test_a_stack_is_indented_too(log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = log
    logger.info("where %s", "am I", stack_info=True)
    output = stream.getvalue()
    assert len(_starts_of_records(output)) == 1
    assert TRACEBACK_INDENT + "Stack (most recent call last):" in output


def test_arguments_that_do_not_fit_the_format_are_logged_not_raised(
    log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = log
    logger.info("two %s %s", "only one\n")
    assert stream.getvalue().rstrip("\n").endswith("two %s %s ('only one\\n',)")


def test_two_handlers_escape_once(log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = log
    second = io.StringIO()
    handler = logging.StreamHandler(second)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(MaskPhones())
    logger.addHandler(handler)
    try:
        try:
            raise RuntimeError("x")
        except RuntimeError:
            logger.exception("a\nb")
    finally:
        logger.removeHandler(handler)
    assert stream.getvalue() == second.getvalue()
    assert "a\\nb" in second.getvalue() and "\\\\n" not in second.getvalue()
    assert f"\n{TRACEBACK_INDENT}Traceback" in second.getvalue()
    assert f"\n{TRACEBACK_INDENT}{TRACEBACK_INDENT}Traceback" not in second.getvalue()


def test_a_signed_webhook_cannot_write_a_line_into_the_service_log(
    client: TestClient, sessions: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO")  # the service's own handler, on the stderr capsys holds
    phone = Phone(client)
    fields = phone.form("JOIN")
    fields["MessageSid"] = fields["SmsMessageSid"] = "SM1\x00" + FORGED[:40]
    assert phone.post(fields).status_code == 200
    err = capsys.readouterr().err
    assert "handled as keyword" in err
    assert not any(line.startswith("1999-01-01") for line in err.splitlines())
    assert "\x00" not in err and phone.number not in err
    assert "text SM1\\n1999-01-01 00:00:00,000 INFO" in err  # NUL already gone: as stored
    with sessions() as session:
        [stored] = session.scalars(select(InboundMessage))
    assert stored.message_sid == "SM1" + FORGED[:40]  # stored whole, but for the NUL
