"""The demo's risk and issue registers: each project's risks replayed through the register services over the last
sixteen weeks at each step's own time, so score history, review dates, the audit trail, ages and escalation
flags come out as the app would have written them.

Days in the specs are calendar days before today (weekends move back to the Friday, so a step up to four days ago
always falls inside the heat map's last week); due dates are days from today (negative: already past). A risk's
path is its assessments: raised at the first, reassessed at a review at each of the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from tracker.accounts.models import User
from tracker.accounts.service import principal
from tracker.core.clock import frozen_time, utcnow
from tracker.core.forms import parse
from tracker.deliverables.models import Deliverable
from tracker.projects import service as projects
from tracker.projects.calendar import project_today
from tracker.projects.models import Membership, Project, Role
from tracker.register.actions import service as actions
from tracker.register.actions.models import ActionItem
from tracker.register.issues import service as issues
from tracker.register.risks import service as risks
from tracker.register.risks.models import ACTIVE_RISK


@dataclass(frozen=True)
class Act:
    """An action item."""

    description: str
    owner: str
    due: int  # days from today; negative: already past
    plan: str = "mitigation"  # under a risk: mitigation or contingency
    done: int | None = None  # done this many days ago
    added: int | None = None  # days ago; None: when its risk or issue was recorded


@dataclass(frozen=True)
class Step:
    """An assessment: when, probability, impact, and the status it moved to (if any)."""

    ago: int
    p: int
    i: int
    status: str | None = None


@dataclass(frozen=True)
class Change:
    """An issue moving on: its status, and what escalating or resolving it needs."""

    ago: int
    status: str
    level: str = ""
    reason: str = ""
    resolution: str = ""


@dataclass(frozen=True)
class Entry:
    """A decision log entry."""

    ago: int
    by: str
    decision: str
    rationale: str = ""


@dataclass(frozen=True)
class IssueSpec:
    title: str
    priority: str
    owner: str
    raised: int  # days ago; a realized risk's issue is opened from it that day
    description: str = ""
    impact: str = ""
    need_by: int | None = None
    changes: tuple[Change, ...] = ()
    decisions: tuple[Entry, ...] = ()
    actions: tuple[Act, ...] = ()
    deliverables: tuple[str, ...] = ()


@dataclass(frozen=True)
class RiskSpec:
    code: str
    title: str
    statement: str
    category: str
    owner: str
    path: tuple[Step, ...]
    proximity: str = "mid"
    response: str = "mitigate"
    trigger: str = ""
    mitigation: str = ""
    contingency: str = ""
    residual: tuple[int, int] | None = None
    actions: tuple[Act, ...] = ()
    deliverables: tuple[str, ...] = ()
    realized: IssueSpec | None = None


S, A, C, E = Step, Act, Change, Entry

# --- Child Welfare Services Modernization ------------------------------------------------------------------
# No active CWS risk sits at probability 2 × impact 3 or 5 × 3: the browser journey moves its own risk there.

CWS = [
    RiskSpec(
        "R-001",
        "County legacy data too dirty to convert",
        "If the extracts from the counties' CWS/CMS records carry more duplicate people and orphaned case links than "
        "the 2% the Data Conversion Plan assumes, then mock conversions fail reconciliation and Release 2.2 slips.",
        "technical",
        "dkim",
        (S(108, 3, 4), S(80, 4, 4, "mitigating"), S(52, 4, 5), S(24, 3, 5), S(4, 3, 4)),
        proximity="near",
        residual=(2, 3),
        trigger="A mock conversion leaves more than 2% of person records unmatched.",
        mitigation="Profile every county extract before each mock; Northbridge runs the de-duplication rules agreed "
        "with the county data stewards; fix-at-source lists go to the counties each month.",
        contingency="Convert in two waves, the large counties first, and carry the rest to the next mock.",
        actions=(
            A("Profile the pilot counties' extracts", "dkim", -70, done=72),
            A("Agree the de-duplication rules with the county data stewards", "pokafor", -30, done=35),
            A("Send the fix-at-source lists to the twelve largest counties", "dkim", -3),
            A("Plan the two-wave conversion fallback", "mrivera", 20, plan="contingency"),
        ),
        deliverables=("D-03", "D-12"),
    ),
    RiskSpec(
        "R-002",
        "Northbridge's lead architect leaves",
        "If Northbridge's lead solution architect leaves as rumoured, then Release 2.2 design decisions stall and the "
        "approved patterns of the System Design Document lose their owner.",
        "contractor_performance",
        "mrivera",
        (S(100, 2, 4), S(65, 3, 4), S(37, 4, 4)),
        mitigation="Invoke the key personnel clause: a named deputy architect, and decisions recorded as they are made.",
        actions=(
            A("Ask Northbridge for a named deputy architect under the key personnel clause", "mrivera", -5),
            A("Record the architecture decisions in the decision log every week", "dkim", 10),
        ),
        deliverables=("D-06",),
    ),
    RiskSpec(
        "R-003",
        "Federal review finds the design short of CCWIS",
        "If the Administration for Children and Families finds the design short of the CCWIS rule (45 CFR 1355.52), "
        "then federal matching at the CCWIS rate is at risk and rework lands in Release 2.2.",
        "scope",
        "pokafor",
        (S(96, 2, 5), S(68, 2, 4), S(40, 1, 4, "monitoring")),
        proximity="far",
        mitigation="Walk ACF's analyst through the data exchange and data quality designs before each release.",
        actions=(A("Walk ACF's analyst through the data exchange design", "pokafor", -50, done=52),),
    ),
    RiskSpec(
        "R-004",
        "County caseworkers resist the new workflow",
        "If county caseworkers find the new workflow slower than CWS/CMS, then adoption lags, workarounds grow and "
        "the counties ask for changes the contract does not cover.",
        "resources",
        "pokafor",
        (S(92, 3, 3), S(64, 3, 4, "mitigating"), S(22, 4, 3)),
        mitigation="Usability sessions with caseworkers each sprint; change champions in every wave 1 county.",
        actions=(
            A("Run usability sessions with caseworkers from five counties", "pokafor", -45, done=40),
            A("Publish the “what changes for you” guide for caseworkers", "pokafor", -2),
            A("Name a change champion in every wave 1 county", "dkim", 14),
        ),
        deliverables=("D-10", "D-11"),
    ),
    RiskSpec(
        "R-005",
        "MEDS eligibility interface late for UAT",
        "If the Medi-Cal Eligibility Data System team cannot open its test region before UAT, then the eligibility "
        "checks of Release 2.1 are tested against stubs only.",
        "technical",
        "dkim",
        (S(88, 4, 3), S(60, 3, 3), S(31, 2, 4, "monitoring")),
        actions=(A("Book the MEDS test region for the UAT window", "dkim", -20, done=25),),
        deliverables=("D-05",),
    ),
    RiskSpec(
        "R-006",
        "Hotline intake slows down at peak call volume",
        "If the intake screens cannot carry the Monday-morning hotline peak (about 400 screeners at once), then "
        "screeners fall back to paper and emergency response referrals are recorded late.",
        "technical",
        "dkim",
        (S(84, 3, 4), S(42, 4, 4, "mitigating"), S(21, 4, 5)),
        proximity="near",
        trigger="Response times over 3 seconds in the performance test at 300 users.",
        mitigation="Peak-hour performance test before each release; Northbridge tunes the intake queries.",
        contingency="Paper intake forms and a night-shift data entry team until a fix is deployed.",
        actions=(
            A("Run the peak-hour performance test", "dkim", -30, done=28),
            A("Agree the paper fallback with the hotline managers", "pokafor", -16, plan="contingency", done=15),
        ),
        deliverables=("D-08",),
        realized=IssueSpec(
            "Intake screens time out during hotline peaks",
            "critical",
            "dkim",
            14,
            need_by=-4,
            impact="Screeners wait up to 40 seconds per screen on Monday mornings; about 60 referrals a week are taken "
            "on paper and keyed in overnight.",
            changes=(
                C(
                    13,
                    "escalated",
                    "executive",
                    "Emergency response referrals are at risk; Northbridge's executive "
                    "sponsor must commit to a fix date.",
                ),
            ),
            decisions=(
                E(
                    12,
                    "Maria Rivera with Northbridge's delivery manager",
                    "Northbridge deploys a hotfix with "
                    "connection pooling; the State regression-tests it before it goes live",
                    "The fastest fix with the least change to the accepted release",
                ),
                E(
                    6,
                    "Executive Steering Committee",
                    "Keep paper intake for the hotline until the hotfix passes the peak-load test",
                    "Child safety first; the night shift keeps the backlog small",
                ),
            ),
            actions=(
                A("Regression-test the hotfix at 400 concurrent screeners", "dkim", -2),
                A("Clear the paper intake backlog", "pokafor", 5),
            ),
        ),
    ),
    RiskSpec(
        "R-007",
        "Federal approval of the cost allocation is late",
        "If ACF approves the Advance Planning Document Update after the state fiscal year ends, then the project runs "
        "on state-only money for the months in between.",
        "cost",
        "dwhitfield",
        (S(80, 2, 5),),
        response="escalate",
        actions=(A("Answer ACF's questions on the cost allocation plan", "mrivera", 7),),
    ),
    RiskSpec(
        "R-008",
        "Real case notes in the test environment",
        "If production case notes are copied into the shared test environment, then confidential child abuse "
        "information is open to people with no need to know.",
        "security",
        "pokafor",
        (S(76, 3, 5), S(48, 2, 5, "mitigating"), S(14, 1, 5, "closed")),
        proximity="near",
        mitigation="Mask names, addresses and narratives in every test extract; quarterly access reviews.",
        actions=(
            A("Mask names, addresses and narratives in every test extract", "dkim", -50, done=49),
            A("Audit who had access to the test environment", "pokafor", -20, done=20),
        ),
        deliverables=("D-04", "D-15"),
    ),
    RiskSpec(
        "R-009",
        "Mainframe switch-off slips past the hosting contract",
        "If the legacy mainframe is not switched off by June, then the State pays another year of the hosting "
        "contract (about $1.4 million).",
        "schedule",
        "mrivera",
        (S(72, 3, 3), S(44, 3, 3)),
        proximity="far",
        actions=(A("Confirm the hosting contract's notice period with procurement", "mrivera", 12),),
        deliverables=("D-17",),
    ),
    RiskSpec(
        "R-010",
        "County trainers away during the summer rollout",
        "If the county trainers take leave in the July–August rollout window, then end-user training for the wave 2 "
        "counties moves to September.",
        "resources",
        "pokafor",
        (S(66, 2, 2, "monitoring"),),
        actions=(A("Get training dates confirmed by each wave 2 county", "pokafor", 30),),
        deliverables=("D-10", "D-14"),
    ),
    RiskSpec(
        "R-011",
        "Judicial Council revises the court report forms",
        "If the Judicial Council revises the juvenile dependency report forms mid-build, then the generated court "
        "reports need rework.",
        "scope",
        "dkim",
        (S(58, 2, 2), S(20, 1, 2, "monitoring")),
        response="accept",
        proximity="far",
    ),
    RiskSpec(
        "R-012",
        "ICWA notice requirements only partly captured",
        "If the Indian Child Welfare Act notice requirements are only partly in the requirements, then tribes are not "
        "notified on time and court findings can be overturned.",
        "scope",
        "pokafor",
        (S(56, 3, 4), S(28, 3, 4, "mitigating")),
        actions=(
            A("Review the ICWA requirements with the Tribal Consultation Unit", "pokafor", -10, done=12),
            A("Add the tribal notice test cases to the Master Test Plan", "dkim", 4),
        ),
        deliverables=("D-02", "D-07"),
    ),
    RiskSpec(
        "R-013",
        "Disaster recovery site not ready for go-live",
        "If the secondary data centre's network is not ready by the Release 2.2 go-live, then the system runs for "
        "months without a tested failover.",
        "business_continuity",
        "mrivera",
        (S(50, 2, 4), S(19, 3, 4)),
        actions=(A("Get the network circuit order date from the Department of Technology", "mrivera", -8),),
        deliverables=("D-09",),
    ),
    RiskSpec(
        "R-014",
        "Defect backlog grows faster than Northbridge fixes it",
        "If open severity 2 defects keep growing by more than 20 a week, then Release 2.2 enters UAT with a backlog "
        "the contract's exit criteria do not allow.",
        "contractor_performance",
        "dkim",
        (S(46, 3, 4), S(32, 4, 4, "mitigating"), S(4, 5, 4)),
        proximity="near",
        actions=(
            A("Hold a weekly defect triage with Northbridge's test lead", "dkim", -25, done=30),
            A("Ask for a defect burn-down plan in the weekly status report", "mrivera", 3),
        ),
        deliverables=("D-13", "D-16"),
    ),
    RiskSpec(
        "R-015",
        "Rural county offices lack bandwidth",
        "If rural county offices stay on 10 Mbps links, then document uploads and case searches are too slow for daily "
        "use.",
        "technical",
        "pokafor",
        (S(42, 3, 2), S(16, 2, 2, "monitoring")),
    ),
    RiskSpec(
        "R-016",
        "County identity providers cannot federate",
        "If some county identity providers cannot federate over SAML, then their caseworkers need a second password.",
        "security",
        "dkim",
        (S(38, 2, 3), S(10, 1, 3, "closed")),
    ),
    RiskSpec(
        "R-017",
        "County change requests inflate the scope",
        "If the counties keep raising change requests at last quarter's rate (14), then the change budget runs out "
        "before Release 2.3.",
        "scope",
        "mrivera",
        (S(30, 4, 3), S(9, 4, 3)),
        response="avoid",
        actions=(A("Publish the change request triage criteria", "mrivera", 6),),
    ),
    RiskSpec(
        "R-018",
        "Court-monitored reports not in Release 2.2",
        "If the reports the settlement's court monitor requires are not in Release 2.2, then the department misses its "
        "semi-annual filing.",
        "schedule",
        "mrivera",
        (S(20, 4, 5),),
        proximity="near",
        actions=(A("Confirm the report specifications with the court monitor", "pokafor", 9),),
    ),
    RiskSpec(
        "R-019",
        "Shared test environment keeps failing overnight",
        "If the shared test environment keeps failing overnight, then test cycles lose days and UAT entry slips.",
        "technical",
        "dkim",
        (S(70, 3, 3), S(35, 4, 3)),
        realized=IssueSpec(
            "UAT environment down three days a week",
            "high",
            "dkim",
            33,
            need_by=-20,
            changes=(
                C(30, "in_progress"),
                C(
                    18,
                    "resolved",
                    resolution="Northbridge moved the environment to dedicated hosts and added "
                    "overnight monitoring; no outage since.",
                ),
            ),
            decisions=(
                E(
                    27,
                    "Maria Rivera",
                    "Northbridge pays for dedicated test hosts; the State extends the UAT window by five days",
                    "The outages come from Northbridge's shared hosting",
                ),
            ),
            actions=(A("Watch overnight uptime for two weeks", "dkim", -19, done=19),),
        ),
    ),
]

CWS_ISSUES = [
    IssueSpec(
        "Pilot counties not confirmed for wave 1",
        "high",
        "mrivera",
        26,
        need_by=-5,
        description="Only two of the five wave 1 pilot counties have signed the participation letter; "
        "Northbridge needs the list to schedule the data extracts.",
        changes=(C(24, "in_progress"),),
        actions=(A("Call the directors of the three candidate counties", "mrivera", -6),),
    ),
    IssueSpec(
        "Northbridge staffing below the contract minimum",
        "high",
        "mrivera",
        60,
        need_by=-30,
        description="Northbridge has had 38 of the 48 contracted staff on the project for six weeks.",
        impact="Sprint velocity down a third; Release 2.2 design behind by four weeks.",
        changes=(
            C(50, "in_progress"),
            C(
                40,
                "escalated",
                "executive",
                "Two written notices had no effect; the key personnel minimum has been missed for six weeks.",
            ),
            C(
                10,
                "resolved",
                resolution="Northbridge reached 46 of 48 contracted staff; the last two roles "
                "are onboarding. The deficiency notice is closed.",
            ),
            C(
                3,
                "closed",
                resolution="Northbridge reached 46 of 48 contracted staff; the last two roles "
                "are onboarding. The deficiency notice is closed.",
            ),
        ),
        decisions=(
            E(
                38,
                "Executive Steering Committee",
                "Issue a formal notice of deficiency under section 12 of the contract",
                "Two informal notices had no effect",
            ),
            E(
                21,
                "Dana Whitfield",
                "Accept Northbridge's recovery plan: four developers onboarded by the end of the month",
                "The plan is credible and names the people",
            ),
        ),
    ),
    IssueSpec(
        "County IT has not refreshed the test data",
        "low",
        "dkim",
        8,
        need_by=10,
        description="The county test data refresh requested for the next mock is still in the county IT queue.",
    ),
    IssueSpec(
        "Case access for multidisciplinary teams unclear",
        "medium",
        "pokafor",
        45,
        need_by=-10,
        description="Requirement INT-088 does not say what members of a multidisciplinary team may see.",
        changes=(
            C(40, "in_progress"),
            C(
                15,
                "resolved",
                resolution="Legal confirmed that team members see the referral only, read-only; INT-088 is updated.",
            ),
        ),
        decisions=(
            E(
                16,
                "Department legal office",
                "Multidisciplinary team members see the referral, not the case record",
                "Welfare and Institutions Code 18961.7 limits disclosure",
            ),
        ),
        deliverables=("D-02",),
    ),
    IssueSpec(
        "No interface specification for the courts' case system",
        "medium",
        "dkim",
        35,
        need_by=5,
        description="The Judicial Council has not named a contact for the dependency court interface.",
        actions=(A("Get a technical contact for the court case system", "dkim", -12),),
        deliverables=("D-05",),
    ),
]

# --- Unemployment Insurance Modernization -------------------------------------------------------------------

UIM = [
    RiskSpec(
        "R-001",
        "Identity proofing cannot scale to a claims surge",
        "If claims surge as they did in 2020, then the identity proofing service's contracted capacity (20,000 "
        "verifications a day) is exceeded and legitimate claimants wait weeks.",
        "technical",
        "rpatel",
        (S(110, 3, 5), S(82, 4, 5, "mitigating"), S(54, 4, 5), S(26, 3, 5), S(4, 3, 4)),
        residual=(2, 3),
        trigger="More than 15,000 verifications in a day.",
        mitigation="A surge clause in the identity proofing contract, and a load test at twice the contracted volume.",
        contingency="In-person verification at the job centres, with extended hours.",
        actions=(
            A("Negotiate a surge capacity clause with the identity proofing vendor", "jchen", -40, done=45),
            A("Load-test identity proofing at 40,000 verifications a day", "rpatel", -4),
            A("Prepare in-person verification at the job centres", "dkim", 21, plan="contingency"),
        ),
        deliverables=("D-04", "D-11"),
    ),
    RiskSpec(
        "R-002",
        "Fraud rules stop legitimate claimants",
        "If the fraud detection rules are tuned too tight, then legitimate claimants are held for manual review and "
        "first payments miss the 21-day federal timeliness measure.",
        "technical",
        "rpatel",
        (S(100, 3, 4), S(72, 3, 4), S(30, 4, 4), S(3, 4, 5)),
        actions=(A("Replay last year's claims through the draft rules and count the false positives", "rpatel", 6),),
        deliverables=("D-12",),
    ),
    RiskSpec(
        "R-003",
        "First-payment timeliness drops during cutover",
        "If the cutover weekend runs long, then claims filed that week miss the first-payment timeliness measure and "
        "the state lands on the Department of Labor's at-risk list.",
        "schedule",
        "jchen",
        (S(95, 2, 5), S(60, 3, 5, "mitigating"), S(25, 2, 5)),
        proximity="near",
    ),
    RiskSpec(
        "R-004",
        "Employer account history lost in conversion",
        "If employer contribution histories before 2012 cannot be mapped, then 2027 experience ratings are calculated "
        "on partial data.",
        "technical",
        "dkim",
        (S(90, 3, 4), S(55, 3, 4, "mitigating"), S(12, 2, 4)),
        actions=(
            A("Map the pre-2012 contribution codes with the Tax Branch", "dkim", -15, done=18),
            A("Reconcile the mock 2 totals with the general ledger", "dkim", -1),
        ),
        deliverables=("D-06", "D-13"),
    ),
    RiskSpec(
        "R-005",
        "Claimant portal fails the accessibility review",
        "If the claimant portal does not meet WCAG 2.1 AA, then claimants with disabilities cannot file online and the "
        "department faces civil rights complaints.",
        "scope",
        "rpatel",
        (S(85, 3, 3), S(40, 2, 3, "monitoring")),
        deliverables=("D-15",),
    ),
    RiskSpec(
        "R-006",
        "Change requests use up the contingency",
        "If Apex's change requests keep arriving as new scope, then the State's $2.1 million contingency is spent "
        "before the employer tax module starts.",
        "cost",
        "jchen",
        (S(80, 2, 4), S(45, 3, 4), S(10, 3, 4)),
    ),
    RiskSpec(
        "R-007",
        "Legacy COBOL experts retire before cutover",
        "If the two remaining COBOL programmers retire in the spring as planned, then nobody can explain the legacy "
        "payment calculations during parallel testing.",
        "resources",
        "jchen",
        (S(75, 3, 3), S(35, 4, 3, "mitigating")),
        actions=(
            A("Record walkthroughs of the payment calculation programs", "jchen", -9),
            A("Offer a retired-annuitant contract to one of the programmers", "jchen", 15),
        ),
    ),
    RiskSpec(
        "R-008",
        "Federal modernization grant expires",
        "If the federal UI modernization grant's spending deadline passes before Release 2.2, then about $6 million of "
        "the build falls to the state general fund.",
        "cost",
        "hlee",
        (S(70, 2, 5),),
        response="escalate",
        proximity="far",
    ),
    RiskSpec(
        "R-009",
        "Call centre agents not trained before go-live",
        "If the call centre agents are not trained before go-live, then calls take longer and hold times pass an hour.",
        "resources",
        "dkim",
        (S(62, 3, 3), S(20, 2, 3, "monitoring")),
        deliverables=("D-10",),
    ),
    RiskSpec(
        "R-010",
        "Benefit calculation errors in partial claims",
        "If partial unemployment and dependency allowance rules are built from the outdated policy manual, then weekly "
        "benefit amounts are wrong for about 3% of claimants.",
        "technical",
        "rpatel",
        (S(58, 3, 4), S(30, 4, 4)),
        deliverables=("D-09",),
        realized=IssueSpec(
            "Weekly benefit amount wrong for partial claims",
            "high",
            "rpatel",
            20,
            need_by=-2,
            impact="About 1,100 partial claimants were paid too little in two weeks of parallel testing.",
            changes=(C(18, "in_progress"),),
            decisions=(
                E(
                    17,
                    "Benefits Policy Unit",
                    "Apply the 2025 policy manual; Apex corrects the calculation under warranty",
                    "The error comes from Apex using an outdated manual",
                ),
            ),
            actions=(A("Write test cases for the 40 partial-claim scenarios", "rpatel", 3),),
        ),
    ),
    RiskSpec(
        "R-011",
        "The bank changes the employer payment file",
        "If the state's bank changes the employer payment file layout, then employer tax payments cannot be posted "
        "automatically.",
        "technical",
        "dkim",
        (S(50, 2, 3),),
        realized=IssueSpec(
            "Employer tax payment file rejected by the bank",
            "critical",
            "dkim",
            9,
            need_by=-1,
            impact="Employer payments of about $40 million a week cannot be posted.",
            changes=(
                C(
                    8,
                    "escalated",
                    "sponsor",
                    "Payments cannot be posted; needs the Treasurer's office to press the "
                    "bank for the old layout or a conversion window.",
                ),
            ),
            decisions=(
                E(
                    7,
                    "Helen Lee",
                    "Post payments by hand from the bank's statements until the file is fixed",
                    "Late posting would trigger employer penalties the department would have to waive",
                ),
            ),
        ),
    ),
    RiskSpec(
        "R-012",
        "Security scan findings open at go-live",
        "If the high findings of the penetration test are still open at go-live, then the system goes live without an "
        "authority to operate.",
        "security",
        "rpatel",
        (S(48, 4, 4), S(21, 3, 4, "mitigating"), S(7, 2, 4)),
        actions=(
            A("Retest the twelve high findings of the penetration test", "rpatel", 8),
            A("Sign the plan of action and milestones", "jchen", -20, done=22),
        ),
        deliverables=("D-07",),
    ),
    RiskSpec(
        "R-013",
        "Claimants abandon the portal for the phone",
        "If claimants find the new portal harder than the old one, then call volumes rise instead of falling.",
        "business_continuity",
        "jchen",
        (S(44, 2, 3), S(16, 2, 3)),
    ),
    RiskSpec(
        "R-014",
        "Data centre move on the cutover weekend",
        "If the data centre move is scheduled on the cutover weekend, then neither can be rolled back safely.",
        "schedule",
        "jchen",
        (S(40, 3, 5), S(13, 1, 5, "closed")),
    ),
    RiskSpec(
        "R-015",
        "Interstate wage record exchange needs a retest",
        "If the interstate wage record exchange changes its message format, then combined-wage claims need a retest.",
        "technical",
        "dkim",
        (S(36, 2, 2, "monitoring"),),
        response="accept",
    ),
    RiskSpec(
        "R-016",
        "Employer tax module design not ready for the next phase",
        "If the employer tax module design is not accepted by spring, then the module misses the January rate year.",
        "schedule",
        "jchen",
        (S(28, 4, 5), S(8, 5, 5)),
        proximity="near",
        deliverables=("D-16",),
    ),
    RiskSpec(
        "R-017",
        "Apex's only fraud analytics specialist leaves",
        "If Apex's fraud analytics specialist leaves, then nobody can tune the fraud rules after go-live.",
        "contractor_performance",
        "rpatel",
        (S(24, 2, 2), S(3, 1, 2, "monitoring")),
    ),
    RiskSpec(
        "R-018",
        "Claimant notices read above grade eight",
        "If the new claimant notices read above grade eight, then claimants call to ask what they mean.",
        "other",
        "dkim",
        (S(18, 3, 2),),
        response="accept",
    ),
]

UIM_ISSUES = [
    IssueSpec(
        "Claimant portal outage during the Monday filing peak",
        "high",
        "rpatel",
        40,
        need_by=-35,
        impact="Claimants could not file for two hours; 4,000 calls to the call centre.",
        changes=(
            C(39, "in_progress"),
            C(
                33,
                "resolved",
                resolution="Apex raised the load balancer's connection limit and added an "
                "alert; no repeat in four Mondays.",
            ),
            C(
                20,
                "closed",
                resolution="Apex raised the load balancer's connection limit and added an "
                "alert; no repeat in four Mondays.",
            ),
        ),
        decisions=(
            E(
                36,
                "James Chen",
                "Apex posts an outage notice on the portal within 15 minutes of any outage",
                "Claimants must know to try again rather than call",
            ),
        ),
        deliverables=("D-04",),
    ),
    IssueSpec(
        "3,200 claims waiting for identity verification",
        "critical",
        "jchen",
        15,
        need_by=-8,
        impact="About 900 claimants will miss the 21-day first payment measure.",
        changes=(C(14, "escalated", "executive", "The backlog breaches the federal timeliness measure."),),
        decisions=(
            E(
                13,
                "Executive Steering Committee",
                "Authorise overtime for 20 adjudicators for four weeks",
                "Cheaper than federal corrective action and better for claimants",
            ),
        ),
        actions=(A("Report the backlog to the steering committee every day", "jchen", -1),),
    ),
    IssueSpec(
        "Test environment has no federal cross-match",
        "medium",
        "dkim",
        5,
        need_by=14,
        description="The SAVE and NDNH cross-match stubs are missing from the system test environment.",
    ),
    IssueSpec(
        "UAT sign-off waits on the Tax Branch",
        "medium",
        "jchen",
        34,
        need_by=-3,
        description="The Tax Branch's testers are busy with quarter-end and have not run their scripts.",
        changes=(C(33, "in_progress"),),
        deliverables=("D-14",),
    ),
    IssueSpec(
        "Spanish claimant notices missing",
        "low",
        "dkim",
        50,
        need_by=-20,
        changes=(
            C(45, "in_progress"),
            C(
                25,
                "resolved",
                resolution="Apex delivered the translated notice templates; the certified translator's review passed.",
            ),
        ),
        deliverables=("D-04",),
    ),
]

# --- Vehicle Registration Platform Replacement ------------------------------------------------------------------

DMV = [
    RiskSpec(
        "R-001",
        "County tax offices cannot call the new interface",
        "If the county tax assessor-collector offices' point-of-sale systems cannot call the new registration API, "
        "then counties keep keying renewals into the mainframe screens.",
        "technical",
        "snguyen",
        (S(105, 3, 4), S(77, 4, 4, "mitigating"), S(49, 4, 4), S(21, 3, 4)),
        residual=(2, 3),
        contingency="Offer counties the hosted point-of-sale screens.",
        actions=(
            A("Survey the county point-of-sale vendors on API readiness", "snguyen", -60, done=63),
            A("Pilot the API with two large counties", "snguyen", -5),
            A("Offer counties the hosted point-of-sale screens", "pokafor", 30, plan="contingency"),
        ),
        deliverables=("D-05",),
    ),
    RiskSpec(
        "R-002",
        "Fee collection fails the PCI DSS assessment",
        "If card payments for registration fees touch systems outside the cardholder data environment, then the PCI "
        "DSS assessment fails and counties cannot take cards.",
        "security",
        "pokafor",
        (S(100, 3, 5), S(70, 3, 5, "mitigating"), S(42, 2, 5), S(14, 2, 4)),
        actions=(
            A("Engage the qualified security assessor", "pokafor", -40, done=41),
            A("Tokenise card numbers before they reach the application tier", "snguyen", 12),
        ),
        deliverables=("D-10",),
    ),
    RiskSpec(
        "R-003",
        "Title records with bad VINs cannot convert",
        "If the 1.2 million title records whose VINs fail the check digit cannot be corrected automatically, then they "
        "stay on the mainframe and titling staff work in two systems.",
        "technical",
        "snguyen",
        (S(95, 3, 4), S(40, 4, 4), S(4, 4, 5)),
        proximity="near",
        deliverables=("D-03", "D-14"),
    ),
    RiskSpec(
        "R-004",
        "Keystone new to the State's procurement rules",
        "If Keystone's team does not follow the State's subcontracting approvals, then subcontractors start late.",
        "contractor_performance",
        "pokafor",
        (S(90, 3, 3), S(50, 2, 3), S(20, 2, 2, "monitoring")),
    ),
    RiskSpec(
        "R-005",
        "Legislature changes the registration fees",
        "If the legislature changes registration fees this session, then fee tables, notices and county "
        "reconciliations change mid-build.",
        "scope",
        "pokafor",
        (S(85, 2, 4), S(30, 4, 4)),
        mitigation="Keep every fee in configurable tables; track the bill through the session.",
    ),
    RiskSpec(
        "R-006",
        "Archived mainframe records out of reach of law enforcement",
        "If archived registration history cannot be searched once the mainframe is retired, then law enforcement "
        "lookups of older vehicles fail.",
        "business_continuity",
        "snguyen",
        (S(80, 2, 5), S(44, 2, 5)),
        deliverables=("D-15",),
    ),
    RiskSpec(
        "R-007",
        "UAT testers pulled back to the field offices",
        "If field offices recall their staff for the renewal peak, then UAT runs without business testers.",
        "resources",
        "pokafor",
        (S(75, 3, 3), S(35, 4, 3, "mitigating")),
        deliverables=("D-12",),
        realized=IssueSpec(
            "UAT testers recalled to field offices for the renewal peak",
            "high",
            "pokafor",
            15,
            need_by=3,
            changes=(C(14, "in_progress"),),
            decisions=(
                E(
                    12,
                    "Patricia Okafor",
                    "Keystone provides four regression testers; DMV staff keep the business acceptance scripts only",
                    "Business acceptance has to stay with DMV staff",
                ),
            ),
            actions=(A("Agree the field office release dates with the regional managers", "pokafor", 2),),
        ),
    ),
    RiskSpec(
        "R-008",
        "Cloud authority to operate delayed",
        "If the State security office's review of the cloud hosting package takes longer than planned, then Release "
        "1.0 cannot go live on time.",
        "security",
        "pokafor",
        (S(70, 3, 4), S(25, 2, 4, "monitoring")),
    ),
    RiskSpec(
        "R-009",
        "Online renewal demand above projections",
        "If more owners renew online than projected, then the renewal service needs more capacity than sized.",
        "technical",
        "snguyen",
        (S(65, 2, 3), S(33, 2, 3)),
    ),
    RiskSpec(
        "R-010",
        "Dealer title volumes spike at month end",
        "If dealers submit most title applications in the last three days of the month, then the queue exceeds "
        "the two-day processing target.",
        "technical",
        "snguyen",
        (S(60, 3, 4), S(12, 3, 4, "mitigating"), S(3, 3, 3)),
        deliverables=("D-08",),
    ),
    RiskSpec(
        "R-011",
        "Two thousand county clerks to retrain",
        "If county clerks are not trained before their county switches over, then transactions take twice as long for "
        "weeks.",
        "resources",
        "pokafor",
        (S(55, 3, 3),),
        deliverables=("D-11", "D-13"),
    ),
    RiskSpec(
        "R-012",
        "Payment gateway subcontractor fails",
        "If Keystone's payment gateway subcontractor fails financially, then fee collection needs a new gateway "
        "mid-project.",
        "contractor_performance",
        "pokafor",
        (S(50, 2, 4), S(18, 1, 4, "closed")),
        response="transfer",
    ),
    RiskSpec(
        "R-013",
        "No safe test data for title transfers",
        "If there is no masked title transfer data, then system testing of transfers waits or uses real owners' data.",
        "technical",
        "snguyen",
        (S(45, 3, 3),),
        realized=IssueSpec(
            "No masked title transfer data for system testing",
            "medium",
            "snguyen",
            25,
            need_by=-10,
            changes=(
                C(23, "in_progress"),
                C(
                    11,
                    "resolved",
                    resolution="Keystone generated synthetic title histories from the conversion "
                    "rules; 5,000 transfer cases are loaded.",
                ),
                C(
                    4,
                    "closed",
                    resolution="Keystone generated synthetic title histories from the conversion "
                    "rules; 5,000 transfer cases are loaded.",
                ),
            ),
            decisions=(
                E(
                    20,
                    "Sofia Nguyen",
                    "Use synthetic title histories instead of masked production data",
                    "Masking VIN-linked histories would take longer than generating them",
                ),
            ),
        ),
    ),
    RiskSpec(
        "R-014",
        "Disaster recovery untested before Release 1.0",
        "If the failover is not tested before Release 1.0, then an outage during the renewal season has no proven "
        "recovery.",
        "business_continuity",
        "snguyen",
        (S(40, 2, 4), S(10, 3, 4)),
        deliverables=("D-09",),
    ),
    RiskSpec(
        "R-015",
        "Inspection station software not updated",
        "If inspection stations do not update their software, then inspection results stop reaching registration.",
        "technical",
        "snguyen",
        (S(30, 1, 3, "monitoring"),),
        response="accept",
    ),
    RiskSpec(
        "R-016",
        "Leadership's attention moves to REAL ID",
        "If leadership focuses on the REAL ID enforcement deadline, then registration design decisions wait weeks.",
        "other",
        "hlee",
        (S(25, 4, 5), S(5, 4, 5)),
        response="escalate",
    ),
]

DMV_ISSUES = [
    IssueSpec(
        "County API credentials not issued",
        "high",
        "snguyen",
        12,
        need_by=-2,
        description="The Comptroller's office has not approved the credentials for the pilot counties.",
        actions=(A("Chase the Comptroller's office for the credential approval", "snguyen", -3),),
        deliverables=("D-05",),
    ),
    IssueSpec(
        "Keystone missed the architecture walkthrough",
        "medium",
        "pokafor",
        70,
        need_by=-60,
        changes=(
            C(66, "in_progress"),
            C(55, "resolved", resolution="Walkthrough held; Keystone names an architect for every governance meeting."),
        ),
        decisions=(
            E(
                60,
                "Patricia Okafor",
                "Withhold approval of the architecture until the walkthrough is held",
                "The contract requires a walkthrough before acceptance",
            ),
        ),
        deliverables=("D-06",),
    ),
    IssueSpec(
        "Card numbers found in application logs",
        "critical",
        "snguyen",
        22,
        need_by=-19,
        impact="A PCI DSS violation the acquiring bank must hear about within 72 hours.",
        changes=(
            C(
                21,
                "escalated",
                "executive",
                "A PCI DSS violation must be reported to the acquiring bank within 72 hours.",
            ),
            C(
                16,
                "resolved",
                resolution="Logging filter deployed, logs purged, the assessor confirmed the "
                "fix and the bank was notified.",
            ),
        ),
        decisions=(
            E(
                21,
                "Chief Information Security Officer",
                "Purge the affected logs and notify the acquiring bank",
                "Required by the merchant agreement",
            ),
            E(17, "Helen Lee", "Keystone pays for a focused reassessment", "The defect was Keystone's"),
        ),
        deliverables=("D-10",),
    ),
    IssueSpec("Fee reconciliation differs from the Comptroller's totals", "medium", "pokafor", 6, need_by=20),
    IssueSpec(
        "Hosting security package returned with findings",
        "high",
        "pokafor",
        18,
        need_by=-4,
        changes=(
            C(
                16,
                "escalated",
                "sponsor",
                "Release 1.0 cannot go live without an authority to operate; the "
                "CIO must set priorities with the security office.",
            ),
        ),
        decisions=(
            E(
                15,
                "Helen Lee",
                "The security office reviews the package within ten business days; "
                "Keystone fixes the 14 findings in parallel",
                "Both teams commit to the date",
            ),
        ),
        actions=(A("Fix the 14 findings in the hosting security package", "snguyen", 4),),
    ),
]

SPECS = {"CWS": (CWS, CWS_ISSUES), "UIM": (UIM, UIM_ISSUES), "DMV": (DMV, DMV_ISSUES)}


# --- the replay ----------------------------------------------------------------------------------------------


class _Register:
    """One project's people and calendar as the stories need them, and the events they add up to."""

    def __init__(self, db: Session, project: Project, now: datetime) -> None:
        self.db, self.project = db, project
        self.zone = ZoneInfo(project.timezone)
        self.today = project_today(project, now)
        rows = db.exec(
            select(User, Membership.role)
            .join(Membership, col(Membership.user_id) == User.id)
            .where(Membership.project_id == project.id)
        ).all()
        self.users = {u.username: (u, role) for u, role in rows}
        self.manager = next(u.username for u, role in rows if role == Role.MANAGER)
        self.deliverables = dict(
            db.exec(select(Deliverable.code, Deliverable.id).where(Deliverable.project_id == project.id)).all()
        )
        self.events: list[tuple[datetime, int, Any]] = []
        self._access: dict[str, tuple] = {}

    def who(self, username: str) -> tuple:
        """(principal, access) of whoever records it: the owner when they edit the register, else the manager."""
        if self.users[username][1] not in (Role.MANAGER, Role.STAFF):
            username = self.manager
        if username not in self._access:
            actor = principal(self.users[username][0])
            self._access[username] = (actor, projects.get_for(self.db, actor, self.project.key))
        return self._access[username]

    def uid(self, username: str) -> str:
        return str(self.users[username][0].id)

    def at(self, ago: int, hour: int, minute: int = 0) -> datetime:
        assert ago >= 1, "the demo replays the past only"
        day = self.today - timedelta(days=ago)
        while day.weekday() >= 5:
            day -= timedelta(days=1)
        return datetime.combine(day, time(hour, minute), self.zone)

    def due(self, offset: int) -> str:
        return (self.today + timedelta(days=offset)).isoformat()

    def on(self, ago: int, hour: int, step: Any, *args: Any) -> None:
        self.events.append((self.at(ago, hour, len(self.events) % 60), len(self.events), partial(step, *args)))

    def links(self, codes: tuple[str, ...]) -> list[str]:
        return [str(self.deliverables[c]) for c in codes]


