"""Every page and endpoint × every persona: allowed 2xx/3xx, denied 403/404, anonymous to login or 401."""

from __future__ import annotations

import pytest

PERSONAS = ("admin", "manager", "staff", "contractor", "viewer", "outsider", None)
ALL = {"admin", "manager", "staff", "contractor", "viewer", "outsider"}
MEMBERS = {"admin", "manager", "staff", "contractor", "viewer"}
READERS = {"admin", "manager", "staff", "viewer"}  # contractors never see the project-wide history or the register
EDITORS = {"manager", "staff"}  # change the register
HIDDEN = {"contractor": 403, "outsider": 404}

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
    ("GET", "/projects/TST/deliverables", MEMBERS, 404),
    ("GET", "/projects/TST/deliverables/new", {"manager"}, {"outsider": 404, "*": 403}),
    ("GET", "/projects/TST/holdback", MEMBERS, 404),
    ("GET", "/profile", ALL, None),
    ("GET", "/api/v1/me", ALL, None),
    ("GET", "/api/v1/projects", ALL, None),
    ("GET", "/api/v1/projects/TST", MEMBERS, 404),
    ("GET", "/api/v1/projects/TST/members", MEMBERS, 404),
    ("GET", "/api/v1/projects/TST/deliverables", MEMBERS, 404),
    ("GET", "/api/v1/projects/TST/audit", READERS, {"contractor": 403, "outsider": 404}),
    ("GET", "/projects/TST/risks", READERS, HIDDEN),
    ("GET", "/projects/TST/risks?status=active&level=high&due=true&sort=-due", READERS, HIDDEN),
    ("GET", "/projects/TST/risks/heat-map", READERS, HIDDEN),
    ("GET", "/projects/TST/risks/new", EDITORS, {"outsider": 404, "*": 403}),
    ("GET", "/projects/TST/issues", READERS, HIDDEN),
    ("GET", "/projects/TST/issues/new", EDITORS, {"outsider": 404, "*": 403}),
    ("GET", "/projects/TST/register-settings", {"admin"}, {"outsider": 404, "*": 403}),
    ("GET", "/api/v1/projects/TST/risks", READERS, HIDDEN),
    ("GET", "/api/v1/projects/TST/risks/heatmap", READERS, HIDDEN),
    ("GET", "/api/v1/projects/TST/issues", READERS, HIDDEN),
    ("GET", "/api/v1/projects/TST/register-settings", READERS, HIDDEN),
    ("GET", "/projects/TST/risks/import", EDITORS, {"outsider": 404, "*": 403}),
    ("GET", "/projects/TST/issues/import", EDITORS, {"outsider": 404, "*": 403}),
    ("GET", "/projects/TST/risks/export?format=csv&status=active", READERS, HIDDEN),
    ("GET", "/projects/TST/issues/export?format=xlsx", READERS, HIDDEN),
    ("GET", "/api/v1/projects/TST/risks/export?format=xlsx", READERS, HIDDEN),
    ("GET", "/api/v1/projects/TST/issues/export?priority=high", READERS, HIDDEN),
    ("GET", "/projects/TST/saved-reports/", MEMBERS, 404),
    ("GET", "/projects/TST/saved-reports/?q=x&source=risks&whose=mine", MEMBERS, 404),
    ("GET", "/projects/TST/saved-reports/new", EDITORS, {"outsider": 404, "*": 403}),
    ("GET", "/projects/TST/saved-reports/new?source=issues", EDITORS, {"outsider": 404, "*": 403}),
    ("GET", "/api/v1/saved-reports", ALL, None),
    ("GET", "/api/v1/saved-reports?project=TST", MEMBERS, 404),
    ("GET", "/api/v1/saved-reports/catalog", ALL, None),
    ("GET", "/projects/TST/status-reports", READERS, HIDDEN),
    ("GET", "/projects/TST/status-reports/draft", EDITORS, {"outsider": 404, "*": 403}),  # viewers: published only
    ("GET", "/projects/TST/status-reports/draft?period_end=2026-01-02", EDITORS, {"outsider": 404, "*": 403}),
    ("GET", "/projects/TST/scorecard", READERS, HIDDEN),
    ("GET", "/projects/TST/scorecard?period_end=2026-01-02", READERS, HIDDEN),
    ("GET", "/projects/TST/report-targets", {"admin"}, {"outsider": 404, "*": 403}),
    ("GET", "/portfolio", ALL, None),
    ("GET", "/portfolio?sort=-critical", ALL, None),
    ("GET", "/api/v1/portfolio", ALL, None),
    ("GET", "/api/v1/projects/TST/status-reports", READERS, HIDDEN),
    ("GET", "/api/v1/projects/TST/status-reports/draft", EDITORS, {"outsider": 404, "*": 403}),
    ("GET", "/api/v1/projects/TST/scorecard?period_end=2026-01-02", READERS, HIDDEN),
]


