"""Demo attachments: files a team keeps on its register records (the contractor's reply on an issue, the data behind
a risk, the checklist a lesson produced), attached through the service a few days ago, so record pages show their
files and history from the start."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from tracker.accounts.models import User
from tracker.accounts.service import principal
from tracker.core.clock import frozen_time, utcnow
from tracker.core.files import FileStore, Upload
from tracker.projects import service as projects
from tracker.projects.models import Project
from tracker.register.attachments import service as attachments
from tracker.register.kinds import KINDS

# (project, kind, by, file name, content type, content, days ago); each goes on the kind's first record by code
SPECS = (
    (
        "CWS",
        "issues",
        "mrivera",
        "Northbridge reply - environment outage.txt",
        "text/plain",
        "Northbridge Systems Integration\n\nThe UAT environment outage was caused by an expired certificate on the "
        "county gateway. A renewal is scheduled; we will confirm restoration in writing.\n\nTom Brooks, "
        "Delivery Manager\n",
        3,
    ),
    (
        "CWS",
        "risks",
        "pokafor",
        "County extract quality sample.csv",
        "text/csv",
        "county,records,missing_dob,duplicate_ids\nAlameda,48210,312,41\nFresno,30552,188,12\nKern,22904,97,8\n",
        5,
    ),
    (
        "CWS",
        "lessons",
        "dkim",
        "UAT data masking checklist.txt",
        "text/plain",
        "Before UAT opens:\n- masked extract loaded and spot-checked\n- masking script run log attached\n"
        "- testers briefed on what is synthetic\n",
        2,
    ),
)


def load(db: Session, store: FileStore, now: datetime | None = None) -> int:
    now = now or utcnow()
    people = {u.username: principal(u) for u in db.exec(select(User))}
    count = 0
    for key, plural, by, name, content_type, content, ago in SPECS:
        kind = KINDS[plural]
        project = db.exec(select(Project).where(Project.key == key)).one()
        record = db.exec(
            select(kind.model).where(kind.model.project_id == project.id).order_by(col(kind.model.code))
        ).first()
        if record is None:
            continue
        actor = people[by]
        with frozen_time(now - timedelta(days=ago)):
            access = projects.get_for(db, actor, key)
            attachments.attach(db, actor, access, kind, record, Upload(name, content_type, content.encode()), store)
        count += 1
    db.flush()
    return count
