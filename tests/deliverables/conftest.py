"""Fixtures shared by the deliverable tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def uploads(app, tmp_path):
    """Uploads go to a temporary folder, with a 1 MB limit so the 413 path is cheap to test."""
    app.state.settings = app.state.settings.model_copy(update={"upload_dir": tmp_path / "up", "max_upload_mb": 1})