def _risk(r: _Register, spec: RiskSpec) -> None:
    held: dict[str, Any] = {}
    first = spec.path[0]
    values = {
        "code": spec.code,
        "title": spec.title,
        "statement": spec.statement,
        "category": spec.category,
        "probability": first.p,
        "impact": first.i,
        "proximity": spec.proximity,
        "trigger": spec.trigger,
        "owner_id": r.uid(spec.owner),
        "response": spec.response,
        "mitigation_plan": spec.mitigation,
        "contingency_plan": spec.contingency,
        "status": first.status or "open",
        "deliverable_ids": r.links(spec.deliverables),
    }
    if spec.residual:
        values |= {"residual_probability": spec.residual[0], "residual_impact": spec.residual[1]}

    def create() -> None:
        held["record"] = risks.create(r.db, *r.who(spec.owner), parse(risks.RiskForm, values))

    def reassess(step: Step) -> None:
        risk = held["record"]
        changes = {"probability": step.p, "impact": step.i} | ({"status": step.status} if step.status else {})
        risks.update(r.db, *r.who(spec.owner), risk, parse(risks.RiskForm, risks.form_values(r.db, risk) | changes))
        if risk.status in ACTIVE_RISK:
            risks.mark_reviewed(r.db, *r.who(spec.owner), risk)

    def convert() -> None:
        issue = issues.convert(r.db, *r.who(spec.owner), held["record"])
        details = {
            "title": spec.realized.title,
            "priority": spec.realized.priority,
            "owner_id": r.uid(spec.realized.owner),
            "need_by": r.due(spec.realized.need_by),
        }
        if spec.realized.impact:
            details["impact"] = spec.realized.impact
        held["issue"] = issues.update(
            r.db, *r.who(spec.realized.owner), issue, parse(issues.IssueForm, issues.form_values(r.db, issue) | details)
        )

    r.on(first.ago, 9, create)
    for step in spec.path[1:]:
        r.on(step.ago, 11, reassess, step)
    _actions(r, held, "record", spec.actions, first.ago)
    if spec.realized:
        r.on(spec.realized.raised, 9, convert)  # before the issue's own action items that day
        _issue_story(r, spec.realized, held, "issue")


