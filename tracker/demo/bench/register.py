"""The risk and issue registers: risks with their score history, status changes and reviews on the project's cadence
(some realized into issues), issues through every status with their decision logs, and action items under
mitigation and contingency plans and under issues — with the audit events the register services write."""

from __future__ import annotations

import random
from array import array
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from types import SimpleNamespace

from tracker.audit.service import snapshot
from tracker.demo.bench import texts
from tracker.demo.bench.people import Site
from tracker.demo.bench.rows import ActionChanges, Store, spread
from tracker.register.actions.models import Plan
from tracker.register.issues import service as issues
from tracker.register.issues.models import UNRESOLVED, EscalationLevel, IssueStatus, Priority
from tracker.register.risks import scoring
from tracker.register.risks import service as risks
from tracker.register.risks.models import ACTIVE_RISK, REVIEW_DAYS, Category, Proximity, RiskStatus, Strategy

# Registers are mostly history: what is still open was raised lately (within its age of today, drawn around these
# means, in business days); closed risks and resolved issues lie anywhere in the project's past.
RISK_MIX = {
    RiskStatus.OPEN: 10,
    RiskStatus.MITIGATING: 15,
    RiskStatus.MONITORING: 9,
    RiskStatus.CLOSED: 59,
    RiskStatus.REALIZED: 7,
}
ACTIVE_AGE = {RiskStatus.OPEN: 30, RiskStatus.MITIGATING: 120, RiskStatus.MONITORING: 200}
RISK_LIFE = 120  # how long a closed or realized risk was active
# Probability and impact, each 1-5, weighted so every level from low to critical is well represented.
SCALE = (1, 2, 3, 4, 5)
LIKELIHOOD = (8, 22, 30, 25, 15)
ISSUE_MIX = {
    IssueStatus.OPEN: 3,
    IssueStatus.IN_PROGRESS: 4,
    IssueStatus.ESCALATED: 1,
    IssueStatus.RESOLVED: 4,
    IssueStatus.CLOSED: 88,
}
UNRESOLVED_AGE = {IssueStatus.OPEN: 6, IssueStatus.IN_PROGRESS: 25, IssueStatus.ESCALATED: 40}
ISSUE_LIFE = {Priority.CRITICAL: 5, Priority.HIGH: 12, Priority.MEDIUM: 25, Priority.LOW: 45}  # raised to resolved
FORGOTTEN = 0.02  # action items nobody closed: they stay overdue
PRIORITY_MIX = {Priority.CRITICAL: 8, Priority.HIGH: 25, Priority.MEDIUM: 45, Priority.LOW: 22}
# Which parents action items gather under: plans being worked carry more than dormant ones.
RISK_ACTIONS = {
    RiskStatus.OPEN: 1,
    RiskStatus.MITIGATING: 4,
    RiskStatus.MONITORING: 2,
    RiskStatus.CLOSED: 2,
    RiskStatus.REALIZED: 1,
}
ISSUE_ACTIONS = {
    IssueStatus.OPEN: 1,
    IssueStatus.IN_PROGRESS: 3,
    IssueStatus.ESCALATED: 3,
    IssueStatus.RESOLVED: 2,
    IssueStatus.CLOSED: 2,
}
# Action items per risk and per issue, on average (large's 44,000 on 25,000 risks and 36,000 on 40,000 issues).
ACTIONS_PER_RISK, ACTIONS_PER_ISSUE = 1.76, 0.9


@dataclass
class Record:
    """A risk or an issue while its history is written: its row, and the business days it was alive."""

    site: Site
    id: int
    code: str
    row: dict
    created: int
    end: int  # last business day it was worked (closed, resolved, realized), or the last day before today
    status: str
    finished: bool  # closed or resolved: its action items were all done by `end`
    scores: list[tuple[int, int, int]] = field(default_factory=list)  # (day index, probability, impact)
    links: dict[int, str] = field(default_factory=dict)  # linked deliverables: {id: code}
    realized: int = 0  # the day it was converted into an issue


