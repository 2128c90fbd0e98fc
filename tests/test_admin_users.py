"""User administration: create, validate, edit, stale edits, self-protection."""

from __future__ import annotations

from sqlmodel import func, select

from tracker.accounts.models import User
from tracker.audit.models import AuditEvent

NEW = {
    "username": "new.user",
    "full_name": "New User",
    "email": "new@example.gov",
    "title": "Analyst",
    "organization": "DOT",
    "password": "a-long-password",
    "is_active": "true",
}


def test_admin_creates_a_user_who_can_sign_in(as_user, db):
    r = as_user("admin").post("/admin/users", NEW)
    assert r.status_code == 303
    user = db.exec(select(User).where(User.username == "new.user")).one()
    assert user.password_hash.startswith("$argon2") and "a-long-password" not in user.password_hash
    assert db.exec(
        select(AuditEvent).where(AuditEvent.entity_type == "app_user", AuditEvent.entity_id == user.id)
    ).one()
    assert as_user(None).login("NEW.USER", "a-long-password").status_code == 303


def test_bad_user_input_is_explained_and_nothing_is_written(as_user, db, world):
    before = db.exec(select(func.count()).select_from(User)).one()
    cases = [
        ({"username": "manager"}, "username", "taken"),
        ({"username": "a b"}, "username", "Username is not in the form it needs"),
        ({"email": "not-an-email"}, "email", "email"),
        ({"password": "short"}, "password", "at least 10"),
        ({"password": ""}, "password", "initial password"),
        ({"full_name": ""}, "full_name", "required"),
    ]
    admin = as_user("admin")
    for change, field, message in cases:
        r = admin.post("/admin/users", NEW | change)
        assert r.status_code == 422, change
        assert f'id="f-{field}-error"' in r.text and message in r.text, change
        assert 'value="New User"' in r.text or change.get("full_name") == ""
    db.expire_all()
    assert db.exec(select(func.count()).select_from(User)).one() == before


def test_admin_cannot_demote_themselves(as_user, db, world):
    admin = as_user("admin")
    version = db.get(User, world.ids["admin"]).version
    r = admin.post(
        f"/admin/users/{world.ids['admin']}", NEW | {"username": "admin", "is_admin": "false", "version": str(version)}
    )
    assert r.status_code == 422 and "your own admin rights" in r.text


def test_stale_user_edit_gets_409(as_user, db, world):
    user = db.get(User, world.ids["staff"])
    user.title = "Changed meanwhile"
    db.commit()
    r = as_user("admin").post(f"/admin/users/{user.id}", NEW | {"username": "staff", "version": "1"})
    assert r.status_code == 409 and "Changed meanwhile" in r.text


def test_user_search_filters_in_place(as_user):
    r = as_user("admin").get("/admin/users?q=contractor", headers={"HX-Request": "true"})
    assert r.text.lstrip().startswith('<div id="user-table">')
    assert "Contractor Person" in r.text and "Viewer Person" not in r.text


def test_unknown_user_is_404(as_user):
    assert as_user("admin").get("/admin/users/999999").status_code == 404
