"""Saved answers for the staff inbox (content/saved_replies.yaml), by title and language."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from content.framing import RulesError
from content.library import DEFAULT_ROOT


@dataclass(frozen=True)
class SavedReply:
    """One saved answer: a title staff pick it by, and its text per language."""

    title: str
    texts: dict[str, str]

    def text(self, language: str) -> str:
        """The text in `language`, else in English."""
        return self.texts.get(language) or self.texts["en"]


@cache
def saved_replies(root: Path = DEFAULT_ROOT) -> tuple[SavedReply, ...]:
    """Every saved answer, in file order."""
    path = root / "saved_replies.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise RulesError(f"{path}: {' '.join(str(error).split())}") from None
    raw = data.get("replies") if isinstance(data, dict) else None
    if not isinstance(raw, list):
        raise RulesError(f"{path}: expected a `replies:` list")
    replies = []
    for number, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("title"), str):
            raise RulesError(f"{path}: reply {number} needs a title")
        texts = {k: str(v) for k, v in entry.items() if k != "title"}
        if "en" not in texts:
            raise RulesError(f"{path}: reply {number} needs an English text")
        replies.append(SavedReply(entry["title"], texts))
    return tuple(replies)