def _fmt(rng: random.Random, template: str, area: str) -> str:
    subject = rng.choice(texts.RISK_SUBJECTS).format(area=area.lower())
    return template.format(area=area.lower(), Area=area, subject=subject, Subject=subject[0].upper() + subject[1:])


def _links(rng: random.Random, site: Site, created: int, share: float) -> dict[int, str]:
    """Some records name deliverables already planned by then."""
    known = bisect_right(site.deliverables, (created, 10**12, ""))
    if not known or rng.random() >= share:
        return {}
    return {d: code for _, d, code in rng.sample(site.deliverables[:known], min(known, rng.choice((1, 1, 2))))}


def _link_rows(store: Store, table: str, key: str, parent: int, links: dict[int, str], at: datetime) -> None:
    for deliverable in links:
        store[table].add(at, **{key: parent, "deliverable_id": deliverable})


# --- risks ------------------------------------------------------------------------------------------------------


def _age(rng: random.Random, mean: int) -> int:
    return max(3, int(rng.expovariate(1 / mean)))


def write_risks(store: Store, rng: random.Random, site: Site, count: int) -> list[Record]:
    """Each risk raised, rescored and moved through its statuses; reviews come last (`write_reviews`)."""
    lives = sorted((_risk_span(rng, site, status), status) for status in spread(rng, RISK_MIX, count))
    width = max(3, len(str(count)))
    return [
        _risk(store, rng, site, created, end, f"R-{n:0{width}d}", status)
        for n, ((created, end), status) in enumerate(lives, start=1)
    ]


def _risk_span(rng: random.Random, site: Site, status: RiskStatus) -> tuple[int, int]:
    """(raised, ended) business days: an active risk raised within its age of today, a closed or realized one
    anywhere in the project's history and active for its life."""
    oldest = site.first + 5
    if status in ACTIVE_RISK:
        return max(oldest, site.last - _age(rng, ACTIVE_AGE[status])), site.last
    created = rng.randint(oldest, site.last - 10)
    return created, min(site.last, created + 6 + int(rng.expovariate(1 / RISK_LIFE)))


def _risk(
    store: Store, rng: random.Random, site: Site, created: int, end: int, code: str, status: RiskStatus
) -> Record:
    area = rng.choice(texts.AREAS)
    title, statement = (_fmt(rng, t, area) for t in rng.choice(texts.RISK_TEMPLATES))
    p, i = rng.choices(SCALE, LIKELIHOOD)[0], rng.choices(SCALE, LIKELIHOOD)[0]
    at = site.at(created, 9, rng.randint(0, 110))
    today = site.days[created]
    residual = rng.random() < 0.6
    values = {
        "code": code,
        "title": title,
        "statement": statement,
        "category": rng.choice(list(Category)).value,
        "probability": p,
        "impact": i,
        "proximity": rng.choice(list(Proximity)).value,
        "trigger": rng.choice(texts.TRIGGERS),
        "owner_id": rng.choice(site.owners),
        "response": rng.choices(list(Strategy), (10, 60, 10, 15, 5))[0].value,
        "residual_probability": max(1, p - rng.randint(0, 2)) if residual else None,
        "residual_impact": max(1, i - rng.randint(0, 1)) if residual else None,
        "mitigation_plan": _fmt(rng, rng.choice(texts.MITIGATIONS), area),
        "contingency_plan": _fmt(rng, rng.choice(texts.CONTINGENCIES), area) if rng.random() < 0.7 else "",
        "next_review_date": today + timedelta(days=REVIEW_DAYS[scoring.level(p, i)]),
        "status": RiskStatus.OPEN.value,
        "raised_on": today - timedelta(days=rng.choice((0, 0, 0, 1, 3, 7))),
    }
    risk = store["risk"].add(
        at, project_id=site.id, **values, last_reviewed_on=None, created_at=at, updated_at=at, version=1
    )
    actor = rng.choice(site.reviewers)
    store["risk_score_history"].add(at, risk_id=risk, at=at, probability=p, impact=i, changed_by_id=actor)
    links = _links(rng, site, created, 0.35)
    _link_rows(store, "risk_deliverable", "risk_id", risk, links, at)
    changes = {
        f: [None, v] for f, v in snapshot(SimpleNamespace(**values), risks.FIELDS).items() if v not in (None, "")
    }
    if links:
        changes["deliverables"] = [None, sorted(links.values())]
    store.trail.add(at, actor, site.id, "risk", risk, code, "create", changes)
    record = Record(
        site,
        risk,
        code,
        store["risk"].rows[-1],
        created,
        end,
        status.value,
        status == RiskStatus.CLOSED,
        [(created, p, i)],
        links,
    )
    _risk_history(store, rng, record, status, actor)
    return record


