"""The workflow table, checked without a database."""

from __future__ import annotations

import pytest

from tracker.deliverables.workflow import (
    NEEDS,
    OPEN,
    TRANSITIONS,
    Action,
    NotAllowed,
    Status,
    actions_for,
    next_status,
)
from tracker.projects.models import Role
from tracker.projects.permissions import ROLE_PERMS, Perm, perms_for

PERSON_RULES = [(a, s, to, needed) for (a, s), (to, needed) in TRANSITIONS.items() if needed is not None]


@pytest.mark.parametrize(("action", "source", "target", "needed"), PERSON_RULES)
def test_each_transition_is_allowed_exactly_for_roles_holding_its_permission(action, source, target, needed):
    for role, perms in ROLE_PERMS.items():
        if needed in perms:
            assert next_status(action, source, perms) is target
            assert action in actions_for(source, perms)
        else:
            with pytest.raises(NotAllowed) as err:
                next_status(action, source, perms)
            assert not err.value.wrong_state, role
            assert action not in actions_for(source, perms)


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("action", [a for a in Action if a is not Action.DEEM_ACCEPT])
def test_actions_outside_the_table_are_refused_as_wrong_state(status, action):
    if (action, status) in TRANSITIONS:
        return
    with pytest.raises(NotAllowed) as err:
        next_status(action, status, ROLE_PERMS[Role.MANAGER])
    assert err.value.wrong_state
    assert "cannot" in err.value.message


def test_only_managers_decide_and_contractors_only_submit():
    assert actions_for(Status.IN_REVIEW, ROLE_PERMS[Role.MANAGER]) == [
        Action.ACCEPT,
        Action.CONDITIONALLY_ACCEPT,
        Action.REJECT,
        Action.WITHDRAW,
    ]
    assert actions_for(Status.IN_REVIEW, ROLE_PERMS[Role.CONTRACTOR]) == []
    assert actions_for(Status.PLANNED, ROLE_PERMS[Role.CONTRACTOR]) == [Action.SUBMIT]
    assert actions_for(Status.REJECTED, ROLE_PERMS[Role.CONTRACTOR]) == [Action.RESUBMIT]
    assert actions_for(Status.IN_REVIEW, ROLE_PERMS[Role.VIEWER]) == []
    # Admins administer projects but decisions stay with the project's managers.
    assert Perm.DECIDE not in perms_for(None, is_admin=True)


def test_withdraw_from_every_open_state_but_never_from_a_final_one():
    manager = ROLE_PERMS[Role.MANAGER]
    for status in OPEN:
        assert next_status(Action.WITHDRAW, status, manager) is Status.WITHDRAWN
    for status in (Status.ACCEPTED, Status.WITHDRAWN):
        with pytest.raises(NotAllowed):
            next_status(Action.WITHDRAW, status, manager)


def test_deemed_acceptance_is_never_a_persons_action():
    for perms in ROLE_PERMS.values():
        with pytest.raises(NotAllowed):
            next_status(Action.DEEM_ACCEPT, Status.IN_REVIEW, perms)
        assert Action.DEEM_ACCEPT not in actions_for(Status.IN_REVIEW, perms)


def test_unknown_actions_are_refused():
    with pytest.raises(NotAllowed):
        next_status("approve", Status.IN_REVIEW, ROLE_PERMS[Role.MANAGER])


def test_the_system_clock_fires_only_deemed_acceptance():
    assert next_status(Action.DEEM_ACCEPT, Status.IN_REVIEW, None) is Status.ACCEPTED
    assert next_status(Action.DEEM_ACCEPT, Status.SUBMITTED, None) is Status.ACCEPTED
    with pytest.raises(NotAllowed) as err:
        next_status(Action.DEEM_ACCEPT, Status.REJECTED, None)
    assert err.value.wrong_state
    with pytest.raises(NotAllowed):
        next_status(Action.ACCEPT, Status.IN_REVIEW, None)


def test_each_action_needs_one_permission_whatever_the_status():
    for action in Action:
        assert {needed for (a, _), (_, needed) in TRANSITIONS.items() if a is action} == {NEEDS[action]}


def test_a_role_that_may_never_fire_an_action_is_refused_before_the_state_is_judged():
    # A contractor asking to start the review of an accepted deliverable hears "not allowed", not "wrong state".
    with pytest.raises(NotAllowed) as err:
        next_status(Action.START_REVIEW, Status.ACCEPTED, ROLE_PERMS[Role.CONTRACTOR])
    assert not err.value.wrong_state
