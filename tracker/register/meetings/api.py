"""JSON API for meeting minutes: a project's list, create, read and change (register/api.py); a meeting's action
items (/api/v1/meetings/{id}/actions)."""

from __future__ import annotations

from datetime import date

from tracker.register import api as register_api
from tracker.register.actions.api import parent_actions
from tracker.register.kinds import KINDS
from tracker.register.meetings import service as meetings
from tracker.register.meetings.models import MeetingType


class MeetingOut(register_api.Recorded):
    id: int
    code: str
    title: str
    held_on: date
    meeting_type: MeetingType
    attendee_ids: list[int]
    attendee_names: list[str]
    external_attendees: str
    agenda: str
    notes: str
    owner_id: int | None
    owner_name: str | None


# What the API's readers are told about the meeting's fields; the fields themselves are the form's (register/api.py).
HELP = {
    "code": "Blank: the next free M-###",
    "held_on": "Blank: today",
    "meeting_type": ", ".join(t.value for t in MeetingType),
    "attendee_ids": "Members of the project who can read the register; the minutes are mailed to them",
    "external_attendees": "Names of others who attended, one a line (they are not mailed)",
    "agenda": "One item a line",
    "owner_id": "Who chaired it",
}
LIST_HELP = """`meeting_type` is one of the kinds of meeting; `deliverable` is a deliverable's id; `q` searches code,
title, agenda, notes and other attendees; `sort` is held, type or code, with `-` for descending."""

ProjectMeetings, OneMeeting = register_api.controllers(KINDS["meetings"], MeetingOut, HELP, LIST_HELP)
MeetingActionsApi = parent_actions(
    "meetings", "meeting_id", meetings.load_for, "The meeting's action items", "Add an action item to the minutes"
)

handlers = [ProjectMeetings, OneMeeting, MeetingActionsApi]
