"""The admins' sign-in page: providers (the secret never shown back whole), group mappings, bad input beside its field,
CSRF, and nobody but admins. (Every route × persona is in tests/security/test_permissions.py.)"""

from __future__ import annotations

import pytest
from sqlmodel import delete, select

from tracker.audit.models import AuditEvent
from tracker.projects.models import Project
from tracker.sso.models import GroupMapping, OidcIdentity, OidcProvider

SECRET = "very-secret-value-1234"
GOOD = {
    "key": "agency",
    "name": "Agency ID",
    "issuer": "https://login.agency.gov/realms/staff",
    "client_id": "tracker",
    "client_secret": SECRET,
    "allowed_domains": "agency.gov",
    "groups_claim": "groups",
    "enabled": "true",
}


def _provider(admin):
    assert admin.post("/admin/sign-in/providers", GOOD).status_code == 303
    return admin


@pytest.mark.parametrize("persona", ["manager", "staff", "contractor", "viewer", "outsider"])
def test_only_admins_see_the_sign_in_page(as_user, persona):
    browser = as_user(persona)
    assert browser.get("/admin/sign-in").status_code == 403
    assert 'href="/admin/sign-in"' not in browser.get("/").text


def test_an_admin_adds_a_provider_and_its_secret_is_never_shown_whole(as_user, db):
    admin = _provider(as_user("admin"))
    page = admin.get("/admin/sign-in").text
    assert "Agency ID" in page and SECRET not in page and "••••••••1234" in page
    row = db.exec(select(OidcProvider).where(OidcProvider.key == "agency")).one()
    edit = admin.get(f"/admin/sign-in/providers/{row.id}").text
    assert SECRET not in edit and "••••••••1234" in edit
    assert "Sign in with Agency ID" in as_user(None).get("/login").text
    event = db.exec(select(AuditEvent).where(AuditEvent.entity_type == "oidc_provider")).one()
    assert SECRET not in str(event.changes)


def test_saving_without_a_secret_keeps_it_and_a_new_one_is_recorded_as_changed(as_user, db):
    admin = _provider(as_user("admin"))
    row = db.exec(select(OidcProvider).where(OidcProvider.key == "agency")).one()
    r = admin.post(f"/admin/sign-in/providers/{row.id}", GOOD | {"client_secret": "", "name": "Agency", "version": "1"})
    assert r.status_code == 303
    db.refresh(row)
    assert (row.name, row.client_secret) == ("Agency", SECRET)
    admin.post(f"/admin/sign-in/providers/{row.id}", GOOD | {"client_secret": "another-secret-99", "version": "2"})
    db.refresh(row)
    assert row.client_secret == "another-secret-99"
    history = admin.get(f"/admin/sign-in/providers/{row.id}").text
    assert "another-secret-99" not in history and "Client secret" in history


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("issuer", "not a url", "enter the issuer&#39;s address"),
        ("issuer", "http://login.agency.gov", "use https: plain http is only for a provider on this machine"),
        ("issuer", "https://login.agency.gov/?x=1", "no query"),
        ("key", "Has Spaces", ""),
        ("allowed_domains", "agency.gov not_a_domain", "not an e-mail domain: not_a_domain"),
        ("client_secret", "", "Enter the client secret"),
        ("scopes", "email profile", "ask for openid"),
        ("scopes", 'openid "groups"', "not a scope: &#34;groups&#34;"),
    ],
)
def test_bad_input_is_shown_beside_its_field_and_kept(as_user, db, field, value, words):
    r = as_user("admin").post("/admin/sign-in/providers", GOOD | {field: value})
    assert r.status_code == 422
    assert f'id="f-{field}-error"' in r.text and words in r.text
    assert 'value="Agency ID"' in r.text  # what was typed is kept
    assert SECRET not in r.text  # but never the secret
    assert not db.exec(select(OidcProvider)).all()


def test_loopback_http_issuers_are_allowed(as_user):
    r = as_user("admin").post("/admin/sign-in/providers", GOOD | {"issuer": "http://127.0.0.1:9000"})
    assert r.status_code == 303


def test_a_taken_key_is_refused(as_user):
    admin = _provider(as_user("admin"))
    r = admin.post("/admin/sign-in/providers", GOOD | {"name": "Second"})
    assert r.status_code == 422 and 'id="f-key-error"' in r.text and "That key is taken" in r.text


def test_a_stale_edit_answers_409(as_user, db):
    admin = _provider(as_user("admin"))
    row = db.exec(select(OidcProvider).where(OidcProvider.key == "agency")).one()
    admin.post(f"/admin/sign-in/providers/{row.id}", GOOD | {"name": "First", "version": "1"})
    r = admin.post(f"/admin/sign-in/providers/{row.id}", GOOD | {"name": "Second", "version": "1"})
    assert r.status_code == 409 and "Someone else saved" in r.text