def _risk_history(store: Store, rng: random.Random, r: Record, status: RiskStatus, actor: int) -> None:
    """Rescoring at reviews, and the status path to where the risk stands; closing and realizing end it."""
    s, row = r.site, r.row
    path = {
        RiskStatus.OPEN: [],
        RiskStatus.MITIGATING: [RiskStatus.MITIGATING],
        RiskStatus.MONITORING: [RiskStatus.MITIGATING, RiskStatus.MONITORING],
        RiskStatus.CLOSED: rng.choice(([RiskStatus.CLOSED], [RiskStatus.MITIGATING, RiskStatus.CLOSED])),
        RiskStatus.REALIZED: rng.choice(([], [RiskStatus.MITIGATING])),
    }[status]
    last_work = r.end - 1 if status in (RiskStatus.CLOSED, RiskStatus.REALIZED) else r.end
    steps = sorted(rng.randint(r.created + 1, last_work) for _ in path)
    if status == RiskStatus.CLOSED:
        steps[-1] = r.end
    times = rng.choices((0, 1, 2, 3), (40, 30, 20, 10))[0] if last_work > r.created else 0
    rescores = sorted(rng.randint(r.created + 1, last_work) for _ in range(times))
    p, i = row["probability"], row["impact"]
    events = [(d, 10, "score") for d in rescores] + [(d, 11, target) for d, target in zip(steps, path, strict=True)]
    at = s.at(r.created, 0)
    for day, hour, what in sorted(events, key=lambda e: (e[0], e[1])):
        at = max(s.at(day, hour, rng.randint(0, 59)), at + timedelta(minutes=1))  # one step after another
        if what == "score":
            before = (p, i)
            while (p, i) == before:
                p, i = min(5, max(1, p + rng.choice((-1, 0, 1)))), min(5, max(1, i + rng.choice((-1, 0, 1))))
            changes = {
                k: [old, new] for k, old, new in (("probability", before[0], p), ("impact", before[1], i)) if old != new
            }
            store["risk_score_history"].add(at, risk_id=r.id, at=at, probability=p, impact=i, changed_by_id=actor)
            r.scores.append((day, p, i))
        else:
            changes = {"status": [row["status"], what.value]}
            row["status"] = what.value
        store.trail.add(at, actor, s.id, "risk", r.id, r.code, "update", changes)
        row |= {"probability": p, "impact": i, "updated_at": at, "version": row["version"] + 1}
    if status == RiskStatus.REALIZED:
        r.realized = r.end


