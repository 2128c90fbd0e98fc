"""One thing that needs a person now, as My work and its API list it: what, where, and its clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tracker.core.clock import deadline_state


@dataclass(frozen=True)
class WorkItem:
    kind: str  # the My work section it belongs to (home.service.SECTIONS)
    project_key: str
    code: str  # the record's code (D-07, R-012, I-034, CR-001) or the report period
    title: str
    url: str
    due: date | None
    today: date  # the project's own day: every clock counts on the project's calendar
    detail: str = ""
    flag: str = ""  # a warning beside the clock, e.g. "escalated"
    ref: str = ""  # the record, when the page (url) shows several (an action item): calendar feeds name events by it

    @property
    def days(self) -> int | None:
        """Days until due: negative when overdue, None with no date."""
        return None if self.due is None else (self.due - self.today).days

    @property
    def state(self) -> str | None:
        """ "overdue", "upcoming" (due in the next two weeks) or None: the one deadline rule."""
        return deadline_state(self.due, self.today)
