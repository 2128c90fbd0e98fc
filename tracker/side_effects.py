"""Every module that registers dispatcher handlers or jobs, and the dispatcher that runs them all: the registry is
complete here, and the dispatcher itself imports none of these modules, so none of them has to avoid importing it."""

from sqlalchemy.engine import Engine

from tracker.accounts import signin_log
from tracker.core.db import session_factory_for
from tracker.deliverables import clock
from tracker.dispatch import service as dispatch
from tracker.mail import invitations, schedules
from tracker.mail import service as mail
from tracker.settings import Settings
from tracker.webhooks import delivery as webhooks

MODULES = (clock, mail, invitations, schedules, webhooks, signin_log)


def dispatcher(engine: Engine, settings: Settings) -> dispatch.Dispatcher:
    ctx = dispatch.Context.from_settings(settings)
    return dispatch.Dispatcher(session_factory_for(engine), ctx, dispatch.HANDLERS, dispatch.JOBS)
