"""The register's kinds, as data: what each kind of register record is called, its code prefix, its model and its
links to deliverables, its form and list filters, the fields its list edits in place, and the service that keeps its
own rules. The pages (register/pages.py), the API (register/api.py), the spreadsheet columns (transfer/columns.py)
and the saved-report sources read this table; a kind's package adds only what is truly its own."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from sqlmodel import SQLModel

from tracker.core.forms import Form
from tracker.register.issues import service as issues
from tracker.register.issues.models import Issue, IssueDeliverable
from tracker.register.risks import service as risks
from tracker.register.risks.models import Risk, RiskDeliverable


@dataclass(frozen=True)
class Kind:
    name: str  # "risk": the audit trail's entity type, and what templates call the record
    plural: str  # "risks": its URL segment and its templates' folder
    prefix: str  # codes are R-001, I-001, ...
    model: type[SQLModel]
    link: type[SQLModel]  # its links to deliverables
    service: ModuleType  # search, row, get_for, load_for, create, update, form_values, LABELS, WORDS, PAGE_SIZE
    form: type[Form]
    query: type[Form]  # the list's filters, sort and page
    quick: tuple[str, ...]  # the fields its list edits in place
    new: dict[str, Any] = field(default_factory=dict)  # a new record's form, before the next free code
    refresh: str | None = None  # the htmx event a quick edit fires, for parts of the page that depend on the list

    @property
    def title(self) -> str:
        return self.name.capitalize()

    @property
    def link_key(self) -> str:
        return f"{self.name}_id"


KINDS = {
    k.plural: k
    for k in (
        Kind(
            name="risk",
            plural="risks",
            prefix="R",
            model=Risk,
            link=RiskDeliverable,
            service=risks,
            form=risks.RiskForm,
            query=risks.RiskQuery,
            quick=("status", "owner_id", "probability", "impact"),
            new={
                "category": "other",
                "probability": 3,
                "impact": 3,
                "proximity": "mid",
                "response": "mitigate",
                "status": "open",
            },
            refresh="risk-changed",
        ),
        Kind(
            name="issue",
            plural="issues",
            prefix="I",
            model=Issue,
            link=IssueDeliverable,
            service=issues,
            form=issues.IssueForm,
            query=issues.IssueQuery,
            quick=("status", "owner_id", "priority"),
            new={"priority": "medium", "status": "open", "escalation_level": "project"},
        ),
    )
}
