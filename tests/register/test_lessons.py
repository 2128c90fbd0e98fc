"""Lessons learned: a register kind recorded and changed through the generic register pages and API (stale edits
409, bad input beside the field), read by those who read the register, found on /lessons across every project the
reader may see and nowhere else, found by search, and exported and imported back unchanged."""

from __future__ import annotations

import pytest
from sqlmodel import select

from tests.register.conftest import (
    REGISTER_ROLES,
    api_readers,
    found_by_readers,
    reads_and_records,
    round_trip,
    watched_and_mentioned,
)
from tests.test_mail import dispatcher
from tests.transfer.conftest import other, plan_deliverables  # noqa: F401 (`other` is a fixture)
from tracker.accounts.models import User
from tracker.accounts.service import principal
from tracker.core.forms import parse
from tracker.projects import service as projects
from tracker.register.kinds import KINDS
from tracker.register.lessons import service as lessons
from tracker.register.lessons.models import Lesson
from tracker.transfer.columns import LESSONS

FORM = {
    "title": "UAT started before the test data was masked",
    "description": "The first cycle opened on production records.",
    "impact": "Nine days lost.",
    "recommendation": "Make masked data an entry criterion of UAT.",
    "category": "testing",
    "phase": "UAT",
}


def make_lesson(db, world, key="TST", role="staff", **overrides) -> Lesson:
    actor = principal(db.get(User, world.ids[role]))
    access = projects.get_for(db, actor, key)
    return lessons.create(db, actor, access, parse(lessons.LessonForm, FORM | overrides))


def test_a_lesson_is_recorded_edited_and_a_stale_edit_is_refused_with_the_saved_values(as_user, db, world):
    staff = as_user("staff")
    deliverable = plan_deliverables(db, world, "TST")["D-01"]
    db.commit()
    assert "L-001" in staff.get("/projects/TST/lessons/new").text
    r = staff.post("/projects/TST/lessons", FORM | {"deliverable_ids": str(deliverable)})
    assert r.status_code == 303, r.text
    lesson = db.exec(select(Lesson)).one()
    assert (lesson.code, lesson.category, lesson.phase, lesson.recorded_by_id) == (
        "L-001",
        "testing",
        "UAT",
        world.ids["staff"],
    )
    page = staff.get(r.headers["location"]).text
    assert "Make masked data an entry criterion of UAT." in page and "D-01" in page
    edit = {**FORM, "version": "1", "title": "UAT began on unmasked data", "deliverable_ids": str(deliverable)}
    assert staff.post(f"/projects/TST/lessons/{lesson.id}/edit", edit).status_code == 303
    stale = staff.post(f"/projects/TST/lessons/{lesson.id}/edit", {**FORM, "version": "1", "phase": "Build"})
    assert stale.status_code == 409 and "UAT began on unmasked data" in stale.text
    db.refresh(lesson)
    assert (lesson.title, lesson.phase, lesson.version) == ("UAT began on unmasked data", "UAT", 2)
    listed = staff.get("/projects/TST/lessons?category=testing&phase=ua&deliverable=" + str(deliverable)).text
    assert "L-001" in listed
    assert "L-001" not in staff.get("/projects/TST/lessons?category=cost").text
    assert "L-001" not in staff.get("/projects/TST/lessons?phase=Design").text


def test_bad_input_is_answered_beside_the_field_and_kept(as_user, world):
    staff = as_user("staff")
    r = staff.post(
        "/projects/TST/lessons",
        FORM | {"recommendation": " ", "recorded_on": "2999-01-01", "category": "luck", "impact": "Kept text"},
    )
    assert r.status_code == 422
    assert 'id="category-error"' in r.text or "category" in r.text
    r = staff.post("/projects/TST/lessons", FORM | {"recommendation": " ", "recorded_on": "2999-01-01"})
    assert r.status_code == 422
    assert "a lesson without a recommendation teaches nothing" in r.text
    assert "choose today or an earlier day" in r.text and "Nine days lost." in r.text


