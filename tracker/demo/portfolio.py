"""A realistic demo portfolio: three state programmes, their systems integrators, and twelve people."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, func, select

from tracker.accounts import service as accounts
from tracker.accounts.models import User
from tracker.core.clock import frozen_time, utcnow
from tracker.core.db import make_engine, session_factory_for
from tracker.core.files import FileStore
from tracker.core.forms import parse
from tracker.demo import attachments as attachments_demo
from tracker.demo import changes as changes_demo
from tracker.demo import custom_fields as custom_fields_demo
from tracker.demo import decisions as decisions_demo
from tracker.demo import deliverables as deliverables_demo
from tracker.demo import lessons as lessons_demo
from tracker.demo import levels as levels_demo
from tracker.demo import library as library_demo
from tracker.demo import mail as mail_demo
from tracker.demo import meetings as meetings_demo
from tracker.demo import register as register_demo
from tracker.demo import reports as reports_demo
from tracker.projects import organisation
from tracker.projects import service as projects
from tracker.projects.models import Organisation
from tracker.projects.service import Access
from tracker.search import index as search_index
from tracker.settings import get_settings

DEMO_PASSWORD = "demo-password"

# username, full name, title, organization, admin
USERS = [
    ("admin", "Alex Morgan", "PMO Administrator", "Department of Technology", True),
    ("mrivera", "Maria Rivera", "Acceptance Manager", "Department of Social Services", False),
    ("jchen", "James Chen", "Acceptance Manager", "Employment Development Department", False),
    ("pokafor", "Patricia Okafor", "Project Director", "Department of Motor Vehicles", False),
    ("dkim", "Daniel Kim", "Business Analyst", "Department of Technology", False),
    ("snguyen", "Sofia Nguyen", "Test Lead", "Department of Motor Vehicles", False),
    ("rpatel", "Raj Patel", "Security Analyst", "Employment Development Department", False),
    ("tbrooks", "Tom Brooks", "Delivery Manager", "Northbridge Systems Integration", False),
    ("lgarcia", "Lucia Garcia", "Engagement Lead", "Apex Public Sector Consulting", False),
    ("ewalsh", "Ethan Walsh", "Project Manager", "Keystone Digital Government", False),
    ("dwhitfield", "Dana Whitfield", "Deputy Director", "Department of Social Services", False),
    ("hlee", "Helen Lee", "State Chief Information Officer", "Department of Technology", False),
]

PROJECTS = [
    {
        "key": "CWS",
        "name": "Child Welfare Services Modernization",
        "description": "Replaces the 1990s case management system used by 58 county child welfare agencies.",
        "sponsor": "Dana Whitfield",
        "contractor": "Northbridge Systems Integration LLC",
        "contract_number": "DSS-2025-0147",
        "contact_name": "Priya Natarajan",
        "contact_title": "Engagement Director",
        "contact_address": "1500 Capitol Mall, Suite 900\nSacramento, CA 95814",
        "contact_email": "pnatarajan@northbridge.example.com",
        "start_date": "2025-07-01",
        "end_date": "2028-06-30",
        "timezone": "America/Los_Angeles",
        "review_days": 10,
        "resubmit_days": 10,
        "deemed_policy": "never",
        "deemed_days": 15,
        "holiday_calendar": "US-CA",
        "extra_holidays": "2026-12-24 Christmas Eve closure\n2026-12-31 New Year's Eve closure",
    },
    {
        "key": "UIM",
        "name": "Unemployment Insurance Modernization",
        "description": "New claimant portal, benefits engine and employer tax module for the UI program.",
        "sponsor": "Helen Lee",
        "contractor": "Apex Public Sector Consulting",
        "contract_number": "EDD-24-3310",
        "contact_name": "Marcus Hale",
        "contact_title": "Program Executive",
        "contact_address": "75 State Street\nAlbany, NY 12207",
        "contact_email": "mhale@apex.example.com",
        "start_date": "2024-10-01",
        "end_date": "2027-09-30",
        "timezone": "America/New_York",
        "review_days": 15,
        "resubmit_days": 10,
        "deemed_policy": "deemed",
        "deemed_days": 20,
        "holiday_calendar": "US-NY",
        "extra_holidays": "",
    },
    {
        "key": "DMV",
        "name": "Vehicle Registration Platform Replacement",
        "description": "Moves vehicle registration, titling and fee collection off the mainframe.",
        "sponsor": "Helen Lee",
        "contractor": "Keystone Digital Government Inc.",
        "contract_number": "DMV-RFP-2311",
        "contact_name": "Renee Okafor",
        "contact_title": "Account Director",
        "contact_address": "600 Congress Avenue\nAustin, TX 78701",
        "contact_email": "rokafor@keystone.example.com",
        "start_date": "2026-01-05",
        "end_date": "2029-01-04",
        "timezone": "America/Chicago",
        "review_days": 10,
        "resubmit_days": 15,
        "deemed_policy": "never",
        "deemed_days": 15,
        "holiday_calendar": "US-TX",
        "extra_holidays": "",
    },
]

MEMBERS = {
    "CWS": [
        ("mrivera", "manager"),
        ("pokafor", "staff"),
        ("dkim", "staff"),
        ("tbrooks", "contractor"),
        ("dwhitfield", "viewer"),
        ("hlee", "viewer"),
    ],
    "UIM": [
        ("jchen", "manager"),
        ("dkim", "staff"),
        ("rpatel", "staff"),
        ("lgarcia", "contractor"),
        ("hlee", "viewer"),
    ],
    "DMV": [
        ("pokafor", "manager"),
        ("snguyen", "staff"),
        ("ewalsh", "contractor"),
        ("hlee", "viewer"),
        ("dwhitfield", "viewer"),
    ],
}


def load(
    database_url: str,
    only_if_empty: bool = True,
    upload_dir: Path | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> bool:
    """Replay the demo's history through the services, saying each step as it starts (`say`)."""
    settings = get_settings()
    store = FileStore(upload_dir or settings.upload_dir, settings.max_upload_mb * 1024 * 1024)
    engine = make_engine(database_url)
    started = time.monotonic()

    def step(text: str) -> None:
        say(f"  [{time.monotonic() - started:5.1f} s] {text}")

    try:
        with session_factory_for(engine)() as db:
            if only_if_empty and db.exec(select(func.count()).select_from(User)).one() > 0:
                return False
            step("People and projects")
            with frozen_time(utcnow() - timedelta(weeks=18)):  # people and projects predate the 16-week history
                seed(db)
                _organisation(db, store)
            step("Sixteen weeks of deliverables: plans, submissions, reviews and decisions")
            deliverables_demo.load(db, store)
            step("Risks, issues and action items")
            register_demo.load(db)
            step("Change requests")
            changes_demo.load(db)
            step("Lessons learned")
            lessons_demo.load(db)
            step("Meeting minutes")
            meetings_demo.load(db)
            step("Decision log")
            decisions_demo.load(db)
            step("Files on register records")
            attachments_demo.load(db, store)
            step("Custom fields on the registers")
            custom_fields_demo.load(db)
            step("Saved reports")
            library_demo.load(
                db, {key: next(u for u, role in members if role == "manager") for key, members in MEMBERS.items()}
            )
            step("Service levels the contractor reported")
            levels_demo.load(db)  # before the reports, so the published ones carry the credits and reported levels
            step("Weekly status reports")
            reports_demo.load(db)  # after every other history: the reports read the record as it stood each week
            step("Last week's mail")
            mail_demo.load(db)  # what the last week would have sent, kept for the Outgoing mail page
            search_index.reindex(db.connection())  # the hook kept it already, unless loaded without the app around
            db.commit()
        with session_factory_for(engine)() as db:  # as a server does: the letters are rendered after the commit
            step(f"Decision letters, rendered on {os.cpu_count() or 1} cores")
            deliverables_demo.render_records(db, store)
        step("Done")
        return True
    finally:
        engine.dispose()