def write_reviews(store: Store, rng: random.Random, records: list[Record], budget: int) -> None:
    """Reviews on each risk's cadence while it was active, `budget` of them in all, shared by how many reviews each
    risk's level and active life call for, at most one a business day. Most active risks were reviewed within their
    cadence; some are due."""
    spans = [max(0, r.end - r.created - (r.status in (RiskStatus.CLOSED, RiskStatus.REALIZED))) for r in records]
    wanted = [
        span / REVIEW_DAYS[scoring.level(r.row["probability"], r.row["impact"])]
        for r, span in zip(records, spans, strict=True)
    ]
    counts = shares(wanted, spans, budget)
    spare = [n for n, (c, span) in enumerate(zip(counts, spans, strict=True)) if c < span]
    for n in rng.sample(spare, min(len(spare), max(0, budget - sum(counts)))):
        counts[n] += 1
    for r, k, span in zip(records, counts, spans, strict=True):
        _reviews(store, rng, r, k, span)


def shares(weights: list[float], caps: list[int], budget: int) -> list[int]:
    """`budget` shared in proportion to the weights, rounded down, none above its cap: what a capped one cannot
    take is shared by the others alike."""
    counts = [0] * len(weights)
    left, weight = budget, sum(weights)
    by_room = sorted((n for n, w in enumerate(weights) if w), key=lambda n: caps[n] / weights[n])  # tightest first
    for at, n in enumerate(by_room):
        if weights[n] * left / weight < caps[n]:  # no later one's cap binds either
            for m in by_room[at:]:
                counts[m] = int(weights[m] * left / weight)
            break
        counts[n] = caps[n]
        left, weight = left - caps[n], weight - weights[n]
    return counts


def _reviews(store: Store, rng: random.Random, r: Record, k: int, span: int) -> None:
    """The risk's row as its `k` reviews leave it; their events are made as the trail is written (millions of them
    at the larger scales), from the days and random picks drawn here."""
    if not k:
        return
    s, row = r.site, r.row
    first, last = r.created + 1, r.created + span
    cadence = REVIEW_DAYS[scoring.level(row["probability"], row["impact"])] * 5 // 7
    latest = rng.randint(max(first, last - cadence + 1), last)  # reviewed within its cadence: not yet due
    if r.status not in ACTIVE_RISK or latest - first < k - 1 or rng.random() >= 0.85:
        latest = rng.randint(first + k - 1, last)  # anywhere: some active risks are due for review
    step = (latest - first) / max(1, k - 1)  # a steady cadence up to the latest review
    days = array("H", [latest - round(j * step) for j in range(k - 1, -1, -1)])
    # Each review's minute after 14:00 and its reviewer, in turn: plain arithmetic on random(), the hottest loop.
    picks = array("H", [int(rng.random() * limit) for _ in days for limit in (180, len(s.reviewers))])
    store.trail.later(k, _review_events(r, row["next_review_date"], days, picks))
    row |= {
        "next_review_date": s.days[days[-1]] + _cadence(r.scores, days[-1]),
        "last_reviewed_on": s.days[days[-1]],
        "version": row["version"] + k,
        "updated_at": max(row["updated_at"], s.at(days[-1], 14, picks[-2])),
    }


def _cadence(scores: list[tuple[int, int, int]], day: int) -> timedelta:
    """The review cadence of the risk's level as scored by then."""
    _, p, i = scores[bisect_right(scores, (day, 9, 9)) - 1]
    return timedelta(days=REVIEW_DAYS[scoring.level(p, i)])


def _review_events(r: Record, due: date, days: array, picks: array) -> Iterator[tuple]:
    """The risk's reviews as audit events, in time order: each moves the next review date on by the cadence."""
    s, before = r.site, due.isoformat()
    for day, minute, reviewer in zip(days, picks[::2], picks[1::2], strict=True):
        after = (s.days[day] + _cadence(r.scores, day)).isoformat()
        yield (
            s.at(day, 14, minute),
            s.reviewers[reviewer],
            s.id,
            "risk",
            r.id,
            r.code,
            "review",
            {"next_review_date": [before, after]},
        )
        before = after


# --- issues ---------------------------------------------------------------------------------------------------------