def test_the_api_lists_creates_reads_and_patches_with_the_version(as_user, world):
    staff = as_user("staff")
    r = staff.api("POST", "/api/v1/projects/TST/lessons", json=FORM)
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["code"], made["category"], made["recorded_by_name"]) == ("L-001", "testing", "Staff Person")
    assert staff.api("POST", "/api/v1/projects/TST/lessons", json={"title": "No advice"}).status_code == 422
    r = staff.api("PATCH", f"/api/v1/lessons/{made['id']}", json={"phase": "Design", "version": 1})
    assert r.status_code == 200 and r.json()["phase"] == "Design"
    assert staff.api("PATCH", f"/api/v1/lessons/{made['id']}", json={"phase": "x", "version": 1}).status_code == 409
    listed = staff.api("GET", "/api/v1/projects/TST/lessons?category=testing").json()
    assert listed["total"] == 1 and listed["items"][0]["phase"] == "Design"
    api_readers(as_user, "lessons", made["id"])


@pytest.mark.parametrize("role, read, write", REGISTER_ROLES)
def test_who_reads_and_records_lessons(as_user, db, world, role, read, write):
    lesson = make_lesson(db, world)
    db.commit()
    reads_and_records(as_user(role), "lessons", lesson.id, FORM, read, write)


def test_every_lesson_page_shows_only_the_projects_the_reader_may_read(as_user, db, world):
    mine = make_lesson(db, world, title="Reviewers held every document")
    theirs = make_lesson(
        db, world, key="OTH", role="outsider", title="Stubbed interface too long", category="technical"
    )
    db.commit()
    staff = as_user("staff").get("/lessons").text
    assert "Reviewers held every document" in staff and "Stubbed interface too long" not in staff
    assert f'href="/projects/TST/lessons/{mine.id}"' in staff
    outsider = as_user("outsider").get("/lessons").text
    assert "Stubbed interface too long" in outsider and "Reviewers held every document" not in outsider
    admin = as_user("admin")
    both = admin.get("/lessons").text
    assert "Stubbed interface too long" in both and "Reviewers held every document" in both
    assert f'href="/projects/OTH/lessons/{theirs.id}"' in both
    assert "Reviewers" not in admin.get("/lessons?category=technical").text
    assert "Stubbed" not in admin.get("/lessons?project=tst").text
    assert (
        "Stubbed" in admin.get("/lessons?q=INTERFACE").text
        and "Reviewers" not in admin.get("/lessons?q=interface").text
    )
    contractor = as_user("contractor").get("/lessons")
    assert contractor.status_code == 200 and "No lessons match" in contractor.text


def test_every_lesson_page_reads_in_fixed_queries(as_user, db, world, count_queries):
    make_lesson(db, world)
    db.commit()
    admin = as_user("admin")
    with count_queries() as few:
        assert admin.get("/lessons").status_code == 200
    for n in range(8):
        make_lesson(
            db, world, key="OTH" if n % 2 else "TST", role="outsider" if n % 2 else "staff", title=f"Lesson {n}"
        )
    db.commit()
    with count_queries() as many:
        page = admin.get("/lessons").text
    assert many.count == few.count and "Lesson 7" in page, many.statements


def test_the_project_list_reads_in_fixed_queries(as_user, db, world, count_queries):
    staff = as_user("staff")
    make_lesson(db, world)
    db.commit()
    with count_queries() as few:
        assert staff.get("/projects/TST/lessons").status_code == 200
    for n in range(9):
        make_lesson(db, world, title=f"Lesson {n}", phase=f"Phase {n}")
    db.commit()
    with count_queries() as many:
        page = staff.get("/projects/TST/lessons?sort=code").text
    assert many.count == few.count and "L-010" in page


def test_search_finds_a_lesson_for_those_who_read_the_register(as_user, db, world):
    make_lesson(db, world, recommendation="Book the walrus environment early.")
    db.commit()
    found_by_readers(as_user, "walrus", "lesson", "L-001", "lessons")


@pytest.mark.usefixtures("other")
def test_export_then_import_into_another_project_gives_the_same_rows(db, world):
    deliverable = plan_deliverables(db, world, "TST")["D-02"]
    make_lesson(db, world, owner_id=str(world.ids["staff"]), deliverable_ids=[str(deliverable)])
    make_lesson(db, world, title="Second", category="governance", phase="")
    round_trip(db, world, LESSONS, 2)


def test_a_watched_lesson_tells_its_watchers_and_a_mention_reaches_who_may_read(
    db, conn, world, database_url, tmp_path, inbox, as_user
):
    d = dispatcher(conn, database_url, tmp_path, inbox.url)
    lesson = make_lesson(db, world)
    db.commit()
    change = {"recommendation": "Ask @viewer and @contractor to check masking before UAT."}
    watched_and_mentioned(db, world, as_user, inbox, d, KINDS["lessons"], lesson, change)
