"""Meeting rules: codes, the kinds of meeting, member attendees (who the minutes are mailed to) beside external
names, the filtered minutes of one project, the minutes as a printed page, and a weekly status meeting started from
the draft status report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import Field, field_validator
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, delete, select

from tracker.accounts.models import User
from tracker.accounts.service import Principal
from tracker.audit import history
from tracker.audit import service as audit
from tracker.audit.models import AuditEvent
from tracker.core.clock import utcnow
from tracker.core.errors import FormError
from tracker.core.forms import OptionalDate, OptionalInt
from tracker.core.web import options
from tracker.projects.calendar import project_today
from tracker.projects.models import Membership, Project
from tracker.projects.permissions import Perm, roles_with
from tracker.projects.service import Access, load_record, record_in
from tracker.register import common
from tracker.register.actions import service as actions
from tracker.register.decisions import service as decisions
from tracker.register.decisions.models import LoggedDecision
from tracker.register.meetings.models import Meeting, MeetingAttendee, MeetingDeliverable, MeetingType
from tracker.reports import documents
from tracker.reports import service as reports
from tracker.reports.periods import Period

MAX_EXTERNAL = 50  # external names a meeting lists

# --- create and edit --------------------------------------------------------------------------------------


class MeetingForm(common.RecordForm):
    held_on: OptionalDate = None
    meeting_type: MeetingType = MeetingType.OTHER
    attendee_ids: list[int] = Field(default_factory=list, max_length=200)
    external_attendees: str = Field(default="", max_length=4000)
    agenda: str = Field(default="", max_length=8000)
    notes: str = Field(default="", max_length=20000)
    owner_id: OptionalInt = None

    @field_validator("attendee_ids", mode="before")
    @classmethod
    def _attendees(cls, v: Any) -> Any:
        return common.as_list(v)


LABELS = {
    "code": "Code",
    "title": "Title",
    "held_on": "Held on",
    "meeting_type": "Kind of meeting",
    "attendee_ids": "Members who attended",
    "attendees": "Members who attended",
    "external_attendees": "Others who attended",
    "agenda": "Agenda",
    "notes": "Notes",
    "owner_id": "Chair",
    "deliverable_ids": "Deliverables discussed",
    "deliverables": "Deliverables discussed",
}
MeetingForm.labels = LABELS
WORDS = {"meeting_type": dict(options(list(MeetingType)))}
history.register(
    nouns={"meeting": "meeting"},
    verbs={"mail_minutes": "mailed the minutes of"},
    terms={"meeting": history.Terms(LABELS, WORDS)},
)

FIELDS = ("code", "title", "held_on", "meeting_type", "external_attendees", "agenda", "notes", "owner_id")
TEXT = (Meeting.code, Meeting.title, Meeting.agenda, Meeting.notes, Meeting.external_attendees)
ATTENDING = sorted(roles_with(Perm.VIEW_REGISTER))  # members who may read the minutes they are mailed


def lines(text: str) -> list[str]:
    """A one-a-line field (agenda, external names) as its items, blank lines left out."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def check_rules(form: MeetingForm, today: date) -> None:
    """What a meeting's form cannot check alone; imports check every row by it too."""
    names = lines(form.external_attendees)
    if len(names) > MAX_EXTERNAL:
        raise FormError({"external_attendees": f"List at most {MAX_EXTERNAL} names, one a line."})
    if any(len(n) > 200 for n in names):
        raise FormError({"external_attendees": "Write one name a line, each under 200 characters."})


def _values(form: MeetingForm) -> dict[str, Any]:
    values = form.model_dump(include=set(FIELDS) - {"code", "held_on"}, mode="json")
    return values | {"external_attendees": "\n".join(lines(form.external_attendees))}


def attendees_of(db: Session, meeting_ids: list[int]) -> dict[int, list[tuple[int, str]]]:
    """{meeting id: [(member id, full name), ...] by name} in one query."""
    out: dict[int, list[tuple[int, str]]] = {i: [] for i in meeting_ids}
    if meeting_ids:
        stmt = (
            select(MeetingAttendee.meeting_id, User.id, User.full_name)
            .join(User, col(User.id) == MeetingAttendee.user_id)
            .where(col(MeetingAttendee.meeting_id).in_(meeting_ids))
            .order_by(User.full_name, User.id)
        )
        for meeting_id, user_id, name in db.exec(stmt):
            out[meeting_id].append((user_id, name))
    return out