def write_issues(store: Store, rng: random.Random, site: Site, count: int, risk_records: list[Record]) -> list[Record]:
    """`count` issues, the realized risks' among them (each converted the day the risk was realized)."""
    regular = max(0, count - sum(1 for r in risk_records if r.realized))
    born = [
        (_issue_span(rng, site, status, priority), status, priority, None)
        for status, priority in zip(spread(rng, ISSUE_MIX, regular), spread(rng, PRIORITY_MIX, regular), strict=True)
    ]
    for risk in risk_records:
        if risk.realized:
            priority = issues.PRIORITY_FOR_LEVEL[scoring.level(risk.row["probability"], risk.row["impact"])]
            end, status = _converted(rng, site, risk.realized, priority)
            born.append(((risk.realized, end), status, priority, risk))
    born.sort(key=lambda b: b[0])
    width = max(3, len(str(len(born))))
    return [
        _issue(store, rng, site, created, end, f"I-{n:0{width}d}", risk, status, priority)
        for n, ((created, end), status, priority, risk) in enumerate(born, start=1)
    ]


def _issue_span(rng: random.Random, site: Site, status: IssueStatus, priority: Priority) -> tuple[int, int]:
    """(raised, worked until) business days: unresolved issues raised within their age of today, resolved ones
    lately after their life, closed ones anywhere in the project's history."""
    oldest = site.first + 5
    if status in UNRESOLVED:
        return max(oldest, site.last - _age(rng, UNRESOLVED_AGE[status])), site.last
    life = _age(rng, ISSUE_LIFE[priority])
    if status == IssueStatus.RESOLVED:
        resolved = site.last - int(rng.expovariate(1 / 5))
        return max(oldest, resolved - life), max(resolved, oldest + 2)
    created = rng.randint(oldest, site.last - 20)
    return created, min(site.last, created + life + rng.randint(1, 10))


def _converted(rng: random.Random, site: Site, created: int, priority: Priority) -> tuple[int, IssueStatus]:
    """A realized risk's issue, raised that day, where its life has taken it by now."""
    resolved = created + _age(rng, ISSUE_LIFE[priority])
    if resolved + 10 <= site.last:
        return min(site.last, resolved + rng.randint(1, 10)), IssueStatus.CLOSED
    if resolved <= site.last:
        return resolved, IssueStatus.RESOLVED
    return site.last, IssueStatus.IN_PROGRESS if site.last - created > 3 else IssueStatus.OPEN


