"""Demo custom fields: what CWS and UIM keep on their registers besides the standard fields (where a risk's money
would come from, the service-desk ticket and the vendor's response time on an issue, the county a lesson came from),
defined by each project's manager and filled in by its staff through the services, so forms, lists, filters,
exports and histories show them from the start."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from tracker.accounts.models import User
from tracker.accounts.service import principal
from tracker.core.clock import frozen_time, utcnow
from tracker.core.errors import FormError
from tracker.core.forms import parse
from tracker.projects import service as projects
from tracker.projects.models import Project
from tracker.projects.permissions import Perm
from tracker.register.custom import service as custom
from tracker.register.kinds import KINDS

FUNDING = ["Federal (FFP)", "State general fund", "Grant", "Contractor at risk"]
# (project, manager, kind, field): each defined 30 days ago. CWS's risk and issue lists are full already: its fields
# there are their filters, not columns (lessons, with few columns, show theirs).
FIELDS = (
    (
        "CWS",
        "mrivera",
        "risks",
        {
            "label": "Funding source",
            "type": "choice",
            "choices": FUNDING,
            "help": "Whose money pays for the response if the risk happens.",
            "in_list": False,
        },
    ),
    (
        "CWS",
        "mrivera",
        "issues",
        {
            "label": "Ticket ref",
            "type": "text",
            "help": "The service desk's ticket, e.g. INC0041237.",
            "in_list": False,
        },
    ),
    (
        "CWS",
        "mrivera",
        "issues",
        {
            "label": "Vendor SLA hours",
            "type": "number",
            "help": "Hours the vendor has to respond under the contract's service levels.",
            "in_list": False,
        },
    ),
    ("CWS", "mrivera", "lessons", {"label": "Counties", "type": "choices", "choices": ["Alameda", "Fresno", "Kern"]}),
    ("UIM", "jchen", "risks", {"label": "Funding source", "type": "choice", "choices": FUNDING}),
)
# (project, by, kind, {label: a value per record, in code order; None leaves one blank}), 10 days ago
VALUES = (
    (
        "CWS",
        "pokafor",
        "risks",
        {
            "Funding source": [
                "Federal (FFP)",
                "State general fund",
                None,
                "Grant",
                "Contractor at risk",
                "Federal (FFP)",
            ]
        },
    ),
    (
        "CWS",
        "dkim",
        "issues",
        {"Ticket ref": ["INC0041237", None, "INC0041302", "INC0041388"], "Vendor SLA hours": ["4", "24", None, "48"]},
    ),
    ("CWS", "dkim", "lessons", {"Counties": [["Alameda", "Kern"], ["Fresno"]]}),
    ("UIM", "rpatel", "risks", {"Funding source": ["Federal (FFP)", None, "State general fund"]}),
)


def load(db: Session, now: datetime | None = None) -> int:
    """Defines the fields and fills them; returns how many records were given values."""
    now = now or utcnow()
    people = {u.username: principal(u) for u in db.exec(select(User))}
    with frozen_time(now - timedelta(days=30)):
        for key, by, plural, values in FIELDS:
            access = projects.get_for(db, people[by], key, Perm.MANAGE)
            custom.define(db, people[by], access, parse(custom.FieldForm, {"kind": plural, **values}))
    count = 0
    with frozen_time(now - timedelta(days=10)):
        for key, by, plural, columns in VALUES:
            kind, actor = KINDS[plural], people[by]
            access = projects.get_for(db, actor, key)
            project = db.exec(select(Project).where(Project.key == key)).one()
            fields = {f.label: f for f in custom.definitions(db, project.id, kind.entity)}
            records = db.exec(
                select(kind.model).where(kind.model.project_id == project.id).order_by(col(kind.model.code))
            ).all()
            for n, record in enumerate(records):
                raw = {fields[label].id: vs[n] for label, vs in columns.items() if n < len(vs) and vs[n] is not None}
                if not raw:
                    continue
                try:
                    with db.begin_nested():
                        custom.save(db, actor, access, kind, record, kind.service.form_values(db, record), raw, True)
                    count += 1
                except FormError:  # a record its kind no longer lets change (closed): left as it is
                    continue
    db.flush()
    return count
