"""Who may do what inside a project: one table, read by pages, API and templates alike."""

from __future__ import annotations

from enum import StrEnum

from tracker.projects.models import Role


class Perm(StrEnum):
    VIEW = "view"  # see the project and its deliverables
    VIEW_HISTORY = "view_history"  # the project-wide audit trail
    VIEW_REGISTER = "view_register"  # risks, issues, action items, status reports
    EDIT_REGISTER = "edit_register"
    PLAN_DELIVERABLES = "plan_deliverables"
    SUBMIT = "submit"  # submit a deliverable version, answer comments
    DELIVER = "deliver"  # the contractor's side: deliveries and answers are owed by them, in their own words
    ACKNOWLEDGE = "acknowledge"  # acknowledge the acceptance criteria the State agreed: the contractor's own word
    REVIEW = "review"  # log comments, record criteria results
    DECIDE = "decide"  # accept / conditionally accept / reject / withdraw; a project always keeps someone who may
    RECEIVE_ESCALATIONS = "receive_escalations"  # issues past their escalation age are brought to them
    PUBLISH = "publish"  # publish a status report
    # the project's own settings (clocks, policy, calendar, time zone, register, report and service-level targets,
    # credits), its members and their roles, and invitations by e-mail
    MANAGE = "manage"
    ARCHIVE = "archive"  # archive a project or bring it back: with creating projects, the admins' alone
    BUILD_REPORTS = "build_reports"  # save queries in the reports library
    CURATE_REPORTS = "curate_reports"  # edit or delete anyone's shared saved query
    VIEW_CHANGES = "view_changes"  # change requests: the contractor sees its own and the State's once submitted
    RAISE_CHANGE = "raise_change"  # draft, submit and withdraw a change request for one's own side
    DECIDE_CHANGE = "decide_change"  # approve or reject a change request, with the rationale
    MAIL_DEFAULTS = "mail_defaults"  # what the project's members are told by mail unless they choose otherwise
    MANAGE_WEBHOOKS = "manage_webhooks"  # subscribe URLs to the project's events; see their deliveries and secrets
    # verify or dispute the service levels the contractor reports itself: they can earn or spare service credits, so
    # it is the State's decision, as accepting a deliverable is
    VERIFY_FIGURES = "verify_figures"


_READ = {Perm.VIEW, Perm.VIEW_HISTORY, Perm.VIEW_REGISTER, Perm.VIEW_CHANGES}

ROLE_PERMS: dict[Role, frozenset[Perm]] = {
    Role.MANAGER: frozenset(
        _READ
        | {
            Perm.EDIT_REGISTER,
            Perm.PLAN_DELIVERABLES,
            Perm.SUBMIT,
            Perm.REVIEW,
            Perm.DECIDE,
            Perm.RECEIVE_ESCALATIONS,
            Perm.PUBLISH,
            Perm.MANAGE,
            Perm.BUILD_REPORTS,
            Perm.CURATE_REPORTS,
            Perm.RAISE_CHANGE,
            Perm.DECIDE_CHANGE,
            Perm.MAIL_DEFAULTS,
            Perm.MANAGE_WEBHOOKS,
            Perm.VERIFY_FIGURES,
        }
    ),
    Role.STAFF: frozenset(
        _READ | {Perm.EDIT_REGISTER, Perm.SUBMIT, Perm.REVIEW, Perm.BUILD_REPORTS, Perm.RAISE_CHANGE}
    ),
    Role.CONTRACTOR: frozenset(
        {Perm.VIEW, Perm.SUBMIT, Perm.DELIVER, Perm.ACKNOWLEDGE, Perm.VIEW_CHANGES, Perm.RAISE_CHANGE}
    ),
    Role.VIEWER: frozenset(_READ),
}

# Admins administer every project; deciding and publishing stay with the project's own managers.
ADMIN_PERMS: frozenset[Perm] = frozenset(_READ | {Perm.MANAGE, Perm.ARCHIVE, Perm.MANAGE_WEBHOOKS})


def roles_with(perm: Perm) -> frozenset[Role]:
    """The roles whose members may `perm`: code asks this instead of naming roles."""
    return frozenset(role for role, granted in ROLE_PERMS.items() if perm in granted)


def perms_for(role: Role | None, is_admin: bool) -> frozenset[Perm]:
    granted = ROLE_PERMS.get(role, frozenset()) if role else frozenset()
    return granted | ADMIN_PERMS if is_admin else granted