def _expected_denial(rule, persona: str) -> int:
    if isinstance(rule, dict):
        return rule.get(persona, rule.get("*", 403))
    return rule


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_page_and_endpoint_for_every_persona(as_user, persona):
    b = as_user(persona)
    for method, path, allowed, denial in PAGES:
        _assert_answer(b, persona, method, path, allowed, denial)


def _assert_answer(b, persona: str | None, method: str, path: str, allowed: set, denial) -> None:  # noqa: ANN001
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


# Routes under one decided deliverable: {d}, {decision} and {record} are filled in by the `decided` fixture.
DECIDED = [
    ("GET", "/projects/TST/deliverables/{d}/decisions/{decision}/rejection_letter", MEMBERS, 404),
    ("GET", "/projects/TST/deliverables/{d}/decisions/{decision}/signoff", MEMBERS, 404),
    ("GET", "/projects/TST/deliverables/{d}/records/{record}", MEMBERS, 404),
    ("GET", "/api/v1/deliverables/{d}/records", MEMBERS, 404),
    ("GET", "/api/v1/deliverables/{d}/records/{record}", MEMBERS, 404),
]


@pytest.fixture
def decided(app, world, db, tmp_path) -> dict[str, int]:  # noqa: ANN001
    """D-07 submitted, reviewed and rejected, so its decision records exist."""
    from tests.deliverables.test_service import _as, _plan
    from tracker.core.files import FileStore
    from tracker.core.forms import parse
    from tracker.deliverables import records, service

    app.state.settings = app.state.settings.model_copy(update={"upload_dir": tmp_path / "files"})
    store = FileStore.from_settings(app.state.settings)
    d = _plan(db, world)
    contractor, c_access = _as(db, world, "contractor")
    service.submit(db, contractor, c_access, d, "", [service.Upload("v1.pdf", "", b"v1")], store)
    manager, access = _as(db, world, "manager")
    service.start_review(db, manager, access, d)
    decision = service.decide(db, manager, access, d, parse(service.DecisionForm, {
        "outcome": "rejected", "findings": "Incomplete"}), store=store)  # fmt: skip
    db.commit()
    return {"d": d.id, "decision": decision.id, "record": records.records_of(db, decision.id)[0].id}


@pytest.mark.parametrize("persona", PERSONAS)
def test_decided_deliverable_routes_for_every_persona(as_user, decided, persona):
    b = as_user(persona)
    for method, path, allowed, denial in DECIDED:
        _assert_answer(b, persona, method, path.format(**decided), allowed, denial)


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


@pytest.fixture
def register(db, world):
    """One risk with an action item, and one issue with an action item, in TST."""
    from tests.register.conftest import acting, make_issue, make_risk
    from tracker.actions import service as actions
    from tracker.core.forms import parse

    risk, issue = make_risk(db, world), make_issue(db, world)
    actor, access = acting(db, world, "staff")
    r_item = actions.add(db, actor, access, risk, parse(actions.ActionForm, {"description": "a", "plan": "mitigation"}))
    i_item = actions.add(db, actor, access, issue, parse(actions.ActionForm, {"description": "b"}))
    db.commit()
    return {"risk": risk.id, "issue": issue.id, "r_item": r_item.id, "i_item": i_item.id}