def _issue(r: _Register, spec: IssueSpec) -> None:
    held: dict[str, Any] = {}

    def create() -> None:
        form = parse(
            issues.IssueForm,
            {
                "title": spec.title,
                "description": spec.description,
                "impact": spec.impact,
                "priority": spec.priority,
                "owner_id": r.uid(spec.owner),
                "need_by": r.due(spec.need_by) if spec.need_by is not None else "",
                "deliverable_ids": r.links(spec.deliverables),
            },
        )
        held["issue"] = issues.create(r.db, *r.who(spec.owner), form)

    r.on(spec.raised, 9, create)
    _issue_story(r, spec, held, "issue")


def _issue_story(r: _Register, spec: IssueSpec, held: dict[str, Any], key: str) -> None:
    def change(c: Change) -> None:
        issue = held[key]
        values = {"status": c.status} | (
            {"escalation_level": c.level, "escalation_reason": c.reason} if c.level else {}
        )
        if c.resolution:
            values["resolution"] = c.resolution
        issues.update(
            r.db, *r.who(spec.owner), issue, parse(issues.IssueForm, issues.form_values(r.db, issue) | values)
        )

    def decide(entry: Entry) -> None:
        issues.add_decision(
            r.db,
            *r.who(spec.owner),
            held[key],
            parse(
                issues.DecisionForm, {"decision": entry.decision, "decided_by": entry.by, "rationale": entry.rationale}
            ),
        )

    for c in spec.changes:
        r.on(c.ago, 15, change, c)
    for entry in spec.decisions:
        r.on(entry.ago, 16, decide, entry)
    _actions(r, held, key, spec.actions, spec.raised)


