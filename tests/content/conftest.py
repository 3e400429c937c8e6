"""Temporary content folders for checker tests: the shipped themes, tips written per test."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from content.library import DEFAULT_ROOT

TipSpec = dict[str, Any]
WriteTips = Callable[..., Path]

GOOD_EN = [
    "Bath time is a good time to talk. Stay within arm's reach and tell {child} what you see: "
    "bubbles, toes, a cup. Your voice helps your baby feel safe and close.",
    "When {child} looks at you during a feed, look back and smile. That small moment of eye "
    "contact says: I am here, I see you.",
    "Pick a song from your own family and sing it at bedtime. {Child} will learn it by heart, "
    "and it can calm you both.",
]
GOOD_ES = [
    "En el baño, siempre a tu alcance, cuéntale a {child} lo que ves. Tu voz le da alegría.",
    "Canta una canción de tu familia antes de dormir. {Child} la va a reconocer.",
]


@pytest.fixture
def content_root(tmp_path: Path) -> Path:
    """An empty content folder with the shipped themes.yaml and tips/en, tips/es."""
    root = tmp_path / "content"
    (root / "tips" / "en").mkdir(parents=True)
    (root / "tips" / "es").mkdir(parents=True)
    shutil.copyfile(DEFAULT_ROOT / "themes.yaml", root / "themes.yaml")
    return root


@pytest.fixture
def write_tips(content_root: Path) -> WriteTips:
    """write_tips(language, [tip, ...], name="tips.yaml") -> the file written."""

    def write(language: str, tips: list[TipSpec], name: str = "tips.yaml") -> Path:
        path = content_root / "tips" / language / name
        document = {"language": language, "tips": tips}
        path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), "utf-8")
        return path

    return write


def tip(
    tip_id: str, text: str, weeks: tuple[int, int] = (10, 14), theme: str = "connection"
) -> TipSpec:
    """One tip as written in a content file."""
    return {"id": tip_id, "weeks": list(weeks), "theme": theme, "text": text}


@pytest.fixture
def shipped_copy(tmp_path: Path) -> Path:
    """A copy of the shipped content folder (themes, rules and tips) to change in a test."""
    root = tmp_path / "content"
    shutil.copytree(DEFAULT_ROOT, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return root