def _check_attendees(db: Session, project_id: int, ids: list[int]) -> dict[int, str]:
    """{id: name} of the chosen attendees, every one a member who may read the register."""
    ids = sorted(set(ids))
    if not ids:
        return {}
    found = dict(
        db.exec(
            select(User.id, User.full_name)
            .join(Membership, col(Membership.user_id) == User.id)
            .where(
                Membership.project_id == project_id,
                col(User.id).in_(ids),
                col(Membership.role).in_(ATTENDING),
            )
        ).all()
    )
    if len(found) != len(ids):
        raise FormError(
            {"attendee_ids": "Choose members of this project who can read the register; write others' names below."}
        )
    return found


def _set_attendees(db: Session, meeting: Meeting, wanted: dict[int, str]) -> list[list[str]] | None:
    """Make the meeting's member attendees exactly `wanted`; [names before, names after] if they changed."""
    before = dict(attendees_of(db, [meeting.id])[meeting.id])
    if set(before) == set(wanted):
        return None
    db.exec(delete(MeetingAttendee).where(MeetingAttendee.meeting_id == meeting.id))
    for user_id in wanted:
        db.add(MeetingAttendee(meeting_id=meeting.id, user_id=user_id))
    return [sorted(before.values()), sorted(wanted.values())]


def create(db: Session, actor: Principal, access: Access, form: MeetingForm, imported: bool = False) -> Meeting:
    """`imported`: brought in from a spreadsheet (a meeting's rules are the same either way)."""
    access.require(Perm.EDIT_REGISTER)
    check_rules(form, project_today(access.project))
    code, links = common.check_form(db, Meeting, access.project, form, "M")
    common.check_owner(db, access.project.id, form.owner_id)
    people = _check_attendees(db, access.project.id, form.attendee_ids)
    meeting = Meeting(
        project_id=access.project.id,
        code=code,
        held_on=form.held_on or project_today(access.project),
        recorded_by_id=actor.id,
        **_values(form),
    )
    db.add(meeting)
    db.flush()
    _set_attendees(db, meeting, people)
    extra = {"attendees": [None, sorted(people.values())]} if people else {}
    common.created(db, actor, meeting, FIELDS, MeetingDeliverable, links, extra)
    return meeting


def update(
    db: Session, actor: Principal, access: Access, meeting: Meeting, form: MeetingForm, imported: bool = False
) -> Meeting:
    access.require(Perm.EDIT_REGISTER)
    seen = audit.snapshot(meeting, FIELDS)
    meeting.check_seen(form.version, seen)
    check_rules(form, project_today(access.project))
    code, links = common.check_form(db, Meeting, access.project, form, "M", meeting)
    common.check_owner(db, access.project.id, form.owner_id)
    people = _check_attendees(db, access.project.id, form.attendee_ids)
    held_on = form.held_on or meeting.held_on

    def apply() -> None:
        for name, value in (_values(form) | {"code": code, "held_on": held_on}).items():
            setattr(meeting, name, value)

    with db.no_autoflush:
        who = _set_attendees(db, meeting, people)
    changes = common.edited(db, meeting, FIELDS, MeetingDeliverable, links, apply)
    if who:
        changes["attendees"] = who
        meeting.updated_at = utcnow()  # so the row is written and its version moves, as for any other change
    if changes:
        common.record_event(db, actor, meeting, "update", changes)
    db.flush()
    return meeting


def form_values(db: Session, meeting: Meeting) -> dict[str, Any]:
    values = common.form_values(db, meeting, FIELDS, MeetingDeliverable)
    return values | {"attendee_ids": [i for i, _ in attendees_of(db, [meeting.id])[meeting.id]]}


# --- loading -------------------------------------------------------------------------------------------------


def get_for(db: Session, access: Access, meeting_id: int) -> Meeting:
    return record_in(db, access, Meeting, meeting_id, "meeting")


def load_for(db: Session, user: Principal, meeting_id: int, perm: Perm = Perm.VIEW_REGISTER) -> tuple[Access, Meeting]:
    """A meeting by id for `user`: 404 unless they may see its project, 403 when they lack `perm`."""
    return load_record(db, user, Meeting, meeting_id, perm, "meeting")