def _issue(
    store: Store,
    rng: random.Random,
    site: Site,
    created: int,
    end: int,
    code: str,
    risk: Record | None,
    status: IssueStatus,
    priority: Priority,
) -> Record:
    area = rng.choice(texts.AREAS)
    at = site.at(created, 10, rng.randint(0, 110))
    today = site.days[created]
    if risk is None:
        title, description = (t.format(area=area.lower(), Area=area) for t in rng.choice(texts.ISSUE_TEMPLATES))
        impact, owner = rng.choice(texts.IMPACTS).format(area=area.lower()), rng.choice(site.owners)
        links, raised_on = _links(rng, site, created, 0.3), today - timedelta(days=rng.choice((0, 0, 0, 2, 5)))
    else:  # issues.convert: prefilled from the risk
        p, i = risk.row["probability"], risk.row["impact"]
        level = scoring.level(p, i)
        title, priority, owner, raised_on = (
            risk.row["title"],
            issues.PRIORITY_FOR_LEVEL[level],
            risk.row["owner_id"],
            today,
        )
        description = "\n\n".join(
            part
            for part in (
                risk.row["statement"],
                f"Trigger: {risk.row['trigger']}",
                f"Contingency plan: {risk.row['contingency_plan']}" if risk.row["contingency_plan"] else "",
            )
            if part
        )
        impact = (
            f"Realized risk {risk.code}: {scoring.IMPACT_WORDS[i].lower()} impact "
            f"(score {scoring.score(p, i)}, {level.value})."
        )
        links = risk.links
    values = {
        "code": code,
        "title": title,
        "description": description,
        "impact": impact,
        "priority": priority.value,
        "owner_id": owner,
        "need_by": today + timedelta(days=rng.randint(7, 60)) if rng.random() < 0.6 else None,
        "status": IssueStatus.OPEN.value,
        "escalation_level": EscalationLevel.PROJECT.value,
        "escalation_reason": "",
        "resolution": "",
        "raised_on": raised_on,
        "resolved_on": None,
    }
    issue = store["issue"].add(
        at, project_id=site.id, **values, risk_id=risk.id if risk else None, created_at=at, updated_at=at, version=1
    )
    _link_rows(store, "issue_deliverable", "issue_id", issue, links, at)
    changes = {
        f: [None, v] for f, v in snapshot(SimpleNamespace(**values), issues.FIELDS).items() if v not in (None, "")
    }
    if links:
        changes["deliverables"] = [None, sorted(links.values())]
    actor = rng.choice(site.reviewers)
    if risk is not None:
        changes["from_risk"] = [None, risk.code]
    store.trail.add(at, actor, site.id, "issue", issue, code, "create", changes)
    if risk is not None:
        store.trail.add(
            at,
            actor,
            site.id,
            "risk",
            risk.id,
            risk.code,
            "convert",
            {"status": [risk.row["status"], RiskStatus.REALIZED.value], "issue": [None, code]},
        )
        risk.row |= {"status": RiskStatus.REALIZED.value, "updated_at": at, "version": risk.row["version"] + 1}
    finished = status in (IssueStatus.RESOLVED, IssueStatus.CLOSED)
    record = Record(site, issue, code, store["issue"].rows[-1], created, end, status.value, finished)
    _issue_history(store, rng, record, status, actor, area)
    return record


def _issue_history(store: Store, rng: random.Random, r: Record, status: IssueStatus, actor: int, area: str) -> None:
    s, row = r.site, r.row
    path = {
        IssueStatus.OPEN: [],
        IssueStatus.IN_PROGRESS: [IssueStatus.IN_PROGRESS],
        IssueStatus.ESCALATED: [IssueStatus.IN_PROGRESS, IssueStatus.ESCALATED],
        IssueStatus.RESOLVED: [IssueStatus.IN_PROGRESS, IssueStatus.RESOLVED],
        IssueStatus.CLOSED: [IssueStatus.IN_PROGRESS, IssueStatus.RESOLVED, IssueStatus.CLOSED],
    }[status]
    days = sorted(rng.randint(r.created + 1, r.end) for _ in path)
    if r.finished:
        days[-1] = r.end
    at = s.at(r.created, 0)
    for day, target in zip(days, path, strict=True):
        at = max(s.at(day, 15, rng.randint(0, 100)), at + timedelta(minutes=1))  # one step after another
        changes = {"status": [row["status"], target.value]}
        if target == IssueStatus.ESCALATED:
            level = rng.choice((EscalationLevel.EXECUTIVE, EscalationLevel.SPONSOR)).value
            reason = rng.choice(texts.ESCALATIONS).format(area=area.lower())
            changes |= {"escalation_level": [row["escalation_level"], level], "escalation_reason": ["", reason]}
            row |= {"escalation_level": level, "escalation_reason": reason}
        elif target == IssueStatus.RESOLVED:
            resolution = rng.choice(texts.RESOLUTIONS).format(area=area.lower())
            changes |= {"resolution": ["", resolution], "resolved_on": [None, s.days[day].isoformat()]}
            row |= {"resolution": resolution, "resolved_on": s.days[day]}
        row |= {"status": target.value, "updated_at": at, "version": row["version"] + 1}
        store.trail.add(at, actor, s.id, "issue", r.id, r.code, "update", changes)
    for _ in range(rng.choices((0, 1, 2, 3), (70, 18, 8, 4))[0]):  # the decision log
        day = rng.randint(r.created, r.end)
        at = s.at(day, 16, rng.randint(0, 59))
        decision = rng.choice(texts.DECISIONS).format(area=area.lower())
        decided_by = rng.choice(texts.DECIDERS)
        store["issue_decision"].add(
            at,
            issue_id=r.id,
            decided_on=s.days[day],
            decision=decision,
            decided_by=decided_by,
            rationale="Least disruption to the schedule.",
            recorded_by_id=actor,
            recorded_at=at,
        )
        store.trail.add(
            at,
            actor,
            s.id,
            "issue",
            r.id,
            r.code,
            "decision",
            {"decision": [None, decision], "decided_by": [None, decided_by]},
        )


