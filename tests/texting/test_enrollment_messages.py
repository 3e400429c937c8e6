"""Message catalogs: same keys in both languages, every text the code uses, within limits."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import sms_service.texting
from content.checker import check_catalog
from sms_service.texting.messages import (
    FRAGMENTS,
    LANGUAGES,
    MESSAGES_DIR,
    PLACEHOLDERS,
    load_catalog,
    placeholders,
)

TEXTING = Path(sms_service.texting.__file__).parent


def test_both_languages_have_the_same_keys() -> None:
    assert set(load_catalog("en")) == set(load_catalog("es"))


def test_every_key_the_code_renders_exists() -> None:
    used = set()
    for module in sorted(TEXTING.glob("*.py")):
        source = module.read_text(encoding="utf-8")
        used |= set(re.findall(r'render\(\s*"(\w+)"', source))
        used |= set(re.findall(r'"(ask_\w+|\w+_(?:default|retry|unchanged|updated))"', source))
    assert len(used) > 15
    for language in LANGUAGES:
        assert used <= set(load_catalog(language)), used - set(load_catalog(language))


@pytest.mark.parametrize("language", LANGUAGES)
def test_messages_use_only_known_placeholders(language: str) -> None:
    for key, text in load_catalog(language).items():
        if key not in FRAGMENTS:
            assert placeholders(text) <= PLACEHOLDERS, key


@pytest.mark.parametrize("language", LANGUAGES)
def test_content_checker_passes_the_catalogs(language: str) -> None:
    findings = check_catalog(MESSAGES_DIR / f"{language}.yaml", language=language)
    assert [(f.item_id, f.message) for f in findings if f.severity == "error"] == []


def test_compliance_texts_say_what_carriers_require() -> None:
    en, es = load_catalog("en"), load_catalog("es")
    # Every reply starts "<program>: ", so the program is named there, not a second time.
    for text in (en["enrolled"], en["enrolled_default_schedule"], en["opted_in"]):
        assert "{frequency}" in text and "{program}" not in text
        assert "Msg & data rates may apply. Reply HELP for help, STOP to cancel." in text
    for text in (es["enrolled"], es["enrolled_default_schedule"], es["opted_in"]):
        assert "{frequency}" in text and "{program}" not in text
        assert "tarifas de mensajes y datos" in text and "STOP" in text
    for catalog in (en, es):
        assert "{contact}" in catalog["help"] and "STOP" in catalog["help"]
        assert "{program}" not in catalog["opted_out"] and "START" in catalog["opted_out"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_default_schedule_is_named_and_the_times_of_day_differ(language: str) -> None:
    catalog = load_catalog(language)
    assert "{when}" in catalog["enrolled_default_schedule"]  # not a day written into the text
    times = [catalog[f"when_{part}"] for part in ("morning", "afternoon", "evening")]
    assert len(set(times)) == 3
