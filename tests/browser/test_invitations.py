"""Invitations in the browser: a project's manager invites someone by e-mail (refused beside the field first), the
dispatcher mails the link through a real SMTP server, and the invitee opens it, sets up their account (a short password
refused beside its field) and lands in the project. Every page passes axe at desktop and phone size."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine

from tests.browser.conftest import LIVE, login
from tracker.core.db import session_factory_for
from tracker.dispatch import service as dispatch
from tracker.mail import invitations as invitation_mail

pytestmark = pytest.mark.browser


def _dispatch_invitations(live_server: str, smtp_url: str) -> None:
    settings = LIVE["settings"].model_copy(update={"smtp_url": smtp_url, "base_url": live_server})
    engine = create_engine(settings.database_url)
    try:
        handlers = {invitation_mail.HANDLER: dispatch.HANDLERS[invitation_mail.HANDLER]}
        ctx = dispatch.Context.from_settings(settings)
        dispatch.Dispatcher(session_factory_for(engine), ctx, handlers, {}).once()
    finally:
        engine.dispose()


def test_a_manager_invites_and_the_invitee_joins_from_the_link(page: Page, live_server: str, inbox, look):
    _dispatch_invitations(live_server, inbox.url)  # the handler starts at the end of the trail: what comes next is sent
    login(page, live_server, "mrivera")
    page.goto(f"{live_server}/projects/CWS")
    page.get_by_role("button", name="Edit settings").click()  # a manager keeps the project's settings
    expect(page.get_by_role("heading", name="Settings of CWS")).to_be_visible()
    expect(page.get_by_label(re.compile("Archived"))).to_have_count(0)  # archiving is the admins'
    look("project-settings-manager")
    page.get_by_role("link", name="CWS", exact=True).click()
    page.get_by_role("link", name="Manage members and roles").click()
    expect(page.get_by_role("button", name="Add member")).to_be_visible()  # the project's members are theirs too
    page.get_by_role("link", name="Invite someone by e-mail").click()
    expect(page.get_by_role("heading", name="Invite someone to CWS")).to_be_visible()
    page.get_by_label("E-mail address (required)").fill("jordan.lee@county")
    page.get_by_label("Name (required)").fill("Jordan Lee")
    page.get_by_label("Role (required)").select_option("viewer")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator("#f-email-error")).to_be_visible()  # not an address: refused beside the field
    expect(page.get_by_label("Name (required)")).to_have_value("Jordan Lee")
    look("invitations-refused")
    page.get_by_label("E-mail address (required)").fill("jordan.lee@county.example.gov")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to jordan.lee@county.example.gov")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("jordan.lee@county.example.gov"))).to_contain_text("Viewer")
    look("invitations")

    _dispatch_invitations(live_server, inbox.url)
    (message,) = inbox.to("jordan.lee@county.example.gov")
    link = re.search(r"http\S+/invitations/\S+", message.get_body(("plain",)).get_content()).group(0)

    page.context.clear_cookies()
    page.goto(link)
    expect(page.get_by_role("heading", name=re.compile("Join CWS"))).to_be_visible()
    expect(page.get_by_label("Your name (required)")).to_have_value("Jordan Lee")
    page.get_by_label("Username (required)").fill("jlee")
    page.get_by_label("Password (required)", exact=True).fill("short")
    page.get_by_label("Password again (required)").fill("short")
    page.get_by_role("button", name="Create my account").click()
    expect(page.locator("#f-password-error")).to_be_visible()
    expect(page.get_by_label("Username (required)")).to_have_value("jlee")
    look("invitation-refused")
    page.get_by_label("Password (required)", exact=True).fill("a-long-enough-password")
    page.get_by_label("Password again (required)").fill("a-long-enough-password")
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url(f"{live_server}/projects/CWS")
    expect(page.get_by_text("Welcome, Jordan Lee")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("CWS")
    look("invited-member-lands")

    page.goto(link)  # the link works once
    expect(page.get_by_text("used already")).to_be_visible()
    look("invitation-used")