# --- the register list ---------------------------------------------------------------------------------------

# Every sort ends in the code, unique in a project, so the order is total without an id tie-break.
SORTS = {
    "held": (Meeting.held_on, Meeting.code),
    "type": (Meeting.meeting_type, Meeting.code),
    "code": (Meeting.code,),
}
Recorder = aliased(User, name="meeting_recorder")


class MeetingQuery(common.ListQuery):
    sorts = SORTS

    meeting_type: MeetingType | None = None
    deliverable: OptionalInt = None
    sort: str = "-held"


@dataclass(frozen=True)
class MeetingRow:
    meeting: Meeting
    owner_name: str | None
    recorded_by_name: str | None
    attendees: tuple[tuple[int, str], ...] = ()  # members who attended: (id, full name)

    @property
    def record(self) -> Meeting:
        return self.meeting

    def extras(self) -> dict[str, Any]:
        """What the row works out beyond the meeting's own fields (the API answers them too)."""
        return {
            "owner_name": self.owner_name,
            "recorded_by_name": self.recorded_by_name,
            "attendee_ids": [i for i, _ in self.attendees],
            "attendee_names": [n for _, n in self.attendees],
        }


def _filters(query: MeetingQuery) -> list[Any]:
    where: list[Any] = []
    if query.meeting_type:
        where.append(Meeting.meeting_type == query.meeting_type.value)
    if query.deliverable:
        linked = select(MeetingDeliverable.meeting_id).where(MeetingDeliverable.deliverable_id == query.deliverable)
        where.append(col(Meeting.id).in_(linked))
    return where


def search(
    db: Session, access: Access, query: MeetingQuery, part: common.Part = common.Part()
) -> tuple[list[MeetingRow], int]:
    """The filtered, sorted meetings of one project in three queries whatever their number (page, API, exports)."""
    where = common.list_where(Meeting, access, query, part, (), TEXT) + _filters(query)
    if query.owner:
        where.append(Meeting.owner_id == query.owner)
    stmt = (
        select(Meeting, User.full_name, Recorder.full_name)
        .outerjoin(User, col(User.id) == Meeting.owner_id)
        .outerjoin(Recorder, col(Recorder.id) == Meeting.recorded_by_id)
    )
    found, total = common.page_of(db, Meeting, stmt, where, query, part)
    people = attendees_of(db, [m.id for m, _, _ in found])
    return [MeetingRow(m, owner, recorder, tuple(people[m.id])) for m, owner, recorder in found], total


# --- decisions recorded in the minutes ----------------------------------------------------------------------


def record_decision(
    db: Session, actor: Principal, access: Access, meeting: Meeting, form: decisions.DecisionForm
) -> LoggedDecision:
    """A decision taken in the meeting, logged in the decision log with the meeting it came from; by the meeting
    and on its day unless the form says otherwise."""
    defaults = {"decided_by": form.decided_by or meeting.title, "decided_on": form.decided_on or meeting.held_on}
    return decisions.create(db, actor, access, form.model_copy(update=defaults | {"meeting_id": meeting.id}))


def decisions_of(db: Session, meeting_id: int) -> list[LoggedDecision]:
    stmt = select(LoggedDecision).where(LoggedDecision.meeting_id == meeting_id)
    return list(db.exec(stmt.order_by(LoggedDecision.code)))


# --- the minutes, printed and mailed ------------------------------------------------------------------------------


def minutes_html(db: Session, meeting: Meeting) -> str:
    """The minutes as one printable page: what the meeting page shows, without its forms."""
    project = db.get(Project, meeting.project_id)
    chair, recorder = (db.get(User, i) if i else None for i in (meeting.owner_id, meeting.recorded_by_id))
    return documents.render_page(
        "meetings/print.html",
        project=project,
        meeting=meeting,
        chair=chair.full_name if chair else None,
        recorded_by=recorder.full_name if recorder else None,
        members=[n for _, n in attendees_of(db, [meeting.id])[meeting.id]],
        agenda=lines(meeting.agenda),
        external=lines(meeting.external_attendees),
        items=actions.for_parent(db, project_today(project), meeting_id=meeting.id),
        decisions=decisions_of(db, meeting.id),
    )