def _actions(r: _Register, held: dict[str, Any], key: str, acts: tuple[Act, ...], start: int) -> None:
    items: dict[Act, ActionItem] = {}

    def add(act: Act) -> None:
        items[act] = actions.add(
            r.db,
            *r.who(act.owner),
            held[key],
            parse(
                actions.ActionForm,
                {
                    "description": act.description,
                    "owner_id": r.uid(act.owner),
                    "due_date": r.due(act.due),
                    "plan": act.plan,
                },
            ),
        )

    def done(act: Act) -> None:
        actions.set_done(r.db, *r.who(act.owner), items[act], True, None)

    for act in acts:
        r.on(act.added or start, 10, add, act)
        if act.done is not None:
            r.on(act.done, 14, done, act)


def load(db: Session, now: datetime | None = None) -> int:
    """Replay each project's register in time order; returns the number of risks."""
    now = now or utcnow()
    count = 0
    for key, (risk_specs, issue_specs) in SPECS.items():
        r = _Register(db, db.exec(select(Project).where(Project.key == key)).one(), now)
        for spec in risk_specs:
            _risk(r, spec)
        for spec in issue_specs:
            _issue(r, spec)
        for at, _, step in sorted(r.events, key=lambda e: (e[0], e[1])):
            with frozen_time(at):
                step()
        count += len(risk_specs)
    db.flush()
    return count
