"""Impossible deliverable data is refused beside its field (page, input kept) and as a 422 naming it (API), and
nothing is written: an empty file as a submission, a reviewer due before the project's today."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import func, select

from tests.conftest import tst_today
from tests.deliverables.test_api import _plan
from tests.deliverables.test_forms import BASE, _in_review
from tracker.deliverables.models import ReviewAssignment, Submission


def _count(db, model) -> int:
    return db.exec(select(func.count()).select_from(model)).one()


def test_an_empty_file_is_not_a_submission(as_user, uploads, db):
    d = _plan(as_user)
    contractor = as_user("contractor")
    r = contractor.client.post(
        f"{BASE}/{d['id']}/submit",
        data={"notes": "kept notes", "_csrf_token": contractor.token},
        files={"files": ("empty.pdf", b"", "application/pdf")},
        follow_redirects=False,
    )
    assert r.status_code == 422 and 'id="f-files-error"' in r.text
    assert "empty.pdf is empty (0 bytes)" in r.text and "kept notes" in r.text
    r = contractor.api(
        "POST",
        f"/api/v1/deliverables/{d['id']}/submissions",
        files={"files": ("empty.pdf", b""), "notes": (None, "v1")},
    )
    assert r.status_code == 422 and "empty.pdf is empty (0 bytes)" in r.json()["extra"]["files"]
    r = contractor.api(
        "POST",
        f"/api/v1/deliverables/{d['id']}/submissions",  # one empty file among good ones
        files=[("files", ("v1.pdf", b"%PDF-1")), ("files", ("blank.txt", b""))],
    )
    assert r.status_code == 422 and "blank.txt is empty" in r.json()["extra"]["files"]
    assert _count(db, Submission) == 0
    assert contractor.api("GET", f"/api/v1/deliverables/{d['id']}").json()["status"] == "planned"


def test_a_reviewer_cannot_be_due_before_the_projects_today(as_user, uploads, db, world):
    d = _in_review(as_user)
    manager = as_user("manager")
    yesterday = (tst_today() - timedelta(days=1)).isoformat()
    r = manager.post(f"{BASE}/{d['id']}/reviewers", {"reviewer_id": str(world.ids["staff"]), "due_date": yesterday})
    assert r.status_code == 422 and 'id="f-due_date-error"' in r.text
    assert "The review cannot be due before today" in r.text and f'value="{yesterday}"' in r.text
    r = manager.api(
        "POST",
        f"/api/v1/deliverables/{d['id']}/reviewers",
        json={"reviewer_id": world.ids["staff"], "due_date": yesterday},
    )
    assert r.status_code == 422 and "cannot be due before today" in r.json()["extra"]["due_date"]
    assert _count(db, ReviewAssignment) == 0
    today = tst_today().isoformat()  # today itself is fine
    r = manager.api(
        "POST", f"/api/v1/deliverables/{d['id']}/reviewers", json={"reviewer_id": world.ids["staff"], "due_date": today}
    )
    assert r.status_code == 200 and r.json()[0]["due_date"] == today