def minutes_pdf(db: Session, meeting: Meeting) -> tuple[bytes, str]:
    """The minutes' PDF (kept under its HTML's digest, so printed once while nothing in it changes) and its name."""
    return documents.to_pdf(minutes_html(db, meeting)), f"{meeting.code}-minutes-{meeting.held_on.isoformat()}.pdf"


def mail_minutes(db: Session, actor: Principal, access: Access, meeting: Meeting) -> list[str]:
    """Ask for the minutes to be mailed to the member attendees: an event on the meeting's trail, which the mail
    handler sends from (never the request). External attendees have no address here, so they are not mailed.
    Returns the names of those it goes to."""
    access.require(Perm.EDIT_REGISTER)
    names = [n for _, n in attendees_of(db, [meeting.id])[meeting.id]]
    if not names:
        raise FormError({"mail": "No member of the project attended: add the members who did before mailing."})
    common.record_event(db, actor, meeting, "mail_minutes", {"attendees": [None, names]})
    db.flush()
    return names


def mailed(db: Session, meeting_id: int) -> AuditEvent | None:
    """When the minutes were last mailed, if ever."""
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.entity_type == "meeting", AuditEvent.entity_id == meeting_id)
        .where(AuditEvent.action == "mail_minutes")
        .order_by(col(AuditEvent.id).desc())
    )
    return db.exec(stmt).first()


# --- the weekly status meeting, from the draft status report ---------------------------------------------------

# The draft report's lists, as the agenda reads them: (heading, the list in the report's content)
AGENDA = (
    ("Deliverables overdue", lambda c: c["overdue"]["deliveries"] + c["overdue"]["resubmissions"]),
    ("Reviews overdue", lambda c: c["overdue"]["reviews"]),
    ("Conditions overdue", lambda c: c["overdue"]["conditions"]),
    ("Deliverables due in the next two weeks", lambda c: c["upcoming"]["deliverables"]),
    ("Top risks", lambda c: c["top_risks"]),
    ("New risks", lambda c: c["new_risks"]),
    ("Escalated issues", lambda c: c["escalations"]),
    ("New issues", lambda c: c["new_issues"]),
    ("Overdue action items", lambda c: c["overdue_actions"]),
    ("Change requests awaiting a decision", lambda c: c["changes"]["awaiting"]),
)
AGENDA_CODES = 10  # codes a line names before "and n more"


def agenda_of(content: dict[str, Any]) -> str:
    """One agenda line for each list of the report: its heading, how many, and the codes of the first of them."""
    out = []
    for heading, read in AGENDA:
        items = read(content)
        codes = [str(x.get("code") or x.get("parent") or "") for x in items[:AGENDA_CODES]]
        more = f" and {len(items) - AGENDA_CODES} more" if len(items) > AGENDA_CODES else ""
        out.append(f"{heading} ({len(items)})" + (f": {', '.join(c for c in codes if c)}{more}" if items else ""))
    return "\n".join(["Status and RAG of the period", *out, "Any other business"])


def managers(db: Session, project_id: int) -> list[int]:
    """The members with a management role (who may manage the project), by the permissions table."""
    stmt = select(Membership.user_id).where(
        Membership.project_id == project_id, col(Membership.role).in_(sorted(roles_with(Perm.MANAGE)))
    )
    return sorted(db.exec(stmt))


def start_weekly(db: Session, actor: Principal, access: Access, period: Period) -> Meeting:
    """A weekly status meeting held today on the period's draft report: its lists are the agenda, the project's
    managers the attendees, the one who starts it the chair."""
    access.require(Perm.EDIT_REGISTER)
    draft = reports.draft_for(db, access.project, period)
    content = reports.build(db, access.project, period, draft)
    chair = actor.id if actor.id in {i for i, _ in common.owners(db, access.project.id)} else None
    form = MeetingForm(
        title=f"Weekly status meeting: {period.label[:1].lower()}{period.label[1:]}",
        meeting_type=MeetingType.WEEKLY_STATUS,
        attendee_ids=managers(db, access.project.id),
        agenda=agenda_of(content),
        owner_id=chair,
    )
    return create(db, actor, access, form)