def _register_reads(ids):
    r, i, a = ids["risk"], ids["issue"], ids["r_item"]
    return [
        (f"/projects/TST/risks/{r}", READERS, HIDDEN),
        (f"/projects/TST/risks/{r}/edit", EDITORS, {"outsider": 404, "*": 403}),
        (f"/projects/TST/issues/{i}", READERS, HIDDEN),
        (f"/projects/TST/issues/{i}/edit", EDITORS, {"outsider": 404, "*": 403}),
        (f"/projects/TST/actions/{a}/edit", EDITORS, {"outsider": 404, "*": 403}),
        (f"/api/v1/risks/{r}", READERS, HIDDEN), (f"/api/v1/risks/{r}/history", READERS, HIDDEN),
        (f"/api/v1/risks/{r}/actions", READERS, HIDDEN), (f"/api/v1/issues/{i}", READERS, HIDDEN),
        (f"/api/v1/issues/{i}/decisions", READERS, HIDDEN), (f"/api/v1/issues/{i}/actions", READERS, HIDDEN),
        (f"/api/v1/action-items/{a}", READERS, HIDDEN),
    ]


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_register_record_page_and_endpoint_for_every_persona(as_user, register, persona):
    b = as_user(persona)
    for path, allowed, denial in _register_reads(register):
        r = b.client.get(path, follow_redirects=False)
        if persona is None:
            assert r.status_code == (401 if path.startswith("/api/") else 302), (path, r.status_code)
        elif persona in allowed:
            assert r.status_code == 200, (persona, path, r.status_code, r.text[:300])
        else:
            assert r.status_code == _expected_denial(denial, persona), (persona, path, r.status_code)


def _register_writes(ids):
    r, i, a = ids["risk"], ids["issue"], ids["r_item"]
    risk_form = {"title": "Changed", "probability": "1", "impact": "1", "version": "1"}
    issue_form = {"title": "Changed", "priority": "low", "version": "1"}
    return [
        ("POST", "/projects/TST/risks", risk_form), ("POST", f"/projects/TST/risks/{r}/edit", risk_form),
        ("POST", f"/projects/TST/risks/{r}/quick", {"probability": "1", "version": "1"}),
        ("POST", f"/projects/TST/risks/{r}/review", {"version": "1"}),
        ("POST", f"/projects/TST/risks/{r}/convert", {"version": "1"}),
        ("POST", f"/projects/TST/risks/{r}/actions", {"description": "x", "plan": "mitigation"}),
        ("POST", "/projects/TST/issues", issue_form), ("POST", f"/projects/TST/issues/{i}/edit", issue_form),
        ("POST", f"/projects/TST/issues/{i}/quick", {"status": "in_progress", "version": "1"}),
        ("POST", f"/projects/TST/issues/{i}/decisions", {"decision": "x", "decided_by": "y"}),
        ("POST", f"/projects/TST/issues/{i}/actions", {"description": "x"}),
        ("POST", f"/projects/TST/actions/{a}/done", {"done": "true", "version": "1"}),
        ("POST", f"/projects/TST/actions/{a}/edit", {"description": "x", "version": "1"}),
        ("POST", "/projects/TST/risks/import", {}), ("POST", "/projects/TST/issues/import", {}),
        ("POST", "/projects/TST/risks/import/" + "0" * 64, {"column-0": "title"}),
        ("API-POST", "/api/v1/projects/TST/risks", {"title": "x", "probability": 1, "impact": 1}),
        ("API-PATCH", f"/api/v1/risks/{r}", {"impact": 1, "version": 1}),
        ("API-POST", f"/api/v1/risks/{r}/review", {"version": 1}),
        ("API-POST", f"/api/v1/risks/{r}/convert", {"version": 1}),
        ("API-POST", f"/api/v1/risks/{r}/actions", {"description": "x", "plan": "mitigation"}),
        ("API-POST", "/api/v1/projects/TST/issues", {"title": "x"}),
        ("API-PATCH", f"/api/v1/issues/{i}", {"title": "x", "version": 1}),
        ("API-POST", f"/api/v1/issues/{i}/decisions", {"decision": "x", "decided_by": "y"}),
        ("API-POST", f"/api/v1/issues/{i}/actions", {"description": "x"}),
        ("API-PATCH", f"/api/v1/action-items/{a}", {"done": True, "version": 1}),
    ]


