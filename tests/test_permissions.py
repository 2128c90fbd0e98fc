"""Every page and endpoint × every persona: allowed 2xx/3xx, denied 403/404, anonymous to login or 401."""

from __future__ import annotations

import pytest

PERSONAS = ("admin", "manager", "staff", "contractor", "viewer", "outsider", None)
ALL = {"admin", "manager", "staff", "contractor", "viewer", "outsider"}
MEMBERS = {"admin", "manager", "staff", "contractor", "viewer"}
READERS = {"admin", "manager", "staff", "viewer"}  # contractors never see the project-wide history

# (method, path, who may, what the others get)
PAGES = [
    ("GET", "/", ALL, None),
    ("GET", "/projects", ALL, None),
    ("GET", "/projects/TST", MEMBERS, 404),
    ("GET", "/projects/TST/history", READERS, {"contractor": 403, "outsider": 404}),
    ("GET", "/projects/TST/edit", {"admin"}, {"outsider": 404, "*": 403}),
    ("GET", "/projects/new", {"admin"}, 403),
    ("GET", "/admin/users", {"admin"}, 403),
    ("GET", "/admin/users/new", {"admin"}, 403),
    ("GET", "/profile", ALL, None),
    ("GET", "/api/v1/me", ALL, None),
    ("GET", "/api/v1/projects", ALL, None),
    ("GET", "/api/v1/projects/TST", MEMBERS, 404),
    ("GET", "/api/v1/projects/TST/members", MEMBERS, 404),
    ("GET", "/api/v1/projects/TST/deliverables", MEMBERS, 404),
    ("GET", "/api/v1/projects/TST/audit", READERS, {"contractor": 403, "outsider": 404}),
]


def _expected_denial(rule, persona: str) -> int:
    if isinstance(rule, dict):
        return rule.get(persona, rule.get("*", 403))
    return rule


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_page_and_endpoint_for_every_persona(as_user, persona):
    b = as_user(persona)
    for method, path, allowed, denial in PAGES:
        r = b.client.request(method, path, follow_redirects=False)
        if persona is None:
            if path.startswith("/api/"):
                assert r.status_code == 401, (path, r.status_code)
                assert r.json()["status_code"] == 401
            else:
                assert r.status_code in (302, 303), (path, r.status_code)
                assert r.headers["location"].startswith("/login")
        elif persona in allowed:
            assert r.status_code == 200, (persona, path, r.status_code, r.text[:300])
        else:
            assert r.status_code == _expected_denial(denial, persona), (persona, path, r.status_code)


WRITES = [
    # (path, form data, who may)
    ("/projects/TST/edit", {"key": "TST", "name": "Renamed", "holiday_calendar": "US", "timezone": "UTC",
                            "review_days": "5", "resubmit_days": "5", "deemed_days": "5", "deemed_policy": "never"}),
    ("/projects", {"key": "NEW", "name": "New one", "holiday_calendar": "US", "timezone": "UTC", "review_days": "5",
                   "resubmit_days": "5", "deemed_days": "5", "deemed_policy": "never"}),
    ("/admin/users", {"username": "zz", "full_name": "Z", "email": "z@example.gov", "password": "long-enough-pw"}),
]


@pytest.mark.parametrize("persona", ["manager", "staff", "contractor", "viewer", "outsider"])
def test_only_admins_change_projects_and_users(as_user, persona, db):
    from sqlmodel import select

    from tracker.accounts.models import User
    from tracker.projects.models import Project

    b = as_user(persona)
    for path, data in WRITES:
        r = b.post(path, data)
        expected = 404 if persona == "outsider" and path.startswith("/projects/TST") else 403
        assert r.status_code == expected, (persona, path, r.status_code)
    db.expire_all()
    assert db.exec(select(Project).where(Project.key == "TST")).one().name == "Test Programme"
    assert db.exec(select(Project).where(Project.key == "NEW")).first() is None
    assert db.exec(select(User).where(User.username == "zz")).first() is None


def test_ui_offers_admin_actions_only_to_admins(as_user):
    admin, manager = as_user("admin"), as_user("manager")
    assert "Edit settings" in admin.get("/projects/TST").text
    page = manager.get("/projects/TST").text
    assert "Edit settings" not in page and "Add member" not in page and "Remove" not in page
    assert "New project" not in manager.get("/projects").text
    assert 'href="/admin/users"' not in manager.get("/").text


def test_api_writes_are_admin_only(as_user, world):
    manager = as_user("manager")
    r = manager.api("PATCH", "/api/v1/projects/TST", json={"version": 1, "name": "X"})
    assert r.status_code == 403 and r.json()["detail"]
    r = manager.api("POST", "/api/v1/projects/TST/members", json={"user_id": world.ids["outsider"], "role": "staff"})
    assert r.status_code == 403
    r = as_user("outsider").api("GET", "/api/v1/projects/TST")
    assert r.status_code == 404