def test_forms_without_the_csrf_token_are_refused(as_user, db):
    admin = as_user("admin")
    r = admin.client.post("/admin/sign-in/providers", data=GOOD, follow_redirects=False)
    assert r.status_code == 403
    assert not db.exec(select(OidcProvider)).all()


def test_group_mappings_are_added_checked_and_removed(as_user, db):
    admin = _provider(as_user("admin"))
    row = db.exec(select(OidcProvider).where(OidcProvider.key == "agency")).one()
    tst = admin.get("/admin/sign-in").text
    assert 'value="manager"' in tst and "TST — Test Programme" in tst
    r = admin.post("/admin/sign-in/mappings", {"provider_id": row.id, "group_name": "pmo", "grant": "staff"})
    assert r.status_code == 422 and 'id="f-project_id-error"' in r.text and "Choose the project" in r.text
    assert 'value="pmo"' in r.text
    project_id = db.exec(select(Project.id).where(Project.key == "TST")).one()
    r = admin.post(
        "/admin/sign-in/mappings",
        {"provider_id": row.id, "group_name": "pmo", "grant": "admin", "project_id": project_id},
    )
    assert r.status_code == 422 and "leave the project empty" in r.text
    r = admin.post("/admin/sign-in/mappings", {"provider_id": row.id, "group_name": "pmo", "grant": "nonsense"})
    assert r.status_code == 422 and 'id="f-grant-error"' in r.text
    r = admin.post(
        "/admin/sign-in/mappings",
        {"provider_id": row.id, "group_name": "pmo", "grant": "staff", "project_id": project_id},
    )
    assert r.status_code == 303
    assert "Staff in TST" in admin.get("/admin/sign-in").text
    again = admin.post(
        "/admin/sign-in/mappings",
        {"provider_id": row.id, "group_name": "pmo", "grant": "viewer", "project_id": project_id},
    )
    assert again.status_code == 422 and "already has a mapping" in again.text
    mapping = db.exec(select(GroupMapping)).one()
    assert admin.post(f"/admin/sign-in/mappings/{mapping.id}/delete", {}).status_code == 303
    assert not db.exec(select(GroupMapping)).all()
    actions = [e.action for e in db.exec(select(AuditEvent).where(AuditEvent.entity_type == "oidc_group_mapping"))]
    assert actions == ["create", "delete"]


def test_a_provider_nobody_signs_in_with_is_removed_with_its_mappings_and_one_in_use_stays(as_user, db, world):
    admin = _provider(as_user("admin"))
    row = db.exec(select(OidcProvider).where(OidcProvider.key == "agency")).one()
    row_id = row.id
    mapping = {"provider_id": str(row.id), "group_name": "pmo", "grant": "admin"}
    assert admin.post("/admin/sign-in/mappings", mapping).status_code == 303
    page = admin.get(f"/admin/sign-in/providers/{row.id}").text
    assert "Nobody signs in with Agency ID" in page and f"/admin/sign-in/providers/{row.id}/delete" in page
    stale = admin.post(f"/admin/sign-in/providers/{row.id}/delete", {"version": str(row.version + 1)})
    assert stale.status_code == 409 and "Not removed." in stale.text  # someone changed it meanwhile
    db.add(OidcIdentity(provider_id=row.id, subject="sub-1", user_id=world.ids["staff"]))
    db.commit()
    kept = admin.post(f"/admin/sign-in/providers/{row.id}/delete", {"version": str(row.version)})
    assert kept.status_code == 409 and "1 person signs in with Agency ID: turn it off instead" in kept.text
    assert f'action="/admin/sign-in/providers/{row.id}/delete"' not in kept.text  # no button where it cannot go
    db.exec(delete(OidcIdentity))
    db.commit()
    assert admin.post(f"/admin/sign-in/providers/{row.id}/delete", {"version": str(row.version)}).status_code == 303
    db.expire_all()
    assert db.get(OidcProvider, row_id) is None and db.exec(select(GroupMapping)).all() == []
    assert "Sign in with Agency ID" not in as_user(None).get("/login").text
    (event,) = db.exec(
        select(AuditEvent).where(AuditEvent.entity_type == "oidc_provider", AuditEvent.action == "delete")
    )
    assert event.changes["group_mappings"] == ["pmo", None] and event.entity_label == "Agency ID"
    assert as_user("manager").post(f"/admin/sign-in/providers/{row_id}/delete", {"version": "1"}).status_code == 403
