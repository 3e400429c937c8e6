"""A child's name reaches every text as the parent wrote it, accents and all."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from content.render import render_tip
from tests.helpers.texting import Phone, caregiver, children


@pytest.mark.parametrize(
    ("keyword", "name", "age", "asks_age"),
    [
        ("JOIN", "Sofía", "8 months", "What is Sofía's birth date?"),
        ("HOLA", " Xóchitl ", "8 meses", "Xóchitl"),
    ],
)
def test_the_name_is_sent_as_written(
    client: TestClient,
    sessions: sessionmaker[Session],
    keyword: str,
    name: str,
    age: str,
    asks_age: str,
) -> None:
    phone = Phone(client)
    phone.text(keyword)
    written = name.strip()
    assert written in (phone.text(name) or "")  # "When was Sofía born?"
    phone.text(age)
    phone.text("1")
    assert asks_age in (phone.text("EDAD" if keyword == "HOLA" else "AGE") or "")
    (child,) = children(sessions, phone.number)
    assert child.name == written
    language = caregiver(sessions, phone.number).language
    tip = render_tip(
        "Sing to {child} today.",
        language=language,
        child_name=child.name,
        age_weeks=40,
        program_name="Little Moments",
    )
    assert tip == f"Little Moments: Sing to {written} today."