def seed(db: Session) -> dict[str, User]:
    users: dict[str, User] = {}
    for username, full_name, title, org, is_admin in USERS:
        form = parse(
            accounts.UserForm,
            {
                "username": username,
                "full_name": full_name,
                "title": title,
                "organization": org,
                "email": f"{username}@{'example.gov' if 'Department' in org else 'example.com'}",
                "is_admin": is_admin,
                "password": DEMO_PASSWORD,
            },
        )
        users[username] = accounts.create_user(db, None, form)
    admin = accounts.principal(users["admin"])
    for spec in PROJECTS:
        project = projects.create_project(db, admin, parse(projects.ProjectForm, spec))
        access = Access(project, None, True, projects.perms_for(None, True))
        for username, role in MEMBERS[project.key]:
            projects.add_member(db, admin, access, projects.MemberForm(user_id=users[username].id, role=role))
    db.flush()
    return users


ORGANISATION = "State Enterprise Project Management Office"
# A plain seal for the letterhead, drawn here and rendered to PNG as an admin would upload it.
LOGO_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="120" viewBox="0 0 120 120">'
    '<circle cx="60" cy="60" r="56" fill="#1d4f91"/><circle cx="60" cy="60" r="44" fill="none" stroke="#fff" '
    'stroke-width="3"/><path d="M60 26 L68 50 L94 50 L73 65 L81 90 L60 75 L39 90 L47 65 L26 50 L52 50 Z" '
    'fill="#ffd166"/></svg>'
)


def _organisation(db: Session, store: FileStore) -> None:
    import resvg_py  # the demo's logo only; the app itself never draws one

    sha, size = store.put(bytes(resvg_py.svg_to_bytes(svg_string=LOGO_SVG)))
    logo = {"logo_sha256": sha, "logo_type": "image/png", "logo_name": "seal.png", "logo_size": size}
    db.add(Organisation(id=organisation.ROW_ID, name=ORGANISATION, **logo))
    db.flush()


def logins_text() -> str:
    roles: dict[str, list[str]] = {}
    for key, members in MEMBERS.items():
        for username, role in members:
            roles.setdefault(username, []).append(f"{role} in {key}")
    lines = [f"Demo logins (password for every account: {DEMO_PASSWORD}):"]
    for username, full_name, _title, _org, is_admin in USERS:
        what = "admin" if is_admin else ", ".join(roles.get(username, []))
        lines.append(f"  {username:<11} {full_name:<16} {what}")
    return "\n".join(lines)
