"""Two managers decide the same review at the same moment: exactly one decision is recorded, the other gets 409.

Runs against a real, committed database (not the rolled-back test transaction) so the two requests really race.
"""

from __future__ import annotations

import threading

import pytest
from litestar.testing import TestClient
from sqlmodel import Session, select

from tests.conftest import PASSWORD, Browser, agree_as, make_settings
from tests.dbutil import fresh_database
from tracker.accounts import service as accounts
from tracker.app import create_app
from tracker.cli import migrate_database
from tracker.core.db import make_engine
from tracker.core.files import FileStore
from tracker.core.forms import parse
from tracker.deliverables import planning, reviews, submissions
from tracker.deliverables.models import Decision
from tracker.projects import service as projects


@pytest.fixture
def racing_app(tmp_path):
    with fresh_database(tmp_path) as url:
        migrate_database(url)
        engine = make_engine(url)
        with Session(engine, expire_on_commit=False) as db:
            users = {}
            for name in ("admin", "m1", "m2", "contractor"):
                users[name] = accounts.create_user(
                    db,
                    None,
                    parse(
                        accounts.UserForm,
                        {
                            "username": name,
                            "full_name": name,
                            "email": f"{name}@example.gov",
                            "password": PASSWORD,
                            "is_admin": name == "admin",
                        },
                    ),
                )
            admin = accounts.principal(users["admin"])
            projects.create_project(db, admin, parse(projects.ProjectForm, {"key": "RACE", "name": "Race"}))
            access = projects.get_for(db, admin, "RACE", projects.Perm.MANAGE)
            for name, role in (("m1", "manager"), ("m2", "manager"), ("contractor", "contractor")):
                projects.add_member(db, admin, access, projects.MemberForm(user_id=users[name].id, role=role))
            m1 = accounts.principal(users["m1"])
            m_access = projects.get_for(db, m1, "RACE")
            d = planning.create(
                db,
                m1,
                m_access,
                parse(planning.DeliverableForm, {"code": "D-1", "title": "Race me", "criteria": "Wins the race"}),
            )
            c = accounts.principal(users["contractor"])
            agree_as(db, d, m1, c)
            submissions.submit(
                db,
                c,
                projects.get_for(db, c, "RACE"),
                d,
                "",
                [submissions.Upload("a.txt", "", b"a")],
                FileStore(tmp_path / "files", 1024),
            )
            reviews.start_review(db, m1, m_access, d)
            reviews.record_result(db, m1, m_access, d, planning.active_criteria(db, d.id)[0].id, "met")
            db.commit()
            deliverable_id = d.id
        yield create_app(make_settings(url, upload_dir=tmp_path / "files")), engine, deliverable_id
        engine.dispose()


@pytest.mark.parametrize("outcomes", [("accepted", "accepted"), ("accepted", "rejected")])
def test_two_managers_deciding_at_once_record_exactly_one_decision(racing_app, outcomes):
    app, engine, deliverable_id = racing_app
    browsers = []
    for name in ("m1", "m2"):
        b = Browser(TestClient(app, base_url="http://testserver.local"))
        assert b.login(name).status_code == 303
        browsers.append(b)
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def decide(b: Browser, outcome: str) -> None:
        barrier.wait()
        r = b.api(
            "POST",
            f"/api/v1/deliverables/{deliverable_id}/decision",
            json={"outcome": outcome, "findings": "Findings text"},
        )
        statuses.append(r.status_code)

    threads = [threading.Thread(target=decide, args=(b, o)) for b, o in zip(browsers, outcomes, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(statuses) == [201, 409]
    with Session(engine) as db:
        assert len(db.exec(select(Decision)).all()) == 1
