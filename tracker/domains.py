"""Every module that tells the audit trail how its domain's records read (audit/history.py) and where the names its
events show are (audit/service.py), imported in one place: the app imports this, as may anything that reads a trail."""

from tracker.accounts import mfa, signin
from tracker.accounts import service as accounts
from tracker.calendars import service as calendars
from tracker.deliverables import service as deliverables
from tracker.library import service as library
from tracker.mail import schedules
from tracker.mail import service as mail
from tracker.projects import invitations, organisation
from tracker.projects import service as projects
from tracker.register.actions import service as actions
from tracker.register.attachments import service as attachments
from tracker.register.changes import service as changes
from tracker.register.custom import service as custom_fields
from tracker.register.decisions import service as decisions
from tracker.register.issues import service as issues
from tracker.register.lessons import service as lessons
from tracker.register.meetings import service as meetings
from tracker.register.risks import service as risks
from tracker.reports import credits, levels, targets
from tracker.reports import service as reports
from tracker.sso import providers as sso_providers
from tracker.sso import service as sso
from tracker.transfer import service as transfer
from tracker.webhooks import service as webhooks

REGISTERING = (
    accounts,
    mfa,
    signin,
    calendars,
    deliverables,
    library,
    mail,
    schedules,
    projects,
    invitations,
    organisation,
    actions,
    attachments,
    changes,
    decisions,
    custom_fields,
    issues,
    lessons,
    meetings,
    risks,
    reports,
    targets,
    credits,
    levels,
    sso_providers,
    sso,
    transfer,
    webhooks,
)
