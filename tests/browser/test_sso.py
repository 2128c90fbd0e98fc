"""Single sign-on in Chromium, the whole round trip: our sign-in page, the test provider's own form, back signed in
(an account made just in time, an admin by its group), the admins' sign-in page, a refusal, and signing out at the
provider too."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session

from tests.browser.conftest import screenshot
from tests.conftest import make_settings, make_world
from tests.dbutil import fresh_database
from tests.live import serving
from tests.oidc.conftest import CLIENT_ID, CLIENT_SECRET, PROVIDER_PASSWORD, running_provider
from tracker.accounts import service as accounts
from tracker.accounts.models import User
from tracker.app import create_app
from tracker.cli import migrate_database
from tracker.core.db import make_engine
from tracker.core.forms import parse
from tracker.sso import providers, service

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def sso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a database of its own, and the test provider sending codes back to it, set up by an admin."""
    with fresh_database(tmp_path_factory.mktemp("sso")) as url:
        migrate_database(url)
        settings = make_settings(url)
        with serving(create_app(settings)) as base:
            settings.base_url = base  # callbacks go to where it is served (known once it is)
            with running_provider(base, ("agency",)) as idp:
                engine = make_engine(url)
                with Session(engine, expire_on_commit=False) as db:
                    world = make_world(db)
                    admin = accounts.principal(db.get(User, world.ids["admin"]))
                    form = {"key": "agency", "name": "Agency ID", "issuer": idp.issuer, "client_id": CLIENT_ID}
                    form |= {"client_secret": CLIENT_SECRET, "allowed_domains": "agency.gov"}
                    row = providers.create(db, admin, parse(providers.ProviderForm, form))
                    mapping = {"provider_id": row.id, "group_name": "tracker-admins", "grant": "admin"}
                    service.add_mapping(db, admin, parse(service.MappingForm, mapping))
                    db.commit()
                yield base
                engine.dispose()


def _provider_sign_in(page: Page, account: str, name: str) -> None:
    page.get_by_role("button", name="Sign in with Agency ID").click()
    page.get_by_label("Account").fill(account)
    page.get_by_label("Provider password").fill(PROVIDER_PASSWORD)
    screenshot(page, f"sso-provider-form-{name}")
    page.get_by_role("button", name="Continue").click()


def test_the_whole_round_trip(page: Page, sso_server: str, look):
    page.goto(f"{sso_server}/login")
    expect(page.get_by_role("button", name="Sign in with Agency ID")).to_be_visible()
    look("sso-login")
    _provider_sign_in(page, "alice", "alice")
    page.wait_for_url(f"{sso_server}/")
    expect(page.get_by_text("Alice Analyst").first).to_be_visible()
    look("sso-signed-in")

    page.goto(f"{sso_server}/admin/sign-in")  # an admin through the tracker-admins group
    expect(page.get_by_role("heading", name="Sign-in", exact=True)).to_be_visible()
    expect(page.get_by_text(CLIENT_SECRET)).to_have_count(0)
    look("sso-admin")

    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Yes, sign me out").click()  # the provider's own confirmation
    page.wait_for_url(re.compile(re.escape(f"{sso_server}/login")))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(f"{sso_server}/")
    page.wait_for_url(re.compile(r"/login"))


def test_a_refusal_is_a_clear_page(page: Page, sso_server: str, look):
    page.goto(f"{sso_server}/login")
    _provider_sign_in(page, "olga", "olga")
    expect(page.get_by_role("heading", name="Sign-in refused")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("may not create accounts for its domain")
    look("sso-refused")
    page.get_by_role("link", name="Back to sign-in").click()
    page.wait_for_url(f"{sso_server}/login")


def test_a_wrong_password_at_the_provider_stays_there(page: Page, sso_server: str):
    page.goto(f"{sso_server}/login")
    page.get_by_role("button", name="Sign in with Agency ID").click()
    page.get_by_label("Account").fill("alice")
    page.get_by_label("Provider password").fill("wrong")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong account or password")
