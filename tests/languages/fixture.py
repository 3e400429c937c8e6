"""A third language made of files only, in a copy of the content folder, for the tests."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml

from content.languages import SHIPPED_ROOT

CODE = "xx"
KEYWORD = "OLA"  # joins in the fixture language
ASK_NAME = "Ola! Qual e o nome da crianca? Responda SKIP para pular."
DATA = ("languages", "messages", "rules", "tips", "themes.yaml", "saved_replies.yaml")

LANGUAGE = {
    "code": CODE,
    "name": "Fixture",
    "menu_answers": ["3", "XX", "FIXTURE"],
    "day_first": True,
    "fallback_names": {"baby": "o bebe", "toddler": "a crianca"},
    "enroll_keywords": [KEYWORD],
    "keywords": {
        "opt_out": ["SAIR"],
        "opt_in": ["VOLTAR"],
        "help": ["SOCORRO"],
        "pause": ["PAUSAXX"],
        "resume": ["RETOMAR"],
        "time": ["HORAXX"],
        "language": ["LINGUA"],
        "age": ["IDADE"],
        "add": ["ADICIONAR"],
        "support": ["APOIO"],
    },
    "soft_opt_in": [],
    "opt_out_phrases": ["NAO QUERO MAIS(?: MENSAGENS)?"],
    "polite_before": [],
    "polite_after": ["OBRIGADA", "OBRIGADO"],
    "words": {
        "months": {"JANEIRO": 1, "FEVEREIRO": 2},
        "weekdays": {"SEGUNDA": 0, "DOMINGO": 6},
        "numbers": {"OITO": 8},
        "units": {"weeks": ["SEMANAS"], "months": ["MESES"]},
        "due": ["NASCE"],
        "skip": ["PULAR"],
        "newborn": ["RECEM NASCIDO"],
        "morning": ["MANHA"],
        "evening": ["NOITE"],
        "filler": ["DE"],
    },
    # The fixture's tips are English ones, so they are read as English.
    "reading_level": {
        "textstat": "en_US",
        "pass_any": [{"score": "flesch_kincaid_grade", "name": "grade", "at_most": 6}],
    },
}


def make_content(root: Path) -> Path:
    """The shipped content folder's data under `root`, plus language `xx`: its language file,
    its messages, rules and tips (English's, renamed: the code is what is under test, and the
    English tips already pass every rule). Returns the folder."""
    for name in DATA:
        source = SHIPPED_ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name)
        else:
            shutil.copy(source, root / name)
    (root / "languages" / f"{CODE}.yaml").write_text(
        yaml.safe_dump(LANGUAGE, allow_unicode=True), "utf-8"
    )
    messages = yaml.safe_load((root / "messages" / "en.yaml").read_text("utf-8"))
    messages["ask_name"] = ASK_NAME
    (root / "messages" / f"{CODE}.yaml").write_text(
        yaml.safe_dump(messages, allow_unicode=True, width=1000, sort_keys=False), "utf-8"
    )
    shutil.copy(root / "rules" / "en.yaml", root / "rules" / f"{CODE}.yaml")
    (root / "tips" / CODE).mkdir()
    for path in (root / "tips" / "en").glob("*.yaml"):
        text = path.read_text("utf-8")
        text = re.sub(r"^language: en$", f"language: {CODE}", text, flags=re.M)
        text = re.sub(r"\bid: en-", f"id: {CODE}-", text)
        (root / "tips" / CODE / path.name).write_text(text, "utf-8")
    return root
