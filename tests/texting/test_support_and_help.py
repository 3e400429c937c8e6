"""What HELP, SUPPORT and the thank-you promise, proven by texting the service."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from tests.helpers.texting import Phone

HOTLINE = ("1-833-TLC-MAMA", "1-833-852-6262")
ENROLL = {"en": ("JOIN", "Maya", "8 months", "1"), "es": ("HOLA", "Ana", "8 meses", "1")}
# What each command HELP lists answers with, by language (the fallback thank-you is none).
ANSWERS = {
    "en": {
        "SUPPORT": "Mental Health Hotline",
        "LANG": "Reply 1 for English",
        "TIME": "When would you like your tips?",
        "AGE": "What is Maya's birth date?",
        "PAUSE": "Your tips are paused until",
        "STOP": "You're unsubscribed",
    },
    "es": {
        "APOYO": "salud mental de madres",
        "IDIOMA": "Reply 1 for English",
        "HORA": "Responde del 1 al 6",
        "EDAD": "Ana",
        "PAUSA": "quedan en pausa hasta",
        "STOP": "ya no te enviaremos mensajes",
    },
}


def enrolled(client: TestClient, language: str) -> Phone:
    phone = Phone(client)
    for answer in ENROLL[language]:
        phone.text(answer)
    return phone


@pytest.mark.parametrize(("word", "language"), [("SUPPORT", "en"), ("apoyo", "es")])
def test_support_names_the_hotline_988_and_911(
    client: TestClient, word: str, language: str
) -> None:
    reply = enrolled(client, language).text(word) or ""
    assert all(number in reply for number in HOTLINE), reply
    assert "988" in reply and "911" in reply


def test_a_new_number_texting_apoyo_gets_the_lines_in_spanish(client: TestClient) -> None:
    reply = Phone(client).text("Apoyo") or ""
    assert "1-833-852-6262" in reply and "988" in reply and "llama" in reply


def test_support_mid_enrollment_keeps_the_question(client: TestClient) -> None:
    phone = Phone(client)
    phone.text("JOIN")
    assert "988" in (phone.text("support") or "")
    assert "When was Maya born?" in (phone.text("Maya") or "")


@pytest.mark.parametrize("language", ["en", "es"])
def test_help_lists_the_commands_and_each_one_works(client: TestClient, language: str) -> None:
    phone = enrolled(client, language)
    help_text = phone.text("HELP" if language == "en" else "AYUDA") or ""
    listed = re.findall(r"\b[A-Z]{3,}\b", help_text.split(":", 1)[1])
    assert sorted(listed) == sorted(ANSWERS[language]), listed
    for word in ANSWERS[language]:  # STOP last: it ends everything
        reply = phone.text(word) or ""
        assert ANSWERS[language][word] in reply, (word, reply)


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "Thank you, she loved the song!"), ("es", "Gracias, le encantó la canción")],
)
def test_the_thank_you_says_the_number_is_not_for_emergencies(
    client: TestClient, language: str, words: str
) -> None:
    reply = enrolled(client, language).text(words) or ""
    assert "911" in reply and "988" in reply, reply


@pytest.mark.parametrize("language", ["en", "es"])
def test_texts_name_the_program_once(client: TestClient, language: str) -> None:
    phone = Phone(client)
    *questions, last = ENROLL[language]
    for answer in questions:
        phone.text(answer)
    texts = [phone.text(last), phone.text("HELP"), phone.text("STOP"), phone.text("START")]
    for text in texts:
        assert text is not None and text.count("Little Moments") == 1, text
