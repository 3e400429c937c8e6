"""Keyword recognition: compliance words first, program keywords from settings, commands."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sms_service.core.settings import Settings
from sms_service.texting.answers import fold
from sms_service.texting.keywords import (
    Kind,
    classify,
    command_words,
    compliance_words,
    from_opt_out_type,
)

SETTINGS = Settings.from_env(
    {"SMS_TIPS_KEYWORDS_EN": "JOIN,JOIN-LIBRARY", "SMS_TIPS_KEYWORDS_ES": "HOLA,UNIRME"},
    env_file=None,
)


@pytest.mark.parametrize(
    "word",
    ["STOP", "stop", " Stop. ", "STOPALL", "unsubscribe", "Cancel", "END", "quit", "REVOKE",
     "optout", "opt out", "Opt-Out", "PARAR", "parar", "Cancelar", "BASTA", "alto", "Stop!!!"],
)  # fmt: skip
def test_opt_out_words(word: str) -> None:
    keyword = classify(word, SETTINGS)
    assert keyword is not None and keyword.kind is Kind.OPT_OUT


@pytest.mark.parametrize(
    "phrase",
    ["stop texting me", "Stop texting me please", "please stop", "STOP SENDING ME MESSAGES",
     "no more", "No more texts!", "don't text me", "unsubscribe me", "remove me from your list",
     "no más", "No mas mensajes por favor", "ya no quiero mensajes", "no me manden más",
     "quiero darme de baja"],
)  # fmt: skip
def test_plain_opt_out_phrases(phrase: str) -> None:
    keyword = classify(phrase, SETTINGS)
    assert keyword is not None and keyword.kind is Kind.OPT_OUT


@pytest.mark.parametrize(
    "text",
    ["end of the day was hard", "Stop by the library?", "no more crying today!",
     "we cancel nothing", "She loves the bath", "stopping by later", "Hola, how are you"],
)  # fmt: skip
def test_ordinary_messages_are_not_keywords(text: str) -> None:
    keyword = classify(text, SETTINGS)
    assert keyword is None or keyword.kind not in {Kind.OPT_OUT, Kind.OPT_IN, Kind.HELP}


@pytest.mark.parametrize(
    ("word", "kind"),
    [("START", Kind.OPT_IN), ("unstop", Kind.OPT_IN), ("Yes", Kind.OPT_IN), ("sí", Kind.OPT_IN),
     ("COMENZAR", Kind.OPT_IN), ("HELP", Kind.HELP), ("info", Kind.HELP), ("Ayuda", Kind.HELP)],
)  # fmt: skip
def test_opt_in_and_help_words(word: str, kind: Kind) -> None:
    keyword = classify(word, SETTINGS)
    assert keyword is not None and keyword.kind is kind


@pytest.mark.parametrize(
    ("text", "word", "language"),
    [("join", "JOIN", "en"), ("Join-Library", "JOIN-LIBRARY", "en"), ("¡Hola!", "HOLA", "es"),
     ("unirme", "UNIRME", "es")],
)  # fmt: skip
def test_configured_program_keywords(text: str, word: str, language: str) -> None:
    keyword = classify(text, SETTINGS)
    assert keyword is not None
    assert (keyword.kind, keyword.word, keyword.language) == (Kind.ENROLL, word, language)


def test_program_keywords_come_from_settings() -> None:
    assert classify("JOIN-LIBRARY", Settings()) is None
    assert classify("JOIN", Settings()) is not None


@pytest.mark.parametrize(
    ("text", "kind", "argument"),
    [("PAUSE", Kind.PAUSE, ""), ("pause 2", Kind.PAUSE, "2"), ("PAUSA 3", Kind.PAUSE, "3"),
     ("resume", Kind.RESUME, ""), ("SEGUIR", Kind.RESUME, ""), ("time", Kind.TIME, ""),
     ("hora", Kind.TIME, ""), ("LANG", Kind.LANGUAGE, ""), ("idioma 2", Kind.LANGUAGE, "2"),
     ("age", Kind.AGE, ""), ("EDAD", Kind.AGE, ""), ("add", Kind.ADD, ""),
     ("agregar", Kind.ADD, ""), ("añadir", Kind.ADD, "")],
)  # fmt: skip
def test_commands(text: str, kind: Kind, argument: str) -> None:
    keyword = classify(text, SETTINGS)
    assert keyword is not None
    assert (keyword.kind, keyword.argument) == (kind, argument)


def test_one_word_commands_take_no_argument() -> None:
    assert classify("time flies", SETTINGS) is None
    assert classify("add me to the group", SETTINGS) is None


def test_twilio_opt_out_type() -> None:
    assert from_opt_out_type("STOP") is Kind.OPT_OUT
    assert from_opt_out_type("start") is Kind.OPT_IN
    assert from_opt_out_type("HELP") is Kind.HELP
    assert from_opt_out_type("") is None
    assert from_opt_out_type(None) is None
    assert from_opt_out_type("SOMETHING") is None


def test_every_compliance_word_is_recognised() -> None:
    for kind, words in compliance_words().items():
        for word in words:
            keyword = classify(word.lower(), SETTINGS)
            assert keyword is not None and keyword.kind is kind, word


def test_the_readme_table_lists_every_keyword() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Talking to the service by text")[1].split("\n## ")[0]
    listed = {fold(cell) for cell in re.findall(r"`([^`]+)`", section)}
    words = [*compliance_words().values(), *command_words().values()]
    missing = {word for group in words for word in group if word not in listed}
    assert missing == set()
