"""Single sign-on against a real OpenID provider (tests/oidc/provider.mjs): accounts made just in time and linked by
verified e-mail, group mappings, every refusal as a clear page on the trail, key rotation, and signing out there too."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlmodel import select

from tests.conftest import PASSWORD, SharedApp, csrf_from, make_settings
from tests.oidc.conftest import APP_BASE, CLIENT_ID, CLIENT_SECRET, login_at_provider
from tracker.accounts import service as accounts
from tracker.accounts.models import User
from tracker.audit.models import AuditEvent
from tracker.core.forms import parse
from tracker.projects.models import Membership, Project, Role
from tracker.sso import providers, service
from tracker.sso.models import ENV_KEY, OidcIdentity, OidcProvider


@pytest.fixture
def provider(db, world, idp) -> OidcProvider:
    """The test provider as an admin adds it, with people from agency.gov welcome and two groups mapped."""
    admin = accounts.principal(db.get(User, world.ids["admin"]))
    row = providers.create(
        db,
        admin,
        parse(
            providers.ProviderForm,
            {"key": "test-idp", "name": "Agency ID", "issuer": idp.issuer, "client_id": CLIENT_ID}
            | {"client_secret": CLIENT_SECRET, "allowed_domains": "agency.gov", "groups_claim": "groups"},
        ),
    )
    tst = db.exec(select(Project).where(Project.key == "TST")).one()
    for group, grant, project in (("tracker-admins", "admin", None), ("tst-staff", Role.STAFF.value, tst.id)):
        form = {"provider_id": row.id, "group_name": group, "grant": grant, "project_id": project}
        service.add_mapping(db, admin, parse(service.MappingForm, form))
    db.commit()
    return row


def start(browser, key: str = "test-idp", next_: str = "") -> str:
    r = browser.get(f"/login/oidc/{key}" + (f"?next={next_}" if next_ else ""), follow_redirects=False)
    assert r.status_code == 303, r.text
    return r.headers["location"]


def sign_in(browser, account: str, key: str = "test-idp"):
    """The whole round trip: our button, the provider's form, our callback. Answers the callback's response."""
    return browser.get(login_at_provider(start(browser, key), account), follow_redirects=False)


def signed_in(browser) -> bool:
    return browser.get("/", follow_redirects=False).status_code == 200


def events(db, action: str) -> list[AuditEvent]:
    return list(db.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_the_authorization_request_uses_pkce_state_and_nonce(as_user, provider, idp):
    query = parse_qs(urlsplit(start(as_user(None))).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert query["state"][0] and query["nonce"][0] and query["response_type"] == ["code"]
    assert query["redirect_uri"] == [f"{APP_BASE}/login/oidc/test-idp/callback"]
    assert query["client_id"] == [CLIENT_ID] and "code_verifier" not in query


def test_each_provider_asks_for_its_own_scopes(as_user, db, world, provider):
    assert parse_qs(urlsplit(start(as_user(None))).query)["scope"] == ["openid email profile"]  # the default
    admin = accounts.principal(db.get(User, world.ids["admin"]))
    form = providers.ProviderForm.model_validate(
        {k: getattr(provider, k) for k in providers.PROVIDER_FIELDS}
        | {"scopes": "openid  email profile groups", "version": provider.version}
    )
    providers.update(db, admin, provider, form)
    db.commit()
    assert provider.scopes == "openid email profile groups"
    assert parse_qs(urlsplit(start(as_user(None))).query)["scope"] == ["openid email profile groups"]
    browser = as_user(None)
    assert sign_in(browser, "alice").status_code == 303 and signed_in(browser)  # what the provider knows is granted
    change = events(db, "update")[-1].changes
    assert change == {"scopes": ["openid email profile", "openid email profile groups"]}


def test_first_sign_in_creates_the_account_and_applies_the_group_mappings(as_user, db, provider):
    browser = as_user(None)
    r = sign_in(browser, "alice")
    assert (r.status_code, r.headers["location"]) == (303, "/")
    assert signed_in(browser)
    alice = db.exec(select(User).where(User.email == "alice@agency.gov")).one()
    assert (alice.username, alice.full_name, alice.is_admin) == ("alice", "Alice Analyst", True)
    assert alice.last_login_at is not None
    tst = db.exec(select(Project).where(Project.key == "TST")).one()
    membership = db.exec(select(Membership).where(Membership.user_id == alice.id)).one()
    assert (membership.project_id, membership.role) == (tst.id, Role.STAFF.value)
    assert db.exec(select(OidcIdentity).where(OidcIdentity.user_id == alice.id)).one().subject == "alice"
    assert [e.entity_id for e in events(db, "sso_create")] == [alice.id]
    assert events(db, "sso_grant")[0].changes == {"is_admin": [False, True], "group": [None, "tracker-admins"]}
    assert events(db, "sso_add_member")[0].changes["group"] == [None, "tst-staff"]
    assert events(db, "sign_in")[-1].actor_id == alice.id  # as every sign-in (accounts.signin.complete)
    assert events(db, "sign_in")[-1].changes["method"] == [None, "oidc"]
    assert not accounts.verify_password(alice, "")  # no password signs this account in


def test_later_sign_ins_match_by_subject_not_email(as_user, db, provider):
    sign_in(as_user(None), "alice")
    alice = db.exec(select(User).where(User.email == "alice@agency.gov")).one()
    alice.email = "alice.renamed@agency.gov"
    db.add(alice)
    db.commit()
    browser = as_user(None)
    assert sign_in(browser, "alice").status_code == 303 and signed_in(browser)
    assert db.exec(select(User).where(User.username.like("alice%"))).all() == [alice]
    assert len(events(db, "sso_create")) == 1 and len(events(db, "sign_in")) == 2


def test_a_verified_email_links_the_existing_account(as_user, db, world, provider):
    browser = as_user(None)
    r = sign_in(browser, "manager")
    assert r.status_code == 303 and signed_in(browser)
    identity = db.exec(select(OidcIdentity).where(OidcIdentity.provider_id == provider.id)).one()
    assert identity.user_id == world.ids["manager"]
    assert [e.entity_id for e in events(db, "sso_link")] == [world.ids["manager"]]
    assert not events(db, "sso_create")
    assert "Manager Person" in browser.get("/").text


def test_the_sign_in_goes_back_to_the_page_asked_for(as_user, provider):
    browser = as_user(None)
    r = browser.get(login_at_provider(start(browser, next_="/projects"), "manager"), follow_redirects=False)
    assert r.headers["location"] == "/projects"


def _refused(r, words: str, status: int) -> None:
    assert r.status_code == status, r.text[:300]
    assert "Sign-in refused" in r.text and words in r.text, r.text[:2000]


@pytest.mark.parametrize(
    ("account", "words"),
    [
        ("mallory", "has not verified your e-mail address viewer@example.gov"),
        ("olga", "may not create accounts for its domain"),
    ],
)
def test_refused_people_see_why_and_nothing_is_made(as_user, db, provider, account, words):
    browser = as_user(None)
    _refused(sign_in(browser, account), words, 403)
    assert not signed_in(browser)
    assert not db.exec(select(OidcIdentity)).all() and not events(db, "sso_create")
    refusal = events(db, "sso_refused")[-1]
    assert (refusal.entity_type, refusal.entity_id) == ("oidc_provider", provider.id)
    assert words in refusal.changes["reason"][1]


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ("audience", "is meant for another application"),
        ("expired", "has expired"),
        ("signature", "signature that does not match"),
        ("unknown_key", "signed with a key it does not publish"),
        ("nonce", "was not asked for"),
    ],
)
def test_a_bad_id_token_is_refused(as_user, db, provider, idp, fault, words):
    browser = as_user(None)
    location = start(browser)
    callback = login_at_provider(location, "manager")
    idp.fault(fault)
    _refused(browser.get(callback, follow_redirects=False), words, 400)
    assert not signed_in(browser)
    assert not db.exec(select(OidcIdentity)).all()
    assert words in events(db, "sso_refused")[-1].changes["reason"][1]


def test_claims_the_id_token_leaves_out_are_read_from_the_userinfo_endpoint(as_user, db, provider, idp):
    before = idp.stats()["userinfo_calls"]
    browser = as_user(None)
    callback = login_at_provider(start(browser), "alice")
    idp.fault("thin")  # the ID token names the subject alone: e-mail, name and groups are the userinfo's
    assert browser.get(callback, follow_redirects=False).status_code == 303 and signed_in(browser)
    alice = db.exec(select(User).where(User.email == "alice@agency.gov")).one()
    assert (alice.full_name, alice.is_admin) == ("Alice Analyst", True)  # the name and the admins' group
    assert idp.stats()["userinfo_calls"] == before + 1
    assert sign_in(as_user(None), "alice").status_code == 303  # a whole ID token: nothing more to ask
    assert idp.stats()["userinfo_calls"] == before + 1


def test_a_userinfo_answer_about_someone_else_is_refused(as_user, db, provider, idp):
    browser = as_user(None)
    callback = login_at_provider(start(browser), "alice")
    idp.fault("thin")
    idp.fault("userinfo_sub")
    _refused(browser.get(callback, follow_redirects=False), "answered about someone else", 502)
    assert not signed_in(browser) and not db.exec(select(OidcIdentity)).all()


def test_a_state_that_does_not_match_is_refused(as_user, provider):
    browser = as_user(None)
    callback = login_at_provider(start(browser), "manager")
    _refused(browser.get(callback.replace("state=", "state=x"), follow_redirects=False), "does not belong", 400)
    # and the sign-in it started is spent: the genuine answer does not work afterwards either
    _refused(browser.get(callback, follow_redirects=False), "does not belong", 400)
    assert not signed_in(browser)


def test_an_answer_for_another_browser_is_refused(as_user, provider):
    callback = login_at_provider(start(as_user(None)), "manager")
    _refused(as_user(None).get(callback, follow_redirects=False), "does not belong", 400)


def test_a_replayed_code_is_refused_by_the_provider(as_user, provider):
    browser = as_user(None)
    first = login_at_provider(start(browser), "manager")
    assert browser.get(first, follow_redirects=False).status_code == 303
    # A second sign-in in the same browser, answered with the first one's code: the state is right, the code spent.
    state = parse_qs(urlsplit(start(browser)).query)["state"][0]
    code = parse_qs(urlsplit(first).query)["code"][0]
    replay = f"/login/oidc/test-idp/callback?code={code}&state={state}"
    _refused(browser.get(replay, follow_redirects=False), "did not accept the sign-in code", 400)


def test_a_sign_in_left_too_long_is_refused(as_user, provider, clock):
    browser = as_user(None)
    callback = login_at_provider(start(browser), "manager")
    clock.advance(minutes=11)
    _refused(browser.get(callback, follow_redirects=False), "took too long", 400)


def test_the_provider_saying_no_is_shown(as_user, provider):
    browser = as_user(None)
    state = parse_qs(urlsplit(start(browser)).query)["state"][0]
    r = browser.get(f"/login/oidc/test-idp/callback?error=access_denied&state={state}", follow_redirects=False)
    _refused(r, "did not sign you in: access_denied", 403)


def test_an_unknown_or_disabled_provider_is_not_found(as_user, db, provider):
    browser = as_user(None)
    assert browser.get("/login/oidc/nobody", follow_redirects=False).status_code == 404
    provider.enabled = False
    db.add(provider)
    db.commit()
    assert browser.get("/login/oidc/test-idp", follow_redirects=False).status_code == 404
    assert "Sign in with Agency ID" not in browser.get("/login").text


def test_a_rotated_key_is_fetched_once_and_accepted(as_user, provider, idp):
    assert sign_in(as_user(None), "manager").status_code == 303  # the old key is known now
    before = idp.stats()["jwks_fetches"]
    idp.rotate()
    browser = as_user(None)
    assert sign_in(browser, "manager").status_code == 303 and signed_in(browser)
    assert idp.stats()["jwks_fetches"] == before + 1
    assert sign_in(as_user(None), "manager").status_code == 303
    assert idp.stats()["jwks_fetches"] == before + 1  # known from then on


def test_signing_out_ends_our_session_and_signs_out_at_the_provider(as_user, provider, idp):
    browser = as_user(None)
    at_provider = httpx.Client()
    callback = login_at_provider(start(browser), "manager", browser=at_provider)
    assert browser.get(callback, follow_redirects=False).status_code == 303
    r = browser.post("/logout")
    # a page of ours that moves on to the provider (the sign-out form's CSP allows no redirect to another site)
    assert r.status_code == 200 and "Now signing you out of Agency ID too" in r.text
    location = re.search(r'<meta http-equiv="refresh" content="0;url=([^"]+)">', r.text).group(1).replace("&amp;", "&")
    assert f'href="{location.replace("&", "&amp;")}"' in r.text
    end = urlsplit(location)
    assert f"{end.scheme}://{end.netloc}{end.path}" == f"{idp.issuer}/session/end"
    query = parse_qs(end.query)
    assert query["post_logout_redirect_uri"] == [f"{APP_BASE}/login"] and query["id_token_hint"][0].count(".") == 2
    assert not signed_in(browser)
    # At the provider: its confirmation, then back to our sign-in page.
    page = at_provider.get(location)
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    action = re.search(r'action="([^"]+/session/end/confirm)"', page.text).group(1)
    done = at_provider.post(action, data=form | {"logout": "yes"})
    assert done.status_code in (302, 303), done.text[:1000]
    assert done.headers["location"].startswith(f"{APP_BASE}/login")
    # signed out there too: the next sign-in asks for the password again
    again = at_provider.get(start(browser))
    assert "Provider password" in at_provider.get(httpx.URL(str(again.url)).join(again.headers["location"])).text


def test_a_password_session_signs_out_here_only(as_user):
    r = as_user("manager").post("/logout")
    assert (r.status_code, r.headers["location"]) == (303, "/login")


# --- the provider from the environment --------------------------------------------------------------------------------


def test_the_environments_provider_signs_people_in(database_url, conn, idp, db, world):
    settings = make_settings(
        database_url,
        oidc_issuer=idp.issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
        oidc_name="Agency SSO",
        oidc_allowed_domains="agency.gov, example.org",
    )
    from litestar.testing import TestClient

    app = SharedApp(settings).fresh(conn)
    with TestClient(app, base_url="http://testserver.local") as browser:
        assert "Sign in with Agency SSO" in browser.get("/login").text
        r = sign_in(browser, "alice", key=ENV_KEY)
        assert r.status_code == 303 and signed_in(browser)
    row = db.exec(select(OidcProvider).where(OidcProvider.key == ENV_KEY)).one()
    assert (row.from_env, row.name, row.client_secret, row.allowed_domains) == (
        True,
        "Agency SSO",
        "",
        "agency.gov example.org",
    )
    assert db.exec(select(OidcIdentity).where(OidcIdentity.provider_id == row.id)).one()


# --- passwords off -----------------------------------------------------------------------------------------------------


def test_passwords_off_leaves_only_break_glass_admins(as_user, db, world, provider):
    admin = as_user("admin")
    r = admin.post("/admin/sign-in/policy", {"local_passwords": "false", "version": "1"})
    assert r.status_code == 422 and "Name at least one break-glass admin" in r.text
    assert 'id="f-break_glass_ids-error"' in r.text
    r = admin.post(
        "/admin/sign-in/policy",
        {"local_passwords": "false", "break_glass_ids": str(world.ids["admin"]), "version": "1"},
    )
    assert r.status_code == 303
    page = as_user(None).get("/login").text
    assert "Sign in with Agency ID" in page and 'name="password"' not in page
    assert 'name="password"' in as_user(None).get("/login?local=1").text
    r = _password_login(as_user(None), "manager")
    assert r.status_code == 403 and "Password sign-in is turned off for your account" in r.text
    assert "Sign in with Agency ID instead" in r.text
    assert _password_login(as_user(None), "admin").status_code == 303
    assert events(db, "update")[-1].changes == {"local_passwords": [True, False], "break_glass": [[], ["admin"]]}


def _password_login(browser, username: str):
    browser.token = csrf_from(browser.get("/login?local=1").text)  # the break-glass form
    return browser.post("/login", {"username": username, "password": PASSWORD})


def test_only_admins_can_be_break_glass(as_user, world):
    r = as_user("admin").post(
        "/admin/sign-in/policy", {"local_passwords": "false", "break_glass_ids": str(world.ids["manager"])}
    )
    assert r.status_code == 422 and "Only active admins can be break-glass admins" in r.text


def test_password_sign_in_is_unchanged_while_passwords_are_on(as_user, provider):
    assert as_user(None).login("manager", PASSWORD).status_code == 303
