"""The database's tips written back as tip files, for review: `sms-tips content export`.

The output is a whole content folder (the content root's other files are copied beside it), so
`sms-tips content check --root DIR` runs on it, and loading it changes nothing. Each tip goes to
the file it came from (new tips: the file of the tip nearest in age); retired tips are left out,
as a load retires what the files leave out.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.library import LANGUAGES
from sms_service.core.models import Tip as TipRow

FALLBACK_FILE = "added.yaml"
_PLAIN = re.compile(r"^[a-z][a-z0-9-]*$")


def _scalar(value: str) -> str:
    """A YAML scalar: plain when it is a simple key, else double-quoted (JSON escapes are YAML)."""
    return value if _PLAIN.match(value) else json.dumps(value, ensure_ascii=False)


def _header(existing: Path) -> list[str]:
    """The comment lines at the top of a tip file, kept so a review diff shows only the tips."""
    if not existing.exists():
        return []
    lines = []
    for line in existing.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line)
    return lines


def tip_file_text(language: str, rows: list[TipRow], header: Sequence[str] = ()) -> str:
    """One tip file in the format of content/tips/<language>/*.yaml."""
    lines = [*header, f"language: {language}", "tips:"]
    for index, row in enumerate(sorted(rows, key=lambda r: (r.min_week, r.max_week, r.id))):
        if index:
            lines.append("")
        lines += [
            f"  - id: {row.id}",
            f"    weeks: [{row.min_week}, {row.max_week}]",
            f"    theme: {_scalar(row.theme)}",
            f"    text: {json.dumps(row.text, ensure_ascii=False)}",
        ]
        reviews = [
            f"{{rule: {_scalar(r['rule'])}, reason: {json.dumps(r['reason'], ensure_ascii=False)}}}"
            for r in row.safety_reviewed or []
        ]
        if len(reviews) == 1:
            lines.append(f"    safety_reviewed: {reviews[0]}")
        elif reviews:
            lines.append("    safety_reviewed:")
            lines += [f"      - {review}" for review in reviews]
    return "\n".join(lines) + "\n"


def export_tips(session: Session, *, out: Path, root: Path) -> list[Path]:
    """Write the live tips of the database as out/tips/<language>/*.yaml (replacing the tip
    files there) and copy root's other content files to out; returns the tip files written."""
    out = out.resolve()
    if out != root.resolve():
        shutil.copytree(
            root,
            out,
            dirs_exist_ok=True,
            ignore=lambda folder, names: ["tips"] if Path(folder) == root else [],
        )
    files: dict[tuple[str, str], list[TipRow]] = defaultdict(list)
    for row in session.scalars(select(TipRow).where(TipRow.retired_at.is_(None))):
        files[(row.language, row.source_file or FALLBACK_FILE)].append(row)
    headers = {key: _header(root / "tips" / key[0] / key[1]) for key in files}
    for language in LANGUAGES:
        for stale in (out / "tips" / language).glob("*.y*ml"):
            stale.unlink()
    written: list[Path] = []
    for (language, name), rows in sorted(files.items()):
        path = out / "tips" / language / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(tip_file_text(language, rows, headers[(language, name)]), "utf-8")
        written.append(path)
    return written
