"""Every module that tells the audit trail how its domain's records read (audit/history.py) and where the names its
events show are (audit/service.py), imported in one place: the app imports this, as may anything that reads a trail."""

from tracker.accounts import service as accounts
from tracker.calendars import service as calendars
from tracker.deliverables import service as deliverables
from tracker.library import service as library
from tracker.mail import schedules
from tracker.mail import service as mail
from tracker.projects import service as projects
from tracker.register.actions import service as actions
from tracker.register.changes import service as changes
from tracker.register.issues import service as issues
from tracker.register.risks import service as risks
from tracker.reports import service as reports
from tracker.reports import targets
from tracker.transfer import service as transfer
from tracker.webhooks import service as webhooks

REGISTERING = (
    accounts,
    calendars,
    deliverables,
    library,
    mail,
    schedules,
    projects,
    actions,
    changes,
    issues,
    risks,
    reports,
    targets,
    transfer,
    webhooks,
)
