"""Deliveries through the real dispatcher to a real receiver: signed per Standard Webhooks with a webhook-id stable
per event and webhook, the payload naming the event, the record, its new state and links; retried after a failure
with the dispatcher's backoff, logged per attempt; turned off (on the audit trail) after repeated failures; sent
again by hand as a new attempt; never to a private address unless the settings allow it; and once per event with
two dispatchers at once. On a database of the module's own, as dispatchers commit."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from tests.conftest import make_settings, make_world
from tests.dbutil import fresh_database
from tests.register.conftest import acting, make_issue, make_risk
from tests.webhooks.conftest import make_webhook
from tracker.audit.models import AuditEvent
from tracker.cli import migrate_database
from tracker.core.db import make_engine, session_factory_for
from tracker.core.files import FileStore, Upload
from tracker.core.forms import parse
from tracker.dispatch import service as dispatch
from tracker.dispatch.models import DispatchEffect
from tracker.register.attachments import service as attachments
from tracker.register.kinds import KINDS
from tracker.register.lessons import service as lessons
from tracker.webhooks import (
    delivery,  # noqa: F401  registers the handler
    service,
)
from tracker.webhooks.kinds import DISABLE_AFTER
from tracker.webhooks.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.filterwarnings("error:Connection is already established:sqlalchemy.exc.SAWarning")


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with fresh_database(tmp_path_factory.mktemp("webhooks")) as url:
        migrate_database(url)
        engine = make_engine(url)
        with Session(engine, expire_on_commit=False) as db:
            make_world(db)
        engine.dispose()
        yield url


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    yield engine
    with engine.begin() as conn:  # what one test subscribed hears nothing of the next one's events
        conn.execute(update(Webhook).values(active=False))
    engine.dispose()


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def world(db):
    from tests.conftest import World
    from tracker.accounts.models import User

    ids = {u.username: u.id for u in db.exec(select(User))}
    db.rollback()  # a read left open would keep this session from writing after a dispatcher has (SQLite)
    return World("TST", ids)


def dispatcher(engine: Engine, tmp_path: Path, **settings) -> dispatch.Dispatcher:
    s = make_settings(engine.url.render_as_string(hide_password=False), **({"webhooks_allow_private": True} | settings))
    ctx = dispatch.Context(s, FileStore(tmp_path / "files", 1024 * 1024))
    handlers = {"webhooks": dispatch.HANDLERS["webhooks"]}
    d = dispatch.Dispatcher(session_factory_for(engine), ctx, handlers, {})
    d.once()  # the handler's cursor starts at the end of the trail: what the test does next is what it hears of
    return d


def _deliveries(db: Session, webhook_id: int) -> list[WebhookDelivery]:
    db.rollback()  # a fresh read, of what the dispatcher committed
    return list(db.exec(select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id).order_by("id")))


def test_an_event_is_delivered_signed_with_the_record_its_state_and_links(db, world, engine, receiver, tmp_path):
    d = dispatcher(engine, tmp_path, base_url="https://tracker.example.gov/")
    hook = make_webhook(db, world, receiver.url, ["risk.created", "issue.escalated"])
    db.commit()
    risk = make_risk(db, world, title="Vendor staffing")
    make_issue(db, world, title="Not subscribed to")  # issue.created: not chosen
    db.commit()
    assert d.once().done == 1
    [payload] = receiver.verified(hook.secret)
    event = db.exec(select(AuditEvent).where(AuditEvent.entity_type == "risk", AuditEvent.entity_id == risk.id)).one()
    assert payload["type"] == "risk.created"
    data = payload["data"]
    assert data["record"] == {"type": "risk", "id": risk.id, "label": risk.code, "project": "TST"}
    assert data["state"]["title"] == "Vendor staffing"
    assert data["links"] == {
        "project": "https://tracker.example.gov/projects/TST",
        "page": f"https://tracker.example.gov/projects/TST/risks/{risk.id}",
        "api": f"https://tracker.example.gov/api/v1/risks/{risk.id}",
    }
    headers = receiver.requests[0].headers
    assert headers["webhook-id"] == f"msg_{event.id}_{hook.id}"
    assert headers["content-type"] == "application/json"
    [row] = _deliveries(db, hook.id)
    assert (row.ok, row.status_code, row.response, row.event_type) == (True, 200, "received", "risk.created")
    assert d.once().done == 0, "delivered once"


def test_a_failed_delivery_is_logged_and_retried_with_the_same_webhook_id(db, world, engine, receiver, tmp_path, clock):
    d = dispatcher(engine, tmp_path)
    hook = make_webhook(db, world, receiver.url)
    db.commit()
    receiver.statuses = [500]
    make_risk(db, world)
    db.commit()
    first = d.once()
    assert (first.done, first.failed) == (0, 1)
    assert d.once().done == 0, "not again before its retry is due"
    clock.advance(minutes=2)
    assert d.once().done == 1
    failed, succeeded = _deliveries(db, hook.id)
    assert (failed.ok, failed.status_code, failed.response) == (False, 500, "something broke")
    assert "500" in failed.error
    assert (succeeded.ok, succeeded.status_code) == (True, 200)
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    assert len(receiver.verified(hook.secret)) == 2
    db.refresh(hook)
    assert hook.consecutive_failures == 0


def test_a_redirect_is_not_followed_and_counts_as_a_failure(db, world, engine, receiver, tmp_path):
    d = dispatcher(engine, tmp_path)
    hook = make_webhook(db, world, receiver.url)
    db.commit()
    receiver.statuses = [302]
    make_risk(db, world)
    db.commit()
    assert d.once().failed == 1
    [row] = _deliveries(db, hook.id)
    assert row.status_code == 302 and "redirects are not followed" in row.error
    assert len(receiver.requests) == 1


def test_a_webhook_is_turned_off_after_repeated_failures_and_the_trail_says_so(db, world, engine, receiver, tmp_path):
    d = dispatcher(engine, tmp_path)
    hook = make_webhook(db, world, receiver.url)
    db.commit()
    receiver.statuses = [500] * (DISABLE_AFTER + 5)
    for n in range(DISABLE_AFTER + 2):
        make_risk(db, world, title=f"Risk {n}")
    db.commit()
    d.once()
    db.refresh(hook)
    assert not hook.active and hook.disabled_at is not None
    assert len(_deliveries(db, hook.id)) == DISABLE_AFTER, "nothing is sent once it is off"
    [event] = db.exec(select(AuditEvent).where(AuditEvent.entity_type == "webhook", AuditEvent.action == "disable"))
    assert event.entity_id == hook.id and event.actor_id is None and event.changes["active"] == [True, False]
    effects = db.exec(select(DispatchEffect).where(DispatchEffect.handler == "webhooks")).all()
    assert all(e.status == "done" for e in effects if e.recipient == str(hook.id) and e.attempts and e.done_at)


def test_a_delivery_sent_again_by_hand_is_a_new_attempt_with_the_same_webhook_id(db, world, engine, receiver, tmp_path):
    d = dispatcher(engine, tmp_path)
    hook = make_webhook(db, world, receiver.url)
    db.commit()
    make_risk(db, world)
    db.commit()
    d.once()
    [first] = _deliveries(db, hook.id)
    from tests.register.conftest import acting

    _, access = acting(db, world, "manager")
    service.redeliver(db, access, hook, first)
    service.redeliver(db, access, hook, first)  # twice: two attempts
    db.commit()
    assert d.once().done == 2
    rows = _deliveries(db, hook.id)
    assert [r.redelivery for r in rows] == [False, True, True]
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    assert len(receiver.verified(hook.secret)) == 3


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "169.254.169.254", "[::1]", "192.168.0.10", "localhost", "[::ffff:127.0.0.1]", "0.0.0.0"],
)
def test_private_addresses_are_refused_at_subscription_unless_allowed(db, world, address):
    from tracker.core.errors import FormError

    with pytest.raises(FormError) as refused:
        make_webhook(db, world, f"http://{address}:8080/hook", allow_private=False)
    assert "url" in refused.value.errors
    db.rollback()


@pytest.mark.parametrize(
    "target", ["ftp://example.com/x", "javascript:alert(1)", "https://user:pw@example.com/", "nope"]
)
def test_only_http_urls_are_taken(db, world, target):
    from tracker.core.errors import FormError

    with pytest.raises(FormError):
        make_webhook(db, world, target, allow_private=True)
    db.rollback()


def test_a_url_that_resolves_to_loopback_at_delivery_is_not_called(db, world, engine, receiver, tmp_path):
    """Saved while private addresses were allowed (or while the name pointed elsewhere), refused when sent."""
    d = dispatcher(engine, tmp_path, webhooks_allow_private=False)
    hook = make_webhook(db, world, receiver.url.replace("127.0.0.1", "localhost"))
    db.commit()
    make_risk(db, world)
    db.commit()
    assert d.once().failed == 1
    [row] = _deliveries(db, hook.id)
    assert row.status_code is None and row.error.startswith("Refused")
    assert receiver.requests == []


def test_two_dispatchers_at_once_deliver_each_event_once(db, world, engine, url, receiver, tmp_path):
    first = dispatcher(engine, tmp_path)
    other_engine = make_engine(url)
    try:
        second = dispatch.Dispatcher(session_factory_for(other_engine), first.ctx, first.handlers, {})
        hook = make_webhook(db, world, receiver.url)
        db.commit()
        for n in range(6):
            make_risk(db, world, title=f"Concurrent {n}")
        db.commit()
        barrier = threading.Barrier(2)

        def run(dispatcher: dispatch.Dispatcher) -> None:
            barrier.wait()
            dispatcher.once()

        threads = [threading.Thread(target=run, args=(x,)) for x in (first, second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        first.once()
        ids = [r.headers["webhook-id"] for r in receiver.requests]
        assert len(ids) == 6 and len(set(ids)) == 6
        assert len(_deliveries(db, hook.id)) == 6
    finally:
        other_engine.dispose()


def test_an_event_of_several_kinds_goes_once_as_the_first_one_chosen(db, world, engine, receiver, tmp_path):
    d = dispatcher(engine, tmp_path)
    hook = make_webhook(db, world, receiver.url, ["issue.escalated", "issue.updated"])
    db.commit()
    make_issue(db, world, status="escalated", escalation_level="executive", escalation_reason="Budget")
    db.commit()
    d.once()
    [payload] = receiver.verified(hook.secret)
    assert payload["type"] == "issue.escalated"


def test_a_file_attached_to_a_risk_and_a_lesson_recorded_reach_their_subscribers(db, world, engine, receiver, tmp_path):
    d = dispatcher(engine, tmp_path, base_url="https://tracker.example.gov/")
    hook = make_webhook(db, world, receiver.url, ["risk.updated", "lesson.created"])
    risk = make_risk(db, world, title="Vendor staffing")
    db.commit()
    d.once()  # risk.created: not chosen
    staff, access = acting(db, world, "staff")
    store = FileStore(tmp_path / "files", 1024 * 1024)
    upload = Upload("staffing plan.txt", "text/plain", b"two testers from May")
    attachments.attach(db, staff, access, KINDS["risks"], risk, upload, store)
    form = parse(lessons.LessonForm, {"title": "Staffing plans slip", "recommendation": "Ask for named testers"})
    lesson = lessons.create(db, staff, access, form)
    db.commit()
    assert d.once().done == 2
    attached, recorded = receiver.verified(hook.secret)
    assert attached["type"] == "risk.updated" and attached["data"]["record"]["id"] == risk.id
    assert "staffing plan.txt" in str(attached["data"]["state"])
    assert recorded["type"] == "lesson.created" and recorded["data"]["record"]["label"] == lesson.code
    assert recorded["data"]["links"]["page"] == f"https://tracker.example.gov/projects/TST/lessons/{lesson.id}"
    assert recorded["data"]["links"]["api"] == f"https://tracker.example.gov/api/v1/lessons/{lesson.id}"
