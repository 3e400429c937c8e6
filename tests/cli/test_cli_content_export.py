"""`sms-tips content load` and `export` around browser edits: refused, forced, round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from content.library import load_library
from jobs.planning.candidates import candidate_rows
from sms_service.cli import main
from sms_service.core.audit import Actor
from sms_service.core.db import transaction
from sms_service.core.models import Tip as TipRow
from sms_service.tips.editing import TipDraft, edit_tip
from tests.helpers.settings import service_environ

TIP = "en-w000-your-face"
EDITED = (
    "{Child} loves your face most of all. During a feed, let your eyes meet and smile. "
    "Your face is the first picture your baby learns by heart."
)


def test_load_refuses_over_an_edit_export_round_trips_and_force_wins(
    database_url: str,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    for name, value in service_environ(database_url).items():
        monkeypatch.setenv(name, value)
    assert main(["content", "load"]) == 0
    with transaction(sessions) as session:
        draft = TipDraft(TIP, "en", 0, 3, "connection", EDITED)
        library = load_library()
        edit_tip(session, draft=draft, expected_version=1, library=library, actor=Actor("ada"))
    capsys.readouterr()

    assert main(["content", "load"]) == 1
    assert f"changed in the admin since the last load and the files differ: {TIP}" in (
        capsys.readouterr().err
    )
    out = tmp_path / "review"
    assert main(["content", "export", "--out", str(out)]) == 0
    assert "wrote 16 tip file(s)" in capsys.readouterr().out
    assert EDITED in (out / "tips/en/01-months-0-3.yaml").read_text("utf-8")
    assert main(["content", "check", "--root", str(out), "--no-catalogs"]) == 0
    capsys.readouterr()
    assert main(["content", "load", "--root", str(out)]) == 0
    assert "0 new, 0 new versions, 0 restored, 0 retired" in capsys.readouterr().out
    with sessions() as session:
        row = session.get_one(TipRow, TIP)
        assert (row.version, row.edited_at) == (2, None)

    # Edited again, then the shipped files are forced over it: a new version, from the files.
    with transaction(sessions) as session:
        draft = TipDraft(TIP, "en", 0, 3, "connection", EDITED + " Smile back.")
        edit_tip(session, draft=draft, expected_version=2, library=library, actor=Actor("ada"))
    assert main(["content", "load", "--force"]) == 0
    with sessions() as session:
        row = session.get_one(TipRow, TIP)
        assert (row.version, row.edited_at, row.text == EDITED) == (4, None, False)
        # A retired tip is never a planning candidate.
        row.retired_at = row.updated_at
        tips = list(session.scalars(select(TipRow)))
        assert TIP not in {c["tip_id"] for c in candidate_rows(tips, program_name="P")}
