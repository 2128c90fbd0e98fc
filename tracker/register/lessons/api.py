"""JSON API for lessons learned: a project's list, create, read and change (register/api.py)."""

from __future__ import annotations

from datetime import date

from tracker.register import api as register_api
from tracker.register.kinds import KINDS
from tracker.register.lessons.models import LessonCategory


class LessonOut(register_api.Recorded):
    id: int
    code: str
    title: str
    description: str
    impact: str
    recommendation: str
    category: LessonCategory
    phase: str
    owner_id: int | None
    owner_name: str | None
    recorded_on: date


# What the API's readers are told about the lesson's fields; the fields themselves are the form's (register/api.py).
HELP = {
    "code": "Blank: the next free L-###",
    "title": "What happened, in one line",
    "recommendation": "Required: what to do next time",
    "category": ", ".join(c.value for c in LessonCategory),
    "phase": "The project's phase it concerns, in its own words, e.g. Design or UAT",
    "recorded_on": "Today or earlier; blank: today",
}
LIST_HELP = """`category` is one of the categories; `phase` matches part of the phase; `deliverable` is a deliverable's id;
`q` searches code, title, what happened, impact, recommendation and phase; `sort` is recorded, category, phase or code,
with `-` for descending."""

ProjectLessons, OneLesson = register_api.controllers(KINDS["lessons"], LessonOut, HELP, LIST_HELP)

handlers = [ProjectLessons, OneLesson]