# --- action items -------------------------------------------------------------------------------------------------


def write_actions(
    store: Store, rng: random.Random, risk_records: list[Record], issue_records: list[Record], count: int
) -> None:
    """`count` action items, shared by risks and issues at their rates, weighted towards the plans and issues being
    worked."""
    risks_want, issues_want = ACTIONS_PER_RISK * len(risk_records), ACTIONS_PER_ISSUE * len(issue_records)
    on_risks = round(count * risks_want / (risks_want + issues_want))
    for parent in rng.choices(risk_records, [RISK_ACTIONS[RiskStatus(r.status)] for r in risk_records], k=on_risks):
        _action(store, rng, parent, on_risk=True)
    weights = [ISSUE_ACTIONS[IssueStatus(r.status)] for r in issue_records]
    for parent in rng.choices(issue_records, weights, k=count - on_risks):
        _action(store, rng, parent, on_risk=False)


def _added(item_id: int, description: str, plan: str, owner: int, due: date) -> dict:
    return {
        f"action {item_id}": [None, description],
        "plan": [None, plan],
        "owner_id": [None, owner],
        "due_date": [None, due.isoformat()],
    }


def _done(description: str, item_id: int) -> dict:
    return {"action": [None, f"{item_id}: {description}"[:200]], "done": [False, True]}


def _action(store: Store, rng: random.Random, parent: Record, on_risk: bool) -> None:
    s = parent.site
    day = rng.randint(parent.created, parent.end)
    at = s.at(day, 11, rng.randint(0, 59))
    area = rng.choice(texts.AREAS)
    description = _fmt(rng, rng.choice(texts.ACTIONS), area)
    plan = (Plan.MITIGATION if rng.random() < 0.75 else Plan.CONTINGENCY) if on_risk else Plan.ISSUE
    owner, actor = rng.choice(s.owners), rng.choice(s.reviewers)
    due = s.days[day] + timedelta(days=rng.randint(5, 60))
    done: int | None = max(day, s.index(due) + round(rng.gauss(-3, 6)))  # done around the due date, some late
    if parent.finished:
        done = min(done, parent.end)
    elif rng.random() < FORGOTTEN or done > s.last:
        done = None
    done_at = s.at(done, 17, rng.randint(0, 50)) if done is not None else None
    item = store["action_item"].add(
        at,
        project_id=s.id,
        risk_id=parent.id if on_risk else None,
        issue_id=None if on_risk else parent.id,
        meeting_id=None,  # the bench data has no meetings
        plan=plan.value,
        description=description,
        owner_id=owner,
        due_date=due,
        done_at=done_at,
        created_at=at,
        version=2 if done_at else 1,
    )
    etype = "risk" if on_risk else "issue"
    store.trail.add(
        at,
        actor,
        s.id,
        etype,
        parent.id,
        parent.code,
        "add_action",
        ActionChanges(item, partial(_added, description=description, plan=plan.value, owner=owner, due=due)),
    )
    if done_at:
        store.trail.add(
            done_at,
            owner if owner in s.reviewers else actor,
            s.id,
            etype,
            parent.id,
            parent.code,
            "update_action",
            ActionChanges(item, partial(_done, description)),
        )
