"""Demo meeting minutes: each project's steering committee, weekly status meeting and a design review, with who
came (members and guests), the agenda, what was said, the action items they gave out and the decisions they took,
recorded through the services on the days they were held, so the meeting pages, My work, the decision log and the
status report's overdue actions show them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from tracker.accounts.models import User
from tracker.accounts.service import principal
from tracker.core.clock import frozen_time, utcnow
from tracker.core.forms import parse
from tracker.demo.lessons import at, linked
from tracker.projects import service as projects
from tracker.projects.models import Project
from tracker.register.actions import service as actions
from tracker.register.decisions import service as decisions
from tracker.register.meetings import service as meetings


@dataclass(frozen=True)
class Action:
    description: str
    owner: str  # username
    due: int  # days after the meeting
    done: bool = False


@dataclass(frozen=True)
class Spec:
    title: str
    meeting_type: str
    by: str  # username of whoever takes the minutes (and chairs)
    attendees: tuple[str, ...]  # usernames of members
    external: tuple[str, ...]  # guests' names
    agenda: tuple[str, ...]
    notes: str
    deliverables: tuple[str, ...]
    ago: int  # days ago it was held
    actions: tuple[Action, ...] = ()
    decisions: tuple[str, ...] = ()  # taken in the room, logged in the decision log


SPECS = {
    "CWS": (
        Spec(
            "Steering committee: UAT readiness",
            "steering",
            "mrivera",
            ("mrivera", "pokafor", "dwhitfield"),
            ("Angela Morse, Deputy Director, Child Welfare", "Tom Brandt, vendor delivery lead"),
            ("Budget and schedule to date", "UAT readiness and the test data", "Risks for the committee", "Decisions"),
            "Budget is on plan; the schedule carries the nine days lost to the masking stop. The committee asked "
            "for a go/no-go on UAT cycle 2 once the masked data set is signed off. The vendor confirmed two more "
            "testers from the 1st.",
            ("D-03",),
            20,
            (
                Action("Circulate the signed-off masking checklist to the committee", "pokafor", 5, done=True),
                Action("Bring a go/no-go recommendation for UAT cycle 2", "mrivera", 14),
            ),
            ("UAT cycle 2 starts only on a masked data set the privacy office has signed off",),
        ),
        Spec(
            "Weekly status meeting",
            "weekly_status",
            "pokafor",
            ("mrivera", "pokafor", "dkim"),
            ("Tom Brandt, vendor delivery lead",),
            (
                "Deliverables overdue",
                "Reviews due this week",
                "Top risks",
                "Overdue action items",
                "Any other business",
            ),
            "D-04 is two days from its due date with no draft shared; the vendor will send a draft on Monday. "
            "Reviewers for D-05 confirmed. The interface risk stays high until the partner's window is booked.",
            ("D-04", "D-05"),
            6,
            (
                Action("Ask the vendor for the D-04 draft by Monday", "dkim", 2),
                Action("Book the partner's test window", "pokafor", 10),
            ),
        ),
    ),
    "UIM": (
        Spec(
            "Design review: claimant portal",
            "review",
            "jchen",
            ("jchen", "rpatel", "dkim"),
            ("Maria Lopez, UX lead (vendor)", "Accessibility reviewer, Department of Labor"),
            ("Walk-through of the portal wireframes", "Accessibility findings", "Open questions on identity proofing"),
            "The wireframes were accepted with changes: the weekly certification form is split into two steps, and "
            "error messages sit beside their fields. Identity proofing stays with the federal service.",
            ("D-02",),
            15,
            (
                Action("Send the accessibility findings to the vendor in writing", "rpatel", 3, done=True),
                Action("Confirm the identity proofing service's test accounts", "jchen", 7),
            ),
        ),
        Spec(
            "Weekly status meeting",
            "weekly_status",
            "jchen",
            ("jchen", "rpatel", "hlee"),
            (),
            ("Deliverables overdue", "Top risks", "Escalated issues", "Any other business"),
            "The federal interface document is back for a second version. No new escalations this week.",
            ("D-06",),
            4,
            (Action("Chase the federal partner for the message samples", "rpatel", 3),),
        ),
    ),
    "DMV": (
        Spec(
            "Steering committee: kickoff",
            "steering",
            "pokafor",
            ("pokafor", "snguyen", "dwhitfield"),
            ("Commissioner's chief of staff", "Ellen Walsh's project director (vendor)"),
            ("Charter and governance", "Schedule baseline", "How decisions are escalated"),
            "The charter was approved. Change requests over $50,000 come to this committee; smaller ones are the "
            "project manager's. The schedule baseline is due with D-01.",
            ("D-01",),
            12,
            (Action("Publish the escalation path on the project site", "snguyen", 5, done=True),),
            ("Change requests over $50,000 are decided by the steering committee",),
        ),
    ),
}


def load(db: Session, now: datetime | None = None) -> int:
    """Each project's meetings, recorded on the days they were held, with their action items; returns how many."""
    now = now or utcnow()
    people = {u.username: principal(u) for u in db.exec(select(User))}
    count = 0
    for key, specs in SPECS.items():
        project = db.exec(select(Project).where(Project.key == key)).one()
        for spec in specs:
            actor = people[spec.by]
            held = at(project, now, spec.ago, hour=16)
            form = {
                "title": spec.title,
                "held_on": held.date().isoformat(),
                "meeting_type": spec.meeting_type,
                "attendee_ids": [people[u].id for u in spec.attendees],
                "external_attendees": "\n".join(spec.external),
                "agenda": "\n".join(spec.agenda),
                "notes": spec.notes,
                "owner_id": actor.id,
                "deliverable_ids": linked(db, project.id, spec.deliverables),
            }
            with frozen_time(held):
                access = projects.get_for(db, actor, key)
                meeting = meetings.create(db, actor, access, parse(meetings.MeetingForm, form))
                for a in spec.actions:
                    item = {
                        "description": a.description,
                        "owner_id": people[a.owner].id,
                        "due_date": (held.date() + timedelta(days=a.due)).isoformat(),
                    }
                    if a.done:
                        item |= {"done": True, "done_on": held.date().isoformat()}  # settled in the room
                    actions.add(db, actor, access, meeting, parse(actions.ActionForm, item))
                for title in spec.decisions:
                    form = parse(decisions.DecisionForm, {"title": title, "decided_by": "Steering committee"})
                    meetings.record_decision(db, actor, access, meeting, form)
            count += 1
    db.flush()
    return count
