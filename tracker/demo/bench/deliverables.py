"""Deliverable histories: each deliverable planned, submitted, reviewed, commented, decided — rejected and resubmitted,
conditionally accepted, deemed accepted by silence, escalated, withdrawn — with the rows and audit events the
deliverable service writes at each step, at business hours on the project's calendar."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

from tracker.audit.service import snapshot
from tracker.deliverables.models import CriterionOutcome, Disposition, Outcome, Severity
from tracker.deliverables.planning import FIELDS
from tracker.deliverables.workflow import Action, Status
from tracker.demo.bench import texts
from tracker.demo.bench.people import Site
from tracker.demo.bench.rows import Store, spread

STATUS_MIX = {
    Status.PLANNED: 14,
    Status.SUBMITTED: 5,
    Status.IN_REVIEW: 11,
    Status.ACCEPTED: 48,
    Status.CONDITIONALLY_ACCEPTED: 8,
    Status.REJECTED: 10,
    Status.WITHDRAWN: 4,
}
VERSIONS = {1: 15, 2: 28, 3: 27, 4: 16, 5: 9, 6: 5}  # how many versions a submitted deliverable took
MAX_VERSIONS = 7
# Comments raised on a reviewed version, by how it ended: choices of (critical, major); minors fill the total.
RAISED = {
    "rejected": ((0, 1, 1, 2), (0, 1, 1, 2)),
    "accepted": ((0, 0, 0, 1), (0, 0, 1, 1, 2)),
    "met": ((0, 0, 1), (1, 1, 2)),
    "conditional": ((0, 0, 1), (1, 1, 2)),
    "review": ((0, 1, 1, 2), (0, 1, 2)),
    "deemed": ((0, 1), (0, 1, 2)),
}
STORED = {"pdf": ("application/pdf", ".pdf"), "csv": ("text/csv", ".csv"), "txt": ("text/plain", ".txt")}
# What a contractor attaches by deliverable type: the document, plus checksums or a spreadsheet where that fits.
ATTACHED = {"software_release": ("pdf", "txt"), "data_conversion": ("pdf", "csv"), "document": ("pdf", "csv")}


@dataclass
class Plan:
    """What becomes of one deliverable, decided before any row is written."""

    site: Site
    status: Status
    ends: list[str]  # per version: rejected | accepted | met | conditional | deemed | review | submitted
    criteria: int
    raised: list[list[int]] = field(default_factory=list)  # per version: [critical, major, minor]

    @property
    def versions(self) -> int:
        return len(self.ends)


def stopped(resubmit_due: date | None) -> dict:
    """As the app audits it: a resubmission or withdrawal stops a running resubmission clock."""
    return {"resubmit_due": [resubmit_due.isoformat(), None]} if resubmit_due else {}


def version_cap(site: Site) -> int:
    """As many versions as the project's history has room for, after planning and the first review."""
    return max(1, min(MAX_VERSIONS, (site.last - site.first - 70) // (site.review_days + site.resubmit_days + 14)))


def plan_all(rng: random.Random, sites: list[Site], shares: list[int], submissions: int) -> list[Plan]:
    """Every deliverable's fate, with exactly `submissions` versions in all."""
    plans = []
    for site, count in zip(sites, shares, strict=True):
        cap = version_cap(site)
        for status in spread(rng, STATUS_MIX, count):
            n = 0
            if status != Status.PLANNED and not (status == Status.WITHDRAWN and rng.random() < 0.7):
                n = min(cap, rng.choices(list(VERSIONS), list(VERSIONS.values()))[0])
            plans.append(Plan(site, status, ["rejected"] * n, rng.randint(3, 8)))
    total = sum(p.versions for p in plans)
    growable = [p for p in plans if p.versions]
    for _ in range(100 * len(plans)):  # one version more or less on a submitted deliverable at a time
        if total == submissions:
            break
        p = rng.choice(growable)
        if total < submissions and p.versions < version_cap(p.site):
            p.ends.append("rejected")
            total += 1
        elif total > submissions and p.versions > 1:
            p.ends.pop()
            total -= 1
    if total != submissions:
        raise ValueError(f"{len(growable)} submitted deliverables cannot hold {submissions} versions")
    deemed: set[int] = set()  # projects with a deemed acceptance already: each deemed contract shows one
    for p in plans:
        if p.versions:
            p.ends[-1] = _last_end(rng, p, p.site.id not in deemed)
            if p.ends[-1] == "deemed":
                deemed.add(p.site.id)
    return plans


def _last_end(rng: random.Random, p: Plan, first_deemed: bool) -> str:
    if p.status == Status.ACCEPTED:
        if p.site.deemed_days:
            return "deemed" if first_deemed else rng.choices(("accepted", "met", "deemed"), (70, 20, 10))[0]
        return rng.choices(("accepted", "met"), (70, 20))[0]
    return {
        Status.CONDITIONALLY_ACCEPTED: "conditional",
        Status.IN_REVIEW: "review",
        Status.SUBMITTED: "submitted",
        Status.REJECTED: "rejected",
        Status.WITHDRAWN: "rejected",
    }[p.status]


def allocate_comments(rng: random.Random, plans: list[Plan], comments: int) -> None:
    """Critical and major comments by how each version ended; open ones are carried onto the next version as
    copies (rows of their own); minor comments make up exactly `comments` rows in all."""
    fixed, reviewed = 0, []
    for p in plans:
        for k, end in enumerate(p.ends):
            if end == "submitted":
                p.raised.append([0, 0, 0])
                continue
            crit, major = (rng.choice(options) for options in RAISED[end])
            p.raised.append([crit, major, 0])
            reviewed.append(p.raised[-1])
            fixed += crit + major
            if end == "rejected" and k + 1 < p.versions:
                fixed += crit + major  # carried forward onto the next version
    if fixed > comments:
        raise ValueError(f"{fixed} critical and major comments leave no room for {comments} comments in all")
    for version in rng.choices(reviewed, k=comments - fixed):
        version[2] += 1


@dataclass
class Layout:
    """Business-day indices of one deliverable's steps."""

    planned: int
    due: int  # contractual due date (index; v1's due_on)
    subs: list[int] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)
    decisions: list[int] = field(default_factory=list)
    after: int = 0  # conditions met, or withdrawn


def layout(rng: random.Random, p: Plan) -> Layout:
    s = p.site
    if not p.versions:
        planned = rng.randint(s.first + 1, s.last - 10)
        if p.status == Status.WITHDRAWN:
            withdrawn = planned + rng.randint(5, min(120, s.last - planned))
            return Layout(planned, planned + rng.randint(20, 80), after=withdrawn)
        return Layout(planned, _planned_due(rng, s, planned))
    subs, starts, decisions, t = [], [], [], 0
    for k, end in enumerate(p.ends):
        subs.append(t)
        if end == "submitted":
            break
        r0 = rng.choice((0, 1, 1, 2))
        starts.append(t + r0)
        if end in ("review", "deemed"):
            break
        limit = s.deemed_days or s.review_days + 10  # a deemed contract's silence ends the review by itself
        late = rng.random() < 0.15
        d = rng.randint(s.review_days + 1, limit) if late and limit > s.review_days else rng.randint(4, s.review_days)
        decisions.append(t + max(d, r0 + 2))
        if k + 1 < p.versions:
            t = decisions[-1] + max(1, s.resubmit_days + rng.randint(-6, 4))
    end = decisions[-1] if decisions else subs[-1]
    after = 0
    if p.ends[-1] == "met":
        after = end = end + rng.randint(5, 40)
    elif p.status == Status.WITHDRAWN:
        after = end = end + rng.randint(2, s.resubmit_days + 5)
    elif p.ends[-1] == "deemed":
        end = subs[-1] + s.deemed_days + 2
    # Anchor: open work runs up to yesterday; finished stories end anywhere in the project's history.
    if p.status in (Status.SUBMITTED, Status.IN_REVIEW):
        cap = (s.deemed_days - 1) if s.deemed_days else s.review_days + 8
        ago = rng.randint(0, 3) if p.status == Status.SUBMITTED and rng.random() < 0.7 else rng.randint(0, cap)
        shift = s.last - min(ago, cap) - subs[-1]
        if starts and len(starts) == len(subs):
            starts[-1] = min(starts[-1] + shift, s.last) - shift
    elif p.status == Status.REJECTED:
        shift = s.last - rng.randint(0, s.resubmit_days + 10) - end
    else:
        room = s.last - s.first - 12 - end
        shift = s.last - rng.randint(0, max(0, room)) - end
    first_sub = shift
    planned = max(s.first + 1, first_sub - rng.randint(10, 60))
    due = first_sub + rng.randint(0, 3) if rng.random() < 0.75 else max(planned + 5, first_sub - rng.randint(1, 8))
    return Layout(
        planned,
        due,
        [x + shift for x in subs],
        [x + shift for x in starts],
        [x + shift for x in decisions],
        after + shift if after else 0,
    )


def _planned_due(rng: random.Random, s: Site, planned: int) -> int:
    today = s.index(s.today)
    roll = rng.random()
    if roll < 0.2:
        return max(planned + 3, today - rng.randint(1, 30))  # overdue from the contractor
    return today + (rng.randint(0, 10) if roll < 0.4 else rng.randint(11, 140))


def write_project(
    store: Store,
    rng: random.Random,
    names: dict[int, str],
    files: dict[str, tuple[str, int]],
    site: Site,
    plans: list[Plan],
) -> None:
    """The project's deliverables, coded D-001… in the order they were planned."""
    laid = sorted(((layout(rng, p), p) for p in plans), key=lambda lp: lp[0].planned)
    width = max(3, len(str(len(laid))))
    for n, (lay, p) in enumerate(laid, start=1):
        Story(store, rng, names, files, p, lay, f"D-{n:0{width}d}").write()


class Story:
    """One deliverable, step by step, as the service functions write it."""

    def __init__(
        self,
        store: Store,
        rng: random.Random,
        names: dict[int, str],
        files: dict[str, tuple[str, int]],
        plan: Plan,
        lay: Layout,
        code: str,
    ) -> None:
        self.store, self.rng, self.names, self.files = store, rng, names, files
        self.plan, self.lay, self.code, self.site = plan, lay, code, plan.site
        s = self.site
        self.area = rng.choice(texts.AREAS)
        self.manager, lead = rng.choice(s.managers), rng.choice(s.reviewers)
        others = [r for r in s.reviewers if r != lead]
        self.team = [lead, *rng.sample(others, min(len(others), rng.choice((0, 1, 1, 2))))]
        self.d = self.decision = self.submission = 0
        self.row: dict = {}
        self.criteria: list[int] = []

    def event(self, at: datetime, actor: int | None, etype: str, eid: int, action: str, changes: dict) -> None:
        self.store.trail.add(at, actor, self.site.id, etype, eid, self.code, action, changes)

    def write(self) -> None:
        rng, s, p = self.rng, self.site, self.plan
        kind = rng.choice(list(texts.DELIVERABLE_KINDS))
        title = f"{self.area} {rng.choice(texts.DELIVERABLE_KINDS[kind])}"
        if kind == "software_release":
            title += f" {rng.randint(1, 6)}.{rng.randint(0, 9)}"
        amount = Decimal(rng.randrange(20, 900) * 1000) if rng.random() < 0.8 else None
        planned_at = s.at(self.lay.planned, 9, rng.randint(0, 50))
        values = {
            "code": self.code,
            "title": title,
            "type": kind,
            "due_date": s.days[self.lay.due],
            "description": f"{title} for the {self.area.lower()} area, as the Deliverable Expectation "
            "Document sets out.",
            "owner_id": self.team[0],
            "payment_amount": amount,
            "holdback_pct": Decimal(rng.choice((10, 10, 15))) if amount is not None else None,
        }
        self.d = self.store["deliverable"].add(
            planned_at,
            project_id=s.id,
            **values,
            status=Status.PLANNED.value,
            current_version=0,
            review_due=None,
            resubmit_due=None,
            deemed_on=None,
            escalated_at=None,
            withdrawn_reason="",
            created_at=planned_at,
            updated_at=planned_at,
            version=1,
        )
        self.row = self.store["deliverable"].rows[-1]
        s.deliverables.append((self.lay.planned, self.d, self.code))
        wording = rng.sample(texts.CRITERIA, p.criteria)
        self.criteria = [
            self.store["criterion"].add(
                planned_at, deliverable_id=self.d, position=n, text=t, retired_at=None, created_at=planned_at, version=1
            )
            for n, t in enumerate(wording, start=1)
        ]
        changes = {f: [None, v] for f, v in snapshot(SimpleNamespace(**values), FIELDS).items() if v not in (None, "")}
        self.event(planned_at, self.manager, "deliverable", self.d, "create", changes | {"criteria": [None, wording]})
        # The DED agreed that afternoon and acknowledged by the contractor the next morning, as a submission needs.
        agreed_at, acknowledged_at = planned_at + timedelta(hours=5), planned_at + timedelta(hours=23)
        acknowledging = rng.choice(s.contractors)
        self.store["criteria_version"].add(
            planned_at,
            deliverable_id=self.d,
            number=1,
            criterion_ids=list(self.criteria),
            created_at=planned_at,
            agreed_at=agreed_at,
            agreed_by_id=self.manager,
            acknowledged_at=acknowledged_at,
            acknowledged_by_id=acknowledging,
        )
        self.event(agreed_at, self.manager, "deliverable", self.d, "agree_criteria", {"criteria version": [None, 1]})
        self.event(
            acknowledged_at,
            acknowledging,
            "deliverable",
            self.d,
            "acknowledge_criteria",
            {"criteria version": [None, 1]},
        )
        status, carried, resubmit_due = Status.PLANNED.value, [], None
        for k in range(p.versions):
            status, carried, resubmit_due = self.version(k, status, carried, resubmit_due)
        if p.status == Status.WITHDRAWN:
            at = s.at(self.lay.after, 16, rng.randint(0, 50))
            reason = rng.choice(texts.WITHDRAWN).format(n=rng.randint(1, 200))
            self.transition(
                at,
                self.manager,
                Action.WITHDRAW,
                status,
                Status.WITHDRAWN,
                {"withdrawn_reason": [None, reason], **stopped(self.row["resubmit_due"])},
            )
            self.row |= {"withdrawn_reason": reason, "review_due": None, "resubmit_due": None, "deemed_on": None}
            status = Status.WITHDRAWN.value
        self.row["status"] = status

    def transition(
        self, at: datetime, actor: int | None, action: Action, before: str, after: Status, extra: dict | None = None
    ) -> None:
        self.event(at, actor, "deliverable", self.d, action.value, {"status": [before, after.value], **(extra or {})})
        self.row["updated_at"] = at
        self.row["version"] += 1

    def version(
        self, k: int, status: str, carried: list[dict], resubmit_due: date | None
    ) -> tuple[str, list[dict], date | None]:
        """Version k+1 from its submission to its end: the status it leaves, the comments it leaves open (carried
        onto the next version), the resubmission date."""
        rng, s, st, lay, end, number = self.rng, self.site, self.store, self.lay, self.plan.ends[k], k + 1
        sub = lay.subs[k]
        sub_at = s.at(sub, 8, 30 + rng.randint(0, 50))  # before a review started the same day (9:40)
        review_due = s.days[sub + s.review_days]
        contractor = rng.choice(s.contractors)
        submission = st["submission"].add(
            sub_at,
            deliverable_id=self.d,
            number=number,
            submitted_at=sub_at,
            submitted_by_id=contractor,
            notes="Submitted for State review."
            if number == 1
            else f"Version {number} addresses the findings on version {number - 1}.",
            review_due=review_due,
            due_on=s.days[lay.due] if number == 1 else resubmit_due,
        )
        for ext in ATTACHED.get(self.row["type"], ("pdf",)):
            sha, size = self.files[ext]
            st["submission_file"].add(
                sub_at,
                submission_id=submission,
                sha256=sha,
                size=size,
                original_name=f"{s.key}-{self.code}-v{number}{STORED[ext][1]}",
                content_type=STORED[ext][0],
            )
        action = Action.RESUBMIT if status == Status.REJECTED else Action.SUBMIT
        self.transition(
            sub_at,
            contractor,
            action,
            status,
            Status.SUBMITTED,
            {"current_version": [number - 1, number], **stopped(self.row["resubmit_due"])},
        )
        self.row |= {
            "current_version": number,
            "review_due": review_due,
            "resubmit_due": None,
            "escalated_at": None,
            "deemed_on": s.days[sub + s.deemed_days] if s.deemed_days else None,
        }
        copies = []
        for c in carried:  # carry_forward: the open comments of the last version, linked to where they were raised
            st["comment"].add(
                sub_at,
                **(
                    c
                    | {
                        "submission_id": submission,
                        "carried_from_id": c["id"],
                        "created_at": sub_at,
                        "disposition": Disposition.OPEN.value,
                        "version": 1,
                    }
                ),
            )
            copies.append(st["comment"].rows[-1])
        if end == "submitted":
            self.escalate(review_due, None)
            return Status.SUBMITTED.value, [], None
        start_at = s.at(lay.starts[k], 9, 40 + rng.randint(0, 15))
        self.transition(start_at, self.team[0], Action.START_REVIEW, Status.SUBMITTED, Status.IN_REVIEW)
        assignments = []
        for reviewer in self.team:
            st["review_assignment"].add(
                start_at,
                submission_id=submission,
                reviewer_id=reviewer,
                due_date=review_due,
                completed_at=None,
                version=1,
            )
            assignments.append(st["review_assignment"].rows[-1])
            self.event(
                start_at,
                self.team[0],
                "review_assignment",
                assignments[-1]["id"],
                "assign_reviewer",
                {"reviewer": [None, self.names[reviewer]], "due_date": [None, review_due.isoformat()]},
            )
        if end == "review":
            self.comments(self.plan.raised[k], submission, lay.starts[k], s.last, contractor, 0.4)
            self.escalate(review_due, None)
            self.results(submission, s.at(s.last, 17), end, half=True)
            return Status.IN_REVIEW.value, [], None
        if end == "deemed":
            deemed_on = sub + s.deemed_days
            self.comments(self.plan.raised[k], submission, lay.starts[k], deemed_on - 1, contractor, 0.6)
            self.deem(submission, assignments, s.days[deemed_on])
            return Status.ACCEPTED.value, [], None
        decided = lay.decisions[k]
        raised = self.comments(self.plan.raised[k], submission, lay.starts[k], decided - 2, contractor, 0.75)
        self.escalate(review_due, s.days[decided])
        not_met = self.results(submission, s.at(decided - 1, 10), end, half=False)
        self.dispositions(s.at(decided - 1, 11), copies, raised, end)
        decided_at = s.at(decided, 15, 30 + rng.randint(0, 20))
        for a in assignments:
            a |= {"completed_at": decided_at, "version": 2}
        resubmit_due = self.decide(decided_at, submission, end, not_met, decided)
        if end == "met":
            self.conditions_met(s.at(lay.after, 14, rng.randint(0, 50)))
            return Status.ACCEPTED.value, [], None
        status = {
            "accepted": Status.ACCEPTED,
            "conditional": Status.CONDITIONALLY_ACCEPTED,
            "rejected": Status.REJECTED,
        }[end].value
        still_open = [c for c in raised if c["severity"] != Severity.MINOR] if end == "rejected" else []
        return status, still_open, resubmit_due

    def escalate(self, review_due: date, decided_on: date | None) -> None:
        """The never-deemed contract clock: a review still undecided the day after it was due is escalated."""
        s = self.site
        if s.deemed_days or review_due >= (decided_on or s.today):
            return
        at = s.tick(review_due + timedelta(days=1))
        self.event(
            at,
            None,
            "deliverable",
            self.d,
            "escalate",
            {"escalated": [None, f"review due {review_due.isoformat()} passed without a decision"]},
        )
        self.row["escalated_at"] = at
        self.row["version"] += 1

    def comments(
        self, counts: list[int], submission: int, first: int, last: int, contractor: int, answered: float
    ) -> list[dict]:
        """Comments raised between the start of the review and `last`, some answered by the contractor."""
        rng, s, st = self.rng, self.site, self.store
        out = []
        severities = [Severity.CRITICAL] * counts[0] + [Severity.MAJOR] * counts[1] + [Severity.MINOR] * counts[2]
        for severity in severities:
            day = rng.randint(first, max(first, last))
            at = s.at(day, 12, rng.randint(0, 290))
            reviewer = rng.choice(self.team)
            location = rng.choice(texts.LOCATIONS).format(
                a=rng.randint(1, 12), b=rng.randint(1, 9), p=rng.randint(2, 240), x=rng.choice("ABCDE")
            )
            text = rng.choice(texts.COMMENTS[severity]).format(area=self.area)
            comment = st["comment"].add(
                at,
                submission_id=submission,
                reviewer_id=reviewer,
                location=location,
                text=text,
                severity=severity.value,
                response="",
                responded_by_id=None,
                responded_at=None,
                disposition=Disposition.OPEN.value,
                carried_from_id=None,
                created_at=at,
                version=1,
            )
            self.event(
                at, reviewer, "comment", comment, "comment", {"severity": [None, severity.value], "text": [None, text]}
            )
            row = st["comment"].rows[-1]
            if day < last and rng.random() < answered:
                answered_at = s.at(rng.randint(day + 1, last), 9, rng.randint(0, 50))
                response = rng.choice(texts.RESPONSES).format(area=self.area)
                row |= {"response": response, "responded_by_id": contractor, "responded_at": answered_at, "version": 2}
                self.event(answered_at, contractor, "comment", comment, "respond", {"response": [None, response]})
            out.append(row)
        return out

    def results(self, submission: int, at: datetime, end: str, half: bool) -> list[int]:
        """Each criterion's result on this version (the first half while the review goes on); returns the
        positions not met."""
        rng, lead = self.rng, self.team[0]
        criteria = self.criteria[: (len(self.criteria) + 1) // 2] if half else self.criteria
        failing: set[int] = set()
        if end == "rejected":
            failing = set(rng.sample(range(1, len(criteria) + 1), min(len(criteria), rng.choice((1, 1, 2)))))
        elif end in ("conditional", "review") and rng.random() < 0.4:
            failing = {rng.randint(1, len(criteria))}
        for position, criterion in enumerate(criteria, start=1):
            outcome = (
                CriterionOutcome.NOT_MET
                if position in failing
                else CriterionOutcome.NOT_APPLICABLE
                if rng.random() < 0.1
                else CriterionOutcome.MET
            )
            when = at + timedelta(minutes=4 * position)
            evidence = (
                "Not met in this version: see the comment log."
                if outcome == CriterionOutcome.NOT_MET
                else "Confirmed at the review session."
            )
            result = self.store["criterion_result"].add(
                when,
                submission_id=submission,
                criterion_id=criterion,
                outcome=outcome.value,
                evidence=evidence,
                recorded_by_id=lead,
                recorded_at=when,
                version=1,
            )
            self.event(
                when,
                lead,
                "criterion_result",
                result,
                "criterion_result",
                {f"criterion {position}": [None, outcome.value]},
            )
        return sorted(failing)

    def dispositions(self, at: datetime, copies: list[dict], raised: list[dict], end: str) -> None:
        """Before deciding, the lead resolves what the new version fixed (the carried comments) and closes the
        minors; on a rejection criticals and majors stay open (and carry forward); on a conditional acceptance
        majors are deferred as its conditions."""
        rng, lead = self.rng, self.team[0]
        chosen = [(c, Disposition.RESOLVED) for c in copies]
        for c in raised:
            if c["severity"] == Severity.MINOR:
                chosen.append(
                    (
                        c,
                        rng.choices(
                            (Disposition.RESOLVED, Disposition.ACCEPTED_AS_IS, Disposition.DEFERRED), (70, 20, 10)
                        )[0],
                    )
                )
            elif end != "rejected":
                deferred = end == "conditional" and c["severity"] == Severity.MAJOR
                chosen.append((c, Disposition.DEFERRED if deferred else Disposition.RESOLVED))
        for n, (c, disposition) in enumerate(chosen):
            c["disposition"] = disposition.value
            c["version"] += 1
            self.event(
                at + timedelta(minutes=n),
                lead,
                "comment",
                c["id"],
                "disposition",
                {"disposition": [Disposition.OPEN.value, disposition.value]},
            )

    def decide(self, at: datetime, submission: int, end: str, not_met: list[int], decided: int) -> date | None:
        """The manager's decision on the version; returns the resubmission date of a rejection."""
        rng, s = self.rng, self.site
        outcome = {
            "accepted": Outcome.ACCEPTED,
            "met": Outcome.CONDITIONALLY_ACCEPTED,
            "conditional": Outcome.CONDITIONALLY_ACCEPTED,
            "rejected": Outcome.REJECTED,
        }[end]
        findings, conditions, conditions_due, resubmit_due = (
            "Every acceptance criterion is met and every comment is resolved or dispositioned.",
            "",
            None,
            None,
        )
        extra: dict = {"decision": [None, outcome.value]}
        if outcome == Outcome.CONDITIONALLY_ACCEPTED:
            findings = "Fit for use; the holdback stays until the conditions are met."
            conditions = rng.choice(texts.CONDITIONS).format(area=self.area)
            conditions_due = s.days[decided] + timedelta(days=rng.randint(10, 60))
        elif outcome == Outcome.REJECTED:
            findings = "Not accepted. " + rng.choice(texts.FINDINGS).format(
                c=", ".join(map(str, not_met)), area=self.area.lower()
            )
            resubmit_due = s.days[decided + s.resubmit_days]
            extra["resubmit_due"] = [None, resubmit_due.isoformat()]
        self.decision = self.store["decision"].add(
            at,
            deliverable_id=self.d,
            submission_id=submission,
            outcome=outcome.value,
            findings=findings,
            conditions=conditions,
            conditions_due=conditions_due,
            closes_id=0,
            decided_by_id=self.manager,
            decided_at=at,
            criteria_version=1,
        )
        self.submission = submission
        self.condition = None
        if conditions:
            self.condition = self.store["condition"].add(
                at,
                deliverable_id=self.d,
                decision_id=self.decision,
                position=1,
                text=conditions,
                due_date=conditions_due,
                owner_id=rng.choice(s.contractors),
                met_at=None,
                met_by_id=None,
                evidence="",
                created_at=at,
                version=1,
            )
        action, target = {
            Outcome.ACCEPTED: (Action.ACCEPT, Status.ACCEPTED),
            Outcome.CONDITIONALLY_ACCEPTED: (Action.CONDITIONALLY_ACCEPT, Status.CONDITIONALLY_ACCEPTED),
            Outcome.REJECTED: (Action.REJECT, Status.REJECTED),
        }[outcome]
        self.transition(at, self.manager, action, Status.IN_REVIEW, target, extra)
        self.row |= {"review_due": None, "deemed_on": None, "resubmit_due": resubmit_due}
        return resubmit_due

    def conditions_met(self, at: datetime) -> None:
        evidence = "Evidence on file: the revised version and the reviewer's check."
        self.store["condition"].rows[self.condition - 1] |= {
            "met_at": at,
            "met_by_id": self.manager,
            "evidence": evidence,
            "version": 2,
        }
        self.event(at, self.manager, "deliverable", self.d, "condition_met", {"condition 1": [None, evidence]})
        self.store["decision"].add(
            at,
            deliverable_id=self.d,
            submission_id=self.submission,
            outcome=Outcome.ACCEPTED.value,
            findings=f"Conditions met:\n1. {evidence}",
            conditions="",
            conditions_due=None,
            closes_id=self.decision,
            decided_by_id=self.manager,
            decided_at=at,
            criteria_version=1,
        )
        self.transition(at, self.manager, Action.CONDITIONS_MET, Status.CONDITIONALLY_ACCEPTED, Status.ACCEPTED)

    def deem(self, submission: int, assignments: list[dict], deemed_on: date) -> None:
        """The deemed-acceptance clock, the day after the deemed day passed in silence."""
        s = self.site
        at = s.tick(deemed_on + timedelta(days=1))
        self.store["decision"].add(
            at,
            deliverable_id=self.d,
            submission_id=submission,
            outcome=Outcome.DEEMED_ACCEPTED.value,
            findings=f"Deemed accepted under the contract's terms: no decision within {s.deemed_days} business days "
            f"of submission (deemed on {deemed_on.isoformat()}).",
            conditions="",
            conditions_due=None,
            closes_id=0,
            decided_by_id=None,
            decided_at=at,
            criteria_version=1,
        )
        for a in assignments:
            a |= {"completed_at": at, "version": 2}
        self.transition(
            at,
            None,
            Action.DEEM_ACCEPT,
            Status.IN_REVIEW,
            Status.ACCEPTED,
            {"decision": [None, Outcome.DEEMED_ACCEPTED.value]},
        )
        self.row |= {"review_due": None, "deemed_on": None}