@pytest.mark.parametrize("persona", ["admin", "contractor", "viewer", "outsider"])
def test_only_managers_and_staff_change_the_register(as_user, register, persona, db):
    from sqlmodel import func, select

    from tracker.actions.models import ActionItem
    from tracker.audit.models import AuditEvent
    from tracker.issues.models import Issue

    b = as_user(persona)
    before = db.exec(select(func.count()).select_from(AuditEvent)).one()
    for method, path, data in _register_writes(register):
        if method == "POST":
            r = b.post(path, data)
        else:
            r = b.api(method.removeprefix("API-"), path, json=data)
        assert r.status_code == (404 if persona == "outsider" else 403), (persona, method, path, r.status_code)
    db.expire_all()
    assert db.exec(select(func.count()).select_from(AuditEvent)).one() == before
    assert db.get(Issue, register["issue"]).version == 1 and db.get(ActionItem, register["r_item"]).done_at is None


def test_register_settings_are_changed_by_admins_only(as_user):
    values = {f"{kind}_days_{level}": "9" for kind in ("review", "escalate")
              for level in ("critical", "high", "medium", "low")}  # fmt: skip
    for persona in ("manager", "staff", "viewer", "contractor"):
        assert as_user(persona).post("/projects/TST/register-settings", values).status_code == 403
    assert as_user("outsider").post("/projects/TST/register-settings", values).status_code == 404
    assert as_user("admin").post("/projects/TST/register-settings", values).status_code == 303
    r = as_user("admin").post("/projects/TST/register-settings", values | {"review_days_low": "0"})
    assert r.status_code == 422 and 'id="f-review_days_low-error"' in r.text and 'value="9"' in r.text


@pytest.fixture
def saved(db, world):
    """In TST: a shared risk report and a private one by staff, a shared deliverable report by the manager."""
    from tests.library.conftest import definition, save

    risks = definition("risks", ["code", "level"])
    ids = {"shared": save(db, world, "staff", risks, "Shared risks", shared=True).id,
           "private": save(db, world, "staff", risks, "Staff's own").id,
           "deliverables": save(db, world, "manager", definition("deliverables", ["code"]), "Late", shared=True).id}
    db.commit()
    return ids


def _saved_reads(ids):
    out = []
    for kind, allowed, denial in (("shared", READERS, HIDDEN), ("deliverables", MEMBERS, 404), ("private", {"staff"}, 404)):
        n = ids[kind]
        out += [(f"/projects/TST/saved-reports/{n}{suffix}", allowed, denial)
                for suffix in ("", "?page=2", "/export.csv", "/export.xlsx")]
        out += [(f"/api/v1/saved-reports/{n}", allowed, denial), (f"/api/v1/saved-reports/{n}/run", allowed, denial)]
    out += [(f"/projects/TST/saved-reports/{ids['shared']}/edit", {"staff", "manager"}, {"outsider": 404, "*": 403}),
            (f"/projects/TST/saved-reports/{ids['deliverables']}/edit", {"manager"},
             {"outsider": 404, "*": 403}),
            (f"/projects/TST/saved-reports/{ids['private']}/edit", {"staff"}, 404)]
    return out


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_saved_report_page_and_endpoint_for_every_persona(as_user, saved, persona):
    b = as_user(persona)
    for path, allowed, denial in _saved_reads(saved):
        _assert_answer(b, persona, "GET", path, allowed, denial)


@pytest.mark.parametrize("persona", ["admin", "contractor", "viewer", "outsider", None])
def test_only_owners_and_managers_change_saved_reports(as_user, saved, persona, db):
    from sqlmodel import func, select

    from tracker.audit.models import AuditEvent
    from tracker.library.models import SavedReport

    form = {"source": "risks", "previous_source": "risks", "columns": "code", "name": "x", "version": "1"}
    b = as_user(persona)
    before = db.exec(select(func.count()).select_from(AuditEvent)).one()
    for n in saved.values():
        expected = 401 if persona is None else 404 if persona == "outsider" or n == saved["private"] else 403
        for path in (f"/projects/TST/saved-reports/{n}/edit", f"/projects/TST/saved-reports/{n}/duplicate",
                     f"/projects/TST/saved-reports/{n}/delete"):
            r = b.post(path, form)
            if persona is None:
                assert r.status_code in (302, 303) and r.headers["location"].startswith("/login"), path
            else:
                assert r.status_code == expected, (persona, path, r.status_code)
        for method, suffix in (("PATCH", ""), ("DELETE", ""), ("POST", "/duplicate")):
            r = b.api(method, f"/api/v1/saved-reports/{n}{suffix}", json={"name": "x", "version": 1})
            assert r.status_code == expected, (persona, method, n, r.status_code)
    r = b.post("/projects/TST/saved-reports/", form)
    assert r.status_code in ((302, 303) if persona is None else (404,) if persona == "outsider" else (403,))
    db.expire_all()
    assert db.exec(select(func.count()).select_from(AuditEvent)).one() == before
    assert db.exec(select(func.count()).select_from(SavedReport)).one() == 3


