"""The index after `tracker demo` and `tracker reindex`: the demo portfolio is found, and a rebuild gives the same."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import text

from tests.conftest import demo_copy
from tracker import cli
from tracker.core.db import make_engine
from tracker.settings import get_settings


def _rows(url: str) -> list:
    engine = make_engine(url)
    with engine.connect() as conn:
        key = "rowid" if conn.dialect.name == "sqlite" else "id"
        rows = conn.execute(text(f"SELECT {key}, kind, project_id, code, title, body, path FROM search_index")).all()
    engine.dispose()
    return sorted(rows)


def test_the_demo_is_indexed_and_reindex_rebuilds_the_same(demo_template, tmp_path, monkeypatch):
    with demo_copy(demo_template, tmp_path) as (url, uploads):
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("TRACKER_UPLOAD_DIR", str(uploads))
        get_settings.cache_clear()
        try:
            loaded = _rows(url)
            kinds = {row.kind for row in loaded}
            assert kinds == {
                "deliverable",
                "comment",
                "risk",
                "issue",
                "change",
                "action",
                "report",
                "saved_report",
                "lesson",
                "meeting",
                "decision",
            }
            result = CliRunner().invoke(cli.main, ["reindex"])
            assert result.exit_code == 0, result.output
            assert f"Search index rebuilt: {len(loaded):,} records." in result.output
            assert _rows(url) == loaded
        finally:
            get_settings.cache_clear()
