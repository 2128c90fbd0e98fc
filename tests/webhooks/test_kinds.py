"""The event kinds table and the address rules, without a database."""

from __future__ import annotations

import pytest

from tracker.webhooks import targets
from tracker.webhooks.kinds import KINDS, NAMES, PAGES, PUBLIC, kinds_of


def test_each_kind_has_one_name_and_its_record_a_page():
    assert len(NAMES) == len(set(NAMES))
    assert {k.entity_type for k in KINDS} <= set(PAGES)
    assert all(k.name.startswith(("review.", f"{PUBLIC.get(k.entity_type, k.entity_type)}.")) for k in KINDS)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_each_kind_is_named_for_its_audit_events(kind):
    changes = {kind.sets[0]: [None, kind.sets[1]]} if kind.sets else {}
    for action in kind.actions:
        assert kind.name in kinds_of(kind.entity_type, action, changes)


def test_an_issue_is_escalated_only_when_its_status_becomes_escalated():
    assert kinds_of("issue", "update", {"status": ["open", "escalated"]}) == ["issue.escalated", "issue.updated"]
    assert kinds_of("issue", "update", {"status": ["escalated", "escalated"]}) == ["issue.updated"]
    assert kinds_of("issue", "update", {"title": ["a", "b"]}) == ["issue.updated"]
    assert kinds_of("deliverable", "escalate", {}) == ["review.overdue"]
    assert kinds_of("webhook", "create", {}) == [] and kinds_of("comment", "comment", {}) == []


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "[::1]",
        "[fe80::1]",
        "[fc00::1]",
        "[::ffff:10.0.0.1]",
        "localhost",
    ],
)
def test_private_addresses_are_refused_unless_allowed(address):
    with pytest.raises(targets.Refused):
        targets.check(f"http://{address}/hook", allow_private=False)
    assert targets.check(f"http://{address}:8080/hook?x=1", allow_private=True).pinned_url.endswith(":8080/hook?x=1")


def test_a_public_address_is_pinned_with_its_name_kept_for_the_host_header():
    target = targets.check("https://93.184.215.14:8443/a/b?c=d", allow_private=False)
    assert target.pinned_url == "https://93.184.215.14:8443/a/b?c=d"
    assert target.host_header == "93.184.215.14:8443"
    assert (
        targets.check("https://[2606:4700::1111]/h", allow_private=False).pinned_url
        == "https://[2606:4700::1111]:443/h"
    )