@pytest.fixture
def reported(db, world) -> dict[str, int]:
    """TST's report of this week published, and a saved draft of last week's."""
    from tests.register.conftest import acting
    from tracker.core.forms import parse
    from tracker.reports import service as reports

    manager, access = acting(db, world, "manager")
    week = reports.period_of(access.project, reports.PeriodForm())
    report = reports.publish(db, manager, access, week, 1, None)
    draft = reports.save_draft(db, manager, access, week.previous(), parse(reports.DraftForm, {"number": 1}))
    db.commit()
    return {"report": report.id, "draft": draft.id, "start": week.start, "end": week.end}


def _report_routes(ids):
    r = ids["report"]
    return [f"/projects/TST/status-reports/{r}", f"/projects/TST/status-reports/{r}/report.pdf",
            f"/projects/TST/status-reports/{r}/report.docx", f"/projects/TST/status-reports/{r}/report.xlsx",
            f"/projects/TST/status-reports/{r}/tables/top-risks.csv", f"/api/v1/status-reports/{r}"]  # fmt: skip


@pytest.mark.parametrize("persona", PERSONAS)
def test_published_reports_and_their_downloads_for_every_persona(as_user, reported, persona):
    b = as_user(persona)
    for path in _report_routes(reported):
        _assert_answer(b, persona, "GET", path, READERS, HIDDEN)
    # A draft is not a published report, whoever asks.
    for path in (f"/projects/TST/status-reports/{reported['draft']}", f"/api/v1/status-reports/{reported['draft']}"):
        r = b.client.get(path, follow_redirects=False)
        assert r.status_code in ((302, 303, 401) if persona is None else (404, 403)), (persona, path, r.status_code)


@pytest.mark.parametrize("persona", ["admin", "staff", "contractor", "viewer", "outsider"])
def test_only_managers_write_and_publish_status_reports(as_user, reported, persona, db):
    from sqlmodel import func, select

    from tracker.audit.models import AuditEvent
    from tracker.reports.models import StatusReport

    period = {"period_start": reported["start"].isoformat(), "period_end": reported["end"].isoformat()}
    writes = [
        ("POST", "/projects/TST/status-reports/draft", period | {"number": "2", "version": "", "summary": "x"}),
        ("POST", "/projects/TST/status-reports/publish", period | {"number": "2", "version": ""}),
        ("API-PUT", "/api/v1/projects/TST/status-reports/draft", period | {"number": 2, "summary": "x"}),
        ("API-POST", "/api/v1/projects/TST/status-reports", period | {"number": 2}),
        ("API-POST", f"/api/v1/status-reports/{reported['draft']}/publish", {"version": 1}),
    ]
    b = as_user(persona)
    before = db.exec(select(func.count()).select_from(AuditEvent)).one()
    for method, path, data in writes:
        r = b.post(path, data) if method == "POST" else b.api(method.removeprefix("API-"), path, json=data)
        assert r.status_code == (404 if persona == "outsider" else 403), (persona, method, path, r.status_code)
    if persona != "admin":
        r = b.post("/projects/TST/report-targets", {"critical_risks_red": "1"})
        assert r.status_code == (404 if persona == "outsider" else 403)
    db.expire_all()
    assert db.exec(select(func.count()).select_from(AuditEvent)).one() == before
    assert db.exec(select(func.count()).select_from(StatusReport)).one() == 2
