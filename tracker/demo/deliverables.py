"""The demo's deliverable histories: each project's deliverables replayed through the service functions over the
last sixteen weeks, every step at its own simulated time, so clocks, audit trail and carry-forward are real.

Days in the specs count business days on the project's calendar before today (5 = five business days ago;
negative = ahead). Steps that would fall today or later have not happened yet, so a story stops there: that is
how reviews come to be in progress, overdue, or waiting for the contractor's answers.
"""

from __future__ import annotations

import hashlib
import heapq
import os
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from tracker.accounts.models import User
from tracker.accounts.service import principal
from tracker.core.calendar import is_business_day
from tracker.core.clock import frozen_time, utcnow
from tracker.core.files import FileStore
from tracker.core.forms import parse
from tracker.deliverables import criteria, decisions, planning, records, reviews, service, submissions
from tracker.deliverables.decisions import DecisionForm
from tracker.deliverables.models import Comment, Criterion, Decision, Deliverable, Disposition, Severity
from tracker.deliverables.planning import DeliverableForm
from tracker.deliverables.reviews import CommentForm
from tracker.deliverables.submissions import Upload
from tracker.projects import service as projects
from tracker.projects.calendar import project_holidays, project_today
from tracker.projects.models import Membership, Project

PLANNED_AT = 80  # the Deliverable Expectation Documents were agreed sixteen weeks ago
# ...except for the deliverables due furthest ahead (business days; negative is ahead): their criteria still wait for
# the State's agreement, or for the contractor's acknowledgment.
AGREED_BY, ACKNOWLEDGED_BY = -40, -15


@dataclass(frozen=True)
class Note:
    """A review comment and the contractor's answer (empty: not answered)."""

    location: str
    severity: str
    text: str
    response: str = ""
    closed: str = "resolved"  # how the review lead closes a minor comment before deciding


@dataclass(frozen=True)
class Round:
    """One submitted version and what became of it."""

    outcome: str  # accepted | conditional | rejected | review (still under review) | submitted (not started)
    at: int  # submitted this many business days ago
    decide: int = 0  # decided this many business days ago; 0 = eight business days after submission
    notes: tuple[Note, ...] = ()
    fails: tuple[int, ...] = ()  # criteria (1-based) found not met
    text: str = ""  # the findings of a rejection, or the conditions of a conditional acceptance
    until: int = 0  # conditions due


@dataclass(frozen=True)
class Spec:
    code: str
    title: str
    type: str
    team: tuple[str, ...]  # the review lead first, then the other reviewers
    amount: int
    due: int
    criteria: tuple[str, ...]
    description: str = ""
    rounds: tuple[Round, ...] = ()
    holdback: int = 10
    met: tuple[int, str] | None = None  # conditions met: day and note
    withdrawn: tuple[int, str] | None = None  # day and reason


UAT_CRITERIA = (
    "All UAT scripts executed, with evidence for each",
    "Open defects listed with severity and agreed disposition",
    "UAT exit criteria from the Master Test Plan met",
    "Sign-off from the business owner",
)

CWS = [
    Spec(
        "D-01",
        "Project Management Plan — Annual Update",
        "plan",
        ("mrivera", "pokafor"),
        180_000,
        74,
        (
            "Integrated master schedule baselined, with the critical path identified",
            "Risk and issue management approach consistent with the State PMO framework",
            "Change control process with State approval thresholds",
            "Staffing plan naming the key personnel in Exhibit B of the contract",
            "Communication plan with the governance meeting cadence",
            "Quality management approach with deliverable review checkpoints",
        ),
        "How Northbridge manages scope, schedule, cost, risk, quality and communications in the contract's second "
        "year.",
        rounds=(
            Round(
                "accepted",
                74,
                notes=(
                    Note(
                        "§2.3, p. 9",
                        "minor",
                        "Governance chart names the Deputy Director as sponsor; the sponsor is Dana Whitfield.",
                        "Corrected in the final version.",
                    ),
                    Note(
                        "§5.1, p. 22",
                        "major",
                        "The schedule baseline does not show the county rollout waves as separate milestones.",
                        "Added milestones M-14 to M-19 for the four waves; see the Gantt chart in Appendix C.",
                    ),
                    Note(
                        "Appendix D",
                        "minor",
                        "Key personnel table is missing the Data Conversion Lead's start date.",
                        "Added: August 4.",
                    ),
                ),
            ),
        ),
    ),
    Spec(
        "D-02",
        "Requirements Traceability Matrix",
        "document",
        ("dkim", "mrivera"),
        145_000,
        70,
        (
            "Every RFP requirement (Attachment 2, 1,142 items) appears exactly once",
            "Each requirement traced to at least one design element and one test case",
            "Release (R1–R4) recorded for every requirement",
            "Deferred or de-scoped requirements cite an approved change request",
            "Delivered as a sortable spreadsheet with a PDF summary",
        ),
        "Traces each of the 1,142 RFP requirements to design elements, test cases and the release that delivers it.",
        rounds=(
            Round(
                "rejected",
                70,
                fails=(1, 2),
                notes=(
                    Note(
                        "Tab 'Trace', rows 212–388",
                        "critical",
                        "176 Intake requirements (INT-001 to INT-176) have no test case reference.",
                        "The test team is writing the Intake test cases; they will be in version 2.",
                    ),
                    Note(
                        "Summary, p. 3",
                        "major",
                        "Counts do not reconcile: the summary says 1,142 requirements, the spreadsheet has 1,118 rows.",
                        "24 requirements from Addendum 3 were missed; added in version 2.",
                    ),
                    Note(
                        "Tab 'Trace', column F",
                        "minor",
                        "The release column mixes 'R2' and 'Release 2'.",
                        "Normalised to R1–R4.",
                    ),
                ),
                text="24 Addendum 3 requirements are missing and 176 Intake requirements trace to no test case "
                "(criteria 1 and 2). Resubmit with full coverage and a reconciliation of the counts.",
            ),
            Round(
                "rejected",
                55,
                fails=(4,),
                notes=(
                    Note(
                        "Tab 'Trace', rows 1,090–1,142",
                        "critical",
                        "Deferred requirements cite CR-012 and CR-015, which "
                        "the Change Control Board has not approved.",
                        "They will be shown in scope until the CCB decides.",
                    ),
                    Note(
                        "Tab 'Trace', row 640",
                        "minor",
                        "ELIG-044 traces to SDD-7.3, which does not exist in the System Design Document.",
                        "Fixed: SDD-7.4.",
                    ),
                ),
                text="Coverage is now complete, but 52 requirements are shown as deferred under change requests the "
                "CCB has not approved (criterion 4). Keep them in scope until a change request is approved.",
            ),
            Round(
                "accepted",
                38,
                notes=(
                    Note(
                        "Tab 'Trace', column H",
                        "minor",
                        "Consider a county pilot flag for the requirements in pilot scope.",
                        "Will add it in the Release 2 update of the matrix.",
                        closed="deferred",
                    ),
                ),
            ),
        ),
    ),
    Spec(
        "D-03",
        "Data Conversion Plan",
        "data_conversion",
        ("dkim", "pokafor"),
        240_000,
        60,
        (
            "Source-to-target mapping for every CWS/CMS table in conversion scope",
            "Data cleansing rules agreed with the county data stewards",
            "Reconciliation by record counts and financial totals per entity",
            "Three mock conversions scheduled before go-live, each with exit criteria",
            "Rollback procedure and go/no-go decision points for the cutover weekend",
            "Sealed and confidential records handled per WIC 827",
        ),
        "Approach, mapping and reconciliation for moving 14 million case, referral and client records off CWS/CMS.",
        rounds=(
            Round(
                "rejected",
                61,
                fails=(3, 6),
                notes=(
                    Note(
                        "§4.2, p. 18",
                        "critical",
                        "Reconciliation covers record counts only; there are no financial "
                        "totals for placement payments.",
                        "Version 2 adds payment totals by county and fiscal month.",
                    ),
                    Note(
                        "§6, p. 27",
                        "critical",
                        "Sealed adoption records (WIC 827) are converted with no access restriction.",
                        "Sealed records will load to a restricted partition for the adoptions role only.",
                    ),
                    Note(
                        "Appendix B, table B-3",
                        "major",
                        "The mapping omits the CLIENT_RELATIONSHIP table (3.1 million rows).",
                        "Mapping added as Appendix B-3a.",
                    ),
                    Note(
                        "§3.1, p. 11",
                        "minor",
                        "Use the county codes from the State code table, not the legacy two-letter codes.",
                        "Updated.",
                    ),
                ),
                text="The plan does not reconcile financial totals (criterion 3) and does not protect sealed records "
                "(criterion 6). Both are required before any mock conversion.",
            ),
            Round(
                "accepted",
                44,
                notes=(
                    Note(
                        "§4.2, p. 19",
                        "minor",
                        "State the 0.01% tolerance for payment totals as an amount too.",
                        "Added: $500 per county per month.",
                    ),
                    Note(
                        "§7, p. 31",
                        "minor",
                        "Mock 3 exit criteria should require sign-off by the county data stewards.",
                        "Added as exit criterion 3.4.",
                    ),
                ),
            ),
        ),
    ),
    Spec(
        "D-04",
        "Security Plan",
        "plan",
        ("pokafor", "mrivera"),
        120_000,
        55,
        (
            "Implementation statements for every NIST SP 800-53 Rev. 5 moderate-baseline control",
            "System boundary and data flow diagrams including the county network connections",
            "Incident response with notification to the State within one hour",
            "Encryption at rest and in transit with FIPS 140-3 validated modules",
            "Plan of Action and Milestones for controls not yet implemented",
            "Annual penetration test by an independent assessor",
        ),
        "System Security Plan for the case management system under the NIST SP 800-53 moderate baseline.",
        rounds=(
            Round(
                "conditional",
                55,
                decide=46,
                until=20,
                fails=(5,),
                notes=(
                    Note(
                        "§2.4, figure 3",
                        "critical",
                        "The data flow diagram does not show the county VPN connections.",
                        "Added figure 3a with all 58 county tunnels.",
                    ),
                    Note(
                        "§3, control AC-2(3)",
                        "major",
                        "Disabling inactive accounts is marked 'planned' with no date.",
                        "POA&M item 7 sets 90-day disablement before go-live.",
                    ),
                    Note(
                        "§5.1, p. 41",
                        "minor",
                        "The incident contact list should name the DSS Information Security "
                        "Officer, not a shared mailbox.",
                        "Updated.",
                    ),
                ),
                text="1. Deliver the Plan of Action and Milestones for the 11 controls marked 'planned', with owners and "
                "dates. 2. Provide the signed engagement letter of the independent penetration-test assessor.",
            ),
        ),
        met=(27, "POA&M reviewed by the Information Security Officer; the assessor's engagement letter is on file."),
    ),
    Spec(
        "D-05",
        "Interface Control Document",
        "document",
        ("dkim", "mrivera"),
        160_000,
        40,
        (
            "One section per interface in the interface inventory (9 interfaces)",
            "Message schemas (XSD or JSON Schema) for every exchange",
            "Error handling, retry and reconciliation for each interface",
            "Authentication and encryption for each connection",
            "Interface test approach with confirmed partner test windows",
        ),
        "Message formats, transport and error handling for the interfaces with CalSAWS, the courts and the State "
        "Controller.",
        rounds=(
            Round(
                "conditional",
                40,
                decide=31,
                until=-14,
                fails=(5,),
                notes=(
                    Note(
                        "§IF-01, p. 9",
                        "critical",
                        "The CalSAWS referral message lacks the county of jurisdiction.",
                        "Added countyCode (required) to the schema in Appendix A.",
                    ),
                    Note(
                        "§IF-03, p. 33",
                        "major",
                        "Error codes for rejected payment files are listed as TBD.",
                        "To be completed once the State Controller confirms its code table, in about three weeks.",
                    ),
                    Note(
                        "§IF-06, p. 47",
                        "major",
                        "The court hearing feed has no agreed test window with the Judicial Council.",
                        "Requested; we are waiting for the Council's test calendar.",
                    ),
                    Note(
                        "§1.3, p. 4",
                        "minor",
                        "Interface numbering differs from the SDD (IF-7 against IF-07).",
                        "Aligned to the IF-07 form.",
                    ),
                ),
                text="Provide the confirmed test windows with the Judicial Council and the State Controller's Office for "
                "IF-06 and IF-08, and the completed error-code table for IF-03.",
            ),
        ),
    ),
    Spec(
        "D-06",
        "System Design Document",
        "document",
        ("pokafor", "dkim"),
        210_000,
        30,
        (
            "Traceable to the Requirements Traceability Matrix (D-02) by requirement ID",
            "Logical data model with entity definitions and retention rules",
            "Component architecture, hosting and environments",
            "Accessibility (WCAG 2.1 AA) designed in, not deferred to testing",
            "Audit logging design meeting the Security Plan (D-04)",
            "Performance design for 4,000 concurrent county users",
        ),
        "Logical and physical design of the intake, case management and placement modules.",
        rounds=(
            Round(
                "rejected",
                24,
                decide=14,
                fails=(2, 4),
                notes=(
                    Note(
                        "§5, p. 52",
                        "critical",
                        "The data model has no retention or purge rules for unsubstantiated "
                        "referrals (the 10-year rule).",
                        "Retention rules per entity will be added in the next version.",
                    ),
                    Note(
                        "§8, p. 77",
                        "critical",
                        "No accessibility design: the document defers WCAG 2.1 AA to the test phase.",
                    ),
                    Note(
                        "§6.2, figure 12",
                        "major",
                        "The hosting diagram shows one availability zone; the RFP requires two.",
                        "The second zone is in the target architecture; the diagram will be updated.",
                    ),
                    Note("§2.1, p. 6", "minor", "The glossary defines 'NMD', which is never used.", "Removed."),
                ),
                text="Retention rules are missing from the data model (criterion 2) and accessibility is deferred to "
                "testing instead of designed (criterion 4). Hosting must show two availability zones.",
            ),
        ),
    ),
    Spec(
        "D-07",
        "Master Test Plan",
        "plan",
        ("pokafor", "dkim"),
        95_000,
        24,
        (
            "Test levels defined: unit, integration, system, performance, security, UAT",
            "Entry and exit criteria per level with defect severity thresholds",
            "Test environments and data refresh schedule",
            "Test cases traceable to requirements (D-02)",
            "UAT approach with named county participants and a schedule",
            "Defect management workflow and tools",
            "Regression test strategy for each release",
        ),
        "Test levels, environments, entry and exit criteria, defect management and the UAT approach for all releases.",
        rounds=(
            Round(
                "rejected",
                24,
                decide=17,
                fails=(2, 5),
                notes=(
                    Note(
                        "§4.3, p. 21",
                        "critical",
                        "Exit criteria allow go-live with open Severity 2 defects without State approval.",
                        "Revised: no open Severity 1; Severity 2 only with a State-approved workaround.",
                    ),
                    Note(
                        "§7, p. 35",
                        "major",
                        "The UAT approach names no county participants and no schedule.",
                        "Version 2 names six pilot counties with a UAT calendar.",
                    ),
                    Note(
                        "§3.2, p. 12",
                        "minor",
                        "The performance test tool is 'TBD'.",
                        "JMeter, run from the State's test network.",
                    ),
                ),
                text="Exit criteria must not allow open Severity 2 defects without State approval (criterion 2); the "
                "UAT approach needs named county participants and a schedule (criterion 5).",
            ),
            Round(
                "review",
                7,
                notes=(
                    Note(
                        "§7.2, p. 37",
                        "major",
                        "The UAT calendar overlaps the fiscal year-end close in two pilot counties.",
                        "Moved the Fresno and Tulare sessions to the second week.",
                    ),
                    Note(
                        "Appendix C",
                        "minor",
                        "The test data masking approach should cite the Security Plan controls.",
                        "Added references to SC-28 and the masking tool configuration.",
                    ),
                ),
            ),
        ),
    ),
    Spec(
        "D-08",
        "Release 2.1 Software — Intake and Hotline",
        "software_release",
        ("dkim", "mrivera"),
        650_000,
        16,
        (
            "All Release 2.1 requirements in the RTM pass system testing",
            "No open Severity 1 or 2 defects; Severity 3 within the agreed limit",
            "Deployed to State staging from the release pipeline",
            "Intake screens respond in under 2 seconds at 500 concurrent users",
            "No WCAG 2.1 AA failures in the automated and manual accessibility audit",
            "Release notes, deployment guide and rollback procedure delivered",
            "Source code and build scripts deposited in the State repository",
        ),
        "Hotline intake, screening and referral assignment for the 12 pilot counties.",
        holdback=15,
        rounds=(
            Round(
                "review",
                14,
                fails=(2,),
                notes=(
                    Note(
                        "Release notes §3, defect list",
                        "critical",
                        "DEF-2291 (a double click creates duplicate referrals) is Severity 2 and open.",
                        "Fixed in build 2.1.4, deployed to staging; retest is booked.",
                    ),
                    Note(
                        "Performance report, p. 6",
                        "major",
                        "Only 300 concurrent users were tested; the criterion is 500.",
                        "The 500-user run is complete; report 1.1 is attached to the release folder.",
                    ),
                    Note(
                        "Accessibility audit, item 14",
                        "major",
                        "The screening decision radio group has no accessible name.",
                        "Fixed in 2.1.4 with a fieldset and legend.",
                    ),
                    Note(
                        "Deployment guide §5",
                        "minor",
                        "Rollback assumes database snapshots the State DBA team does not take.",
                        "We will align the rollback with the DBA team's backup schedule.",
                    ),
                ),
            ),
        ),
    ),
    Spec(
        "D-09",
        "Disaster Recovery Plan",
        "plan",
        ("pokafor", "dkim"),
        85_000,
        2,
        (
            "Recovery time objective of 8 hours and recovery point objective of 15 minutes for Tier 1 functions",
            "Failover and failback procedures for each component",
            "Roles and contact tree including the county help desks",
            "Annual disaster recovery exercise with success criteria",
            "Consistent with the contingency planning (CP) controls of the Security Plan (D-04)",
        ),
        "Recovery objectives, failover to the secondary region, and the annual recovery exercise.",
        rounds=(Round("submitted", 2),),
    ),
    Spec(
        "D-10",
        "Training Plan",
        "training",
        ("mrivera", "pokafor"),
        70_000,
        15,
        (
            "Training needs analysis by role: social worker, supervisor, hotline, clerical, county administrator",
            "Delivery approach: instructor-led, e-learning and train-the-trainer",
            "Schedule aligned with the county rollout waves",
            "Learning management system and completion tracking",
            "Evaluation approach (Kirkpatrick levels 1–3)",
        ),
        "Training for 9,000 county social workers, supervisors and hotline staff across four rollout waves.",
        rounds=(
            Round(
                "rejected",
                15,
                decide=6,
                fails=(1, 3),
                notes=(
                    Note(
                        "§2, table 2-1",
                        "critical",
                        "The needs analysis covers social workers and supervisors only; hotline "
                        "and clerical roles are missing.",
                        "Adding them; interviews with three counties are scheduled.",
                    ),
                    Note(
                        "§5, p. 19",
                        "major",
                        "Wave 2 training ends after Wave 2 goes live.",
                        "Wave 2 training moves two weeks earlier.",
                    ),
                    Note(
                        "§4.1, p. 14", "minor", "Course IDs should follow the State LMS naming convention.", "Renamed."
                    ),
                ),
                text="The needs analysis omits hotline and clerical roles (criterion 1) and the schedule trains Wave 2 "
                "after it goes live (criterion 3).",
            ),
        ),
    ),
    Spec(
        "D-11",
        "Organizational Change Management Plan",
        "plan",
        ("mrivera", "pokafor"),
        90_000,
        5,
        (
            "Stakeholder analysis covering all 58 counties and tribal partners",
            "County readiness assessment instrument and schedule",
            "Communications calendar through go-live plus 90 days",
            "Change champion network with roles and time commitment",
        ),
        "Stakeholder analysis, county readiness and communications for the move off CWS/CMS.",
        rounds=(
            Round(
                "review",
                4,
                notes=(
                    Note(
                        "§3.2, p. 14",
                        "major",
                        "Tribal partners are missing from the stakeholder analysis.",
                        "Added the tribal ICWA liaisons as a stakeholder group.",
                    ),
                    Note("Appendix A", "minor", "The readiness survey repeats question 12 as question 19.", "Removed."),
                    Note(
                        "§4, p. 22",
                        "major",
                        "The communications calendar stops at go-live; the criterion is go-live plus 90 days.",
                        "Extended to 90 days after the last wave.",
                    ),
                ),
            ),
        ),
    ),
    Spec(
        "D-12",
        "Data Conversion Mock 1 Results",
        "data_conversion",
        ("dkim", "pokafor"),
        110_000,
        12,
        (
            "Record counts reconciled for every entity in conversion scope",
            "Financial totals reconciled within the tolerance of the Data Conversion Plan",
            "Conversion run time within the 52-hour cutover window",
            "Defects logged with root cause and the release that fixes them",
        ),
        "Results of the first full mock conversion against production-sized CWS/CMS extracts.",
        rounds=(Round("submitted", 12),),
    ),
    Spec(
        "D-13",
        "UAT Test Results — Release 2.1",
        "document",
        ("dkim", "mrivera"),
        75_000,
        -6,
        UAT_CRITERIA,
        "County user acceptance testing of Release 2.1 in the 12 pilot counties.",
    ),
    Spec(
        "D-14",
        "Training Materials — Release 2.1",
        "training",
        ("mrivera", "pokafor"),
        95_000,
        -9,
        (
            "Instructor guides and participant workbooks for each course in the Training Plan",
            "E-learning modules published to the State LMS (SCORM 1.2)",
            "Quick reference cards for intake and screening",
            "Materials meet WCAG 2.1 AA and the plain-language guidelines",
            "Spanish translations of the participant materials",
        ),
        "County worker curriculum for intake and hotline screening.",
    ),
    Spec(
        "D-15",
        "Privacy Impact Assessment",
        "document",
        ("pokafor", "dkim"),
        40_000,
        4,
        (
            "Inventory of personal information collected, by data element",
            "Legal authority for each collection",
            "Data shared with partners and the agreements that cover it",
            "Privacy risks and mitigations reviewed by the DSS Privacy Officer",
        ),
        "Privacy impact of the new system on children, families and resource parents.",
    ),
    Spec(
        "D-16",
        "Release 2.2 Software — Case Management",
        "software_release",
        ("dkim", "mrivera"),
        820_000,
        -45,
        (
            "All Release 2.2 requirements in the RTM pass system testing",
            "No open Severity 1 or 2 defects",
            "Response times met at 4,000 concurrent users",
            "No WCAG 2.1 AA failures in the accessibility audit",
            "Release notes, deployment guide and rollback procedure delivered",
        ),
        "Case plans, contacts, court reports and placement management.",
        holdback=15,
    ),
    Spec(
        "D-17",
        "Legacy Mainframe Decommissioning Plan",
        "plan",
        ("pokafor", "mrivera"),
        60_000,
        -60,
        (
            "Inventory of CWS/CMS components and their retirement order",
            "Archive approach for records not converted",
            "Shutdown checklist with State sign-off steps",
        ),
        "Retirement of the CWS/CMS mainframe after the last county goes live.",
        withdrawn=(20, "Decommissioning moves to Phase 2 under Contract Amendment 3; it will be planned there."),
    ),
]

UIM = [
    Spec(
        "D-01",
        "Project Management Plan — FY2027 Update",
        "plan",
        ("jchen", "dkim"),
        60_000,
        76,
        (
            "Integrated master schedule re-baselined for the approved Release 2 re-plan (CR-041)",
            "Updated staffing plan and key personnel changes",
            "Risk management consistent with the department's risk register",
            "Earned value reporting approach",
        ),
        "Annual update: the schedule re-baselined after the Release 2 re-plan, staffing and governance changes.",
        rounds=(
            Round(
                "accepted",
                76,
                decide=66,
                notes=(
                    Note(
                        "§4.1, p. 17",
                        "major",
                        "The schedule still shows Release 2.2 in March; CR-041 moved it to May.",
                        "Corrected; the baseline is re-issued as BL-3.",
                    ),
                    Note(
                        "§6, p. 29",
                        "minor",
                        "Earned value thresholds should match the PMO's (CPI or SPI below 0.95).",
                        "Aligned to 0.95.",
                    ),
                ),
            ),
        ),
    ),
    Spec(
        "D-02",
        "Requirements Traceability Matrix — Benefits Engine",
        "document",
        ("dkim", "jchen"),
        110_000,
        72,
        (
            "Every benefits-engine requirement from the RFP and approved change requests appears",
            "Each requirement traced to a rule in the rules catalogue and to a test case",
            "Federal (UIPL) requirements flagged and traced to the federal reporting design",
            "Delivered as a sortable spreadsheet",
        ),
        "Traces the 614 benefits-engine requirements to rules, design and test cases.",
        rounds=(
            Round(
                "rejected",
                72,
                decide=60,
                fails=(2,),
                notes=(
                    Note(
                        "Tab 'Rules', rows 88–140",
                        "critical",
                        "Monetary eligibility rules ME-01 to ME-53 trace to no test cases.",
                        "Test cases ME-TC-001 to 053 will be in version 2.",
                    ),
                    Note(
                        "Tab 'Federal'",
                        "major",
                        "UIPL 16-21 identity verification requirements are not flagged as federal.",
                        "Flagged and traced to the ETA 9000 reporting design.",
                    ),
                    Note("Tab 'Trace', column D", "minor", "Several rule IDs are in lower case.", "Normalised."),
                ),
                text="Monetary eligibility rules have no test coverage (criterion 2). Resubmit with full traceability.",
            ),
            Round(
                "accepted",
                51,
                decide=40,
                notes=(
                    Note(
                        "Tab 'Trace', row 402",
                        "minor",
                        "BE-402 traces to test case BE-TC-402, which is marked obsolete.",
                        "Re-pointed to BE-TC-402a.",
                    ),
                ),
            ),
        ),
    ),
    Spec(
        "D-03",
        "Interface Control Document — Federal and State Data Exchanges",
        "document",
        ("rpatel", "dkim"),
        150_000,
        68,
        (
            "One section per interface in the interface inventory (7 interfaces)",
            "Record layouts and file naming for every batch exchange",
            "Error handling and reprocessing for each interface",
            "IRS Publication 1075 safeguards wherever federal tax information is exchanged",
            "Test approach with partner test windows",
            "Operating schedule and monitoring for each interface",
        ),
        "Exchanges with SSA, the National Directory of New Hires, ICON, the state tax department and the debit card "
        "bank.",
        rounds=(
            Round(
                "rejected",
                68,
                decide=56,
                fails=(2, 3),
                notes=(
                    Note(
                        "§3, SSA interface",
                        "critical",
                        "The SSA verification response layout is from the 2019 specification.",
                        "Updating to the current SSA specification in version 2.",
                    ),
                    Note(
                        "§5, NDNH",
                        "critical",
                        "No error handling or reprocessing for the NDNH match files.",
                        "An error handling section is being added for every interface.",
                    ),
                    Note(
                        "§1.2, p. 5",
                        "minor",
                        "The inventory lists 6 interfaces; the contract lists 7 (the debit card vendor is missing).",
                        "Added IF-07.",
                    ),
                ),
                text="The SSA layouts are out of date (criterion 2) and NDNH has no error handling (criterion 3).",
            ),
            Round(
                "rejected",
                47,
                decide=35,
                fails=(4,),
                notes=(
                    Note(
                        "§4, state tax interface",
                        "critical",
                        "Federal tax information is received from the tax "
                        "department, but the Publication 1075 safeguards are not described.",
                        "Safeguards section added, referencing the Safeguard Security Report.",
                    ),
                    Note(
                        "§7, debit card vendor",
                        "major",
                        "File transfer uses SFTP with passwords; key-based authentication is required.",
                        "Changed to key-based SFTP with annual key rotation.",
                    ),
                ),
                text="The Publication 1075 safeguards for federal tax information are missing (criterion 4), a federal "
                "compliance finding.",
            ),
            Round(
                "accepted",
                27,
                decide=16,
                notes=(
                    Note(
                        "§6, p. 58",
                        "minor",
                        "Monitoring thresholds for the ICON files would be clearer as a table.",
                        "Converted to table 6-2.",
                    ),
                ),
            ),
        ),
    ),
    Spec(
        "D-04",
        "Release 2.1 Software — Claimant Portal",
        "software_release",
        ("dkim", "rpatel"),
        780_000,
        60,
        (
            "All Release 2.1 requirements pass system testing",
            "No open Severity 1 or 2 defects",
            "Identity proofing integrated and tested with the State identity provider",
            "Response times under 3 seconds at 25,000 concurrent claimants",
            "No open WCAG 2.1 AA failures in the accessibility audit",
            "Spanish content reviewed by the language services unit",
            "Release notes, deployment guide and rollback procedure",
        ),
        "Online initial claims, weekly certification and the claimant inbox, in English and Spanish.",
        holdback=15,
        rounds=(
            Round(
                "conditional",
                60,
                decide=48,
                until=30,
                fails=(5,),
                notes=(
                    Note(
                        "Load test report, p. 11",
                        "critical",
                        "Weekly certification took 7.8 s at 25,000 users.",
                        "A missing index was added; the re-run shows 2.1 s (report 2 in the release folder).",
                    ),
                    Note(
                        "Accessibility audit, items A-3 to A-21",
                        "major",
                        "Six WCAG 2.1 AA failures remain, including "
                        "error messages that screen readers do not announce.",
                        "Fixes are in 2.1.3; the re-audit is booked.",
                    ),
                    Note(
                        "Release notes §2",
                        "minor",
                        "Known issues should include the workaround for PDF letters on iOS.",
                        "Added.",
                    ),
                ),
                text="Fix the six remaining WCAG 2.1 AA failures of the accessibility audit (items A-3, A-9, A-11, A-12, "
                "A-17 and A-21) and deliver the re-audit report.",
            ),
        ),
        met=(33, "Re-audit report received: all six failures closed, verified by the State accessibility coordinator."),
    ),
    Spec(
        "D-05",
        "UAT Test Results — Release 2.1",
        "document",
        ("jchen", "dkim"),
        70_000,
        42,
        UAT_CRITERIA,
        "User acceptance testing of the claimant portal by claims staff and claimant volunteers.",
        rounds=(
            Round(
                "rejected",
                42,
                decide=30,
                fails=(1, 3),
                notes=(
                    Note(
                        "§3, table 3-2",
                        "critical",
                        "38 of 412 scripts are 'not run' with no explanation.",
                        "They were blocked by DEF-1877; they will be run and reported in version 2.",
                    ),
                    Note(
                        "§5, p. 16",
                        "major",
                        "The exit criterion 'no open Severity 2' is reported as met, but DEF-1902 "
                        "(Severity 2) is open.",
                        "DEF-1902 is fixed in 2.1.3 and will be retested.",
                    ),
                ),
                text="38 scripts were not executed (criterion 1) and the exit criteria are not met while DEF-1902 is "
                "open (criterion 3).",
            ),
            Round(
                "accepted",
                22,
                decide=10,
                notes=(
                    Note(
                        "Appendix B",
                        "minor",
                        "Screenshots for scripts 301–315 have no timestamps.",
                        "Re-captured with timestamps.",
                    ),
                ),
            ),
        ),
    ),
    Spec(
        "D-06",
        "Data Conversion Plan — Employer Tax Accounts",
        "data_conversion",
        ("rpatel", "jchen"),
        190_000,
        22,
        (
            "Source-to-target mapping for every legacy tax table in scope",
            "Account balances reconciled to the general ledger",
            "Contribution rate history converted with its audit trail",
            "Three mock conversions scheduled, each with exit criteria",
            "Federal tax information handled under IRS Publication 1075",
        ),
        "Conversion of 1.4 million employer accounts, rates and ten years of wage reports.",
        rounds=(
            Round(
                "rejected",
                20,
                decide=6,
                fails=(2, 4),
                notes=(
                    Note(
                        "§4, p. 20",
                        "critical",
                        "Balances are reconciled to the legacy system only, not to the general ledger.",
                        "GL reconciliation will be added using Finance's trial balance extract.",
                    ),
                    Note("§7, p. 33", "major", "Only one mock conversion is planned; the contract requires three."),
                    Note(
                        "§2.3, p. 8",
                        "minor",
                        "Wage report history is seven years in §2 and ten years in §5.",
                        "Ten years is right; fixed.",
                    ),
                ),
                text="Account balances must reconcile to the general ledger (criterion 2) and the three mock conversions "
                "the contract requires must be planned (criterion 4).",
            ),
        ),
    ),
    Spec(
        "D-07",
        "System Security and Privacy Plan",
        "plan",
        ("rpatel", "jchen"),
        130_000,
        18,
        (
            "Implementation statements for the moderate baseline and the Publication 1075 controls",
            "System boundary including the identity provider and payment vendor",
            "Incident notification to the State ISO within one hour and to the IRS within 24 hours",
            "Continuous monitoring strategy and scan cadence",
            "Plan of Action and Milestones for controls not yet implemented",
        ),
        "NIST SP 800-53 moderate baseline plus the IRS Publication 1075 controls for federal tax information.",
        rounds=(
            Round(
                "review",
                17,
                fails=(1,),
                notes=(
                    Note(
                        "§3, control IA-2(1)",
                        "critical",
                        "Multi-factor authentication for privileged users is 'optional' for vendor staff.",
                        "MFA is now mandatory for every privileged account; statement revised.",
                    ),
                    Note(
                        "§4.2, p. 36",
                        "major",
                        "Continuous monitoring does not state the vulnerability scan cadence.",
                        "Monthly authenticated scans; weekly for internet-facing hosts.",
                    ),
                    Note("§2, figure 2", "minor", "The boundary diagram omits the SMS notification vendor.", "Added."),
                ),
            ),
        ),
    ),
    Spec(
        "D-08",
        "Disaster Recovery Plan",
        "plan",
        ("rpatel", "dkim"),
        80_000,
        40,
        (
            "Recovery time objective of 4 hours for claim filing and payment processing",
            "Recovery point objective of 5 minutes",
            "Failover tested in a documented exercise",
            "Claimant communications during an outage",
        ),
        "Recovery of the claimant portal, benefits engine and payment files after a regional outage.",
        rounds=(
            Round(
                "rejected",
                36,
                decide=24,
                fails=(1,),
                notes=(
                    Note(
                        "§2.1, p. 7",
                        "critical",
                        "Payment file processing recovers in 24 hours; the contract requires 4.",
                        "Payment processing moves to the active-active design in version 2.",
                    ),
                    Note(
                        "§6, p. 25",
                        "major",
                        "No claimant communications during an outage (web banner, phone message, social media).",
                        "Communication runbook added as Appendix E.",
                    ),
                ),
                text="The plan does not meet the 4-hour recovery time objective for payment processing (criterion 1).",
            ),
            Round(
                "review",
                14,
                notes=(
                    Note(
                        "§5.3, p. 21",
                        "major",
                        "The failover exercise report predates the active-active change.",
                        "A new exercise is scheduled; its report will follow.",
                    ),
                    Note(
                        "Appendix E",
                        "minor",
                        "The phone message script should be available in Spanish, Chinese and Vietnamese.",
                        "Translations requested.",
                    ),
                ),
            ),
        ),
    ),
    Spec(
        "D-09",
        "Release 2.2 Software — Benefits Engine Phase 1",
        "software_release",
        ("dkim", "jchen"),
        950_000,
        3,
        (
            "All Release 2.2 requirements pass system testing",
            "Parallel run: 99.5% of 50,000 historical claims determined as the legacy system did",
            "No open Severity 1 or 2 defects",
            "ETA 9000-series federal reports validated",
            "Rules catalogue published and traceable to the RTM (D-02)",
            "Release notes, deployment guide and rollback procedure",
        ),
        "Monetary and non-monetary eligibility, the rules catalogue and the federal reporting extracts.",
        holdback=15,
        rounds=(Round("submitted", 3),),
    ),
    Spec(
        "D-10",
        "Training Materials — Claimant Services Agents",
        "training",
        ("jchen", "dkim"),
        85_000,
        30,
        (
            "Instructor guide and participant workbook for each course",
            "E-learning modules published to the State learning management system",
            "Job aids for the 20 most frequent claimant questions",
            "Spanish versions of the job aids",
            "Knowledge checks with a passing score of 80%",
        ),
        "Curriculum, job aids and e-learning for 1,200 call-centre agents supporting the claimant portal.",
        rounds=(
            Round(
                "conditional",
                30,
                decide=19,
                until=-10,
                fails=(4,),
                notes=(
                    Note(
                        "Job aids folder",
                        "major",
                        "Spanish versions of the job aids are not included.",
                        "The translations are with the vendor, due in two weeks.",
                    ),
                    Note("Module 3, slide 14", "minor", "A screenshot shows the test environment banner.", "Replaced."),
                    Note(
                        "Instructor guide §2",
                        "minor",
                        "Thirty is too many for hands-on exercises; use 18 per class.",
                        "The call-centre release schedule allows 24 at the least; exercises are done in pairs.",
                        closed="accepted_as_is",
                    ),
                ),
                text="Deliver the Spanish versions of the 20 job aids, reviewed by the language services unit.",
            ),
        ),
    ),
    Spec(
        "D-11",
        "Performance Test Results — Release 2.1",
        "document",
        ("dkim", "jchen"),
        45_000,
        6,
        (
            "Load test at 25,000 concurrent users with responses under 3 seconds",
            "Stress test to failure, with the breaking point reported",
            "Eight-hour endurance test without memory growth",
            "Test environment equivalent to production, differences listed",
        ),
        "Load, stress and endurance results for the claimant portal ahead of the spring peak.",
        rounds=(
            Round(
                "review",
                4,
                notes=(
                    Note(
                        "§3.1, p. 9",
                        "major",
                        "The test environment has half of production's database capacity, so the "
                        "results cannot be extrapolated.",
                        "We will re-run on the production-sized environment.",
                    ),
                    Note(
                        "§4, figure 6",
                        "minor",
                        "Show the 95th and 99th percentile response times, not only averages.",
                        "Added.",
                    ),
                ),
            ),
        ),
    ),
    Spec(
        "D-12",
        "Fraud Detection Rules Specification",
        "document",
        ("rpatel", "jchen"),
        65_000,
        30,
        (
            "Every fraud rule specified with data sources, logic and threshold",
            "False-positive estimate for each rule from historical data",
            "Claimant notice and due-process steps for each rule outcome",
            "Investigator workflow and case referral criteria",
        ),
        "Cross-match and behavioural rules for identity and benefit fraud, with the investigator workflow.",
        rounds=(
            Round(
                "rejected",
                28,
                decide=16,
                fails=(1, 3),
                notes=(
                    Note(
                        "§3, rules FR-07 to FR-12",
                        "critical",
                        "The IP-address rules have no thresholds ('to be tuned in production').",
                        "Thresholds will be proposed from the 2023–2025 claims history.",
                    ),
                    Note("§5, p. 24", "critical", "Benefits stop for a flagged claim with no due-process notice."),
                    Note(
                        "§4, table 4-1",
                        "minor",
                        "The false-positive rates lack sample sizes.",
                        "Added n for each rule.",
                    ),
                ),
                text="Several rules have no thresholds (criterion 1), and stopping payment without notice to the claimant "
                "fails due-process requirements (criterion 3). Legal has been consulted.",
            ),
        ),
    ),
    Spec(
        "D-13",
        "Data Conversion Mock 2 Results",
        "data_conversion",
        ("rpatel", "dkim"),
        95_000,
        -4,
        (
            "Record counts reconciled for every entity",
            "Employer balances reconciled to the general ledger within $1,000",
            "Run time within the 60-hour cutover window",
            "Mock 1 defects closed or dispositioned",
        ),
        "Second mock conversion of employer accounts and wage history.",
    ),
    Spec(
        "D-14",
        "UAT Test Results — Release 2.2",
        "document",
        ("jchen", "dkim"),
        70_000,
        -35,
        UAT_CRITERIA,
        "User acceptance testing of the benefits engine by adjudicators and claims staff.",
    ),
    Spec(
        "D-15",
        "Accessibility Conformance Report — Claimant Portal",
        "document",
        ("dkim", "jchen"),
        35_000,
        7,
        (
            "Conformance report in VPAT 2.5 format against WCAG 2.1 AA",
            "Manual testing with JAWS, NVDA and VoiceOver documented",
            "Remediation plan for every partially supported criterion",
        ),
        "Accessibility conformance of the claimant portal for the public record.",
    ),
    Spec(
        "D-16",
        "Employer Tax Module Design Document",
        "document",
        ("rpatel", "jchen"),
        140_000,
        50,
        (
            "Design traceable to the employer tax requirements in the RTM",
            "Rate calculation design with worked examples",
            "Integration with the state tax department interface (D-03)",
        ),
        "Design of employer registration, contribution rates and quarterly wage reporting.",
        rounds=(
            Round(
                "rejected",
                50,
                decide=40,
                fails=(1,),
                notes=(
                    Note(
                        "§4, p. 31",
                        "critical",
                        "The rate calculation ignores the solvency surcharge (requirement TAX-112).",
                        "Will be added.",
                    ),
                    Note("§2, p. 6", "minor", "The context diagram has no legend.", "Added."),
                ),
                text="The rate calculation omits the solvency surcharge, so the design does not meet requirement TAX-112 "
                "(criterion 1).",
            ),
        ),
        withdrawn=(
            35,
            "Employer tax moves to Release 3 under change request CR-118; its design will be part of the "
            "Release 3 design document.",
        ),
    ),
]

DMV = [
    Spec(
        "D-01",
        "Project Management Plan — Design Phase Update",
        "plan",
        ("pokafor", "snguyen"),
        150_000,
        78,
        (
            "Integrated master schedule baselined, with the critical path through title conversion",
            "Governance structure with the DMV steering committee",
            "Risk and issue management process",
            "Staffing plan with the key personnel named in the contract",
            "Change control procedure",
        ),
        "Scope, schedule, governance, risk and quality management for the design and build phases.",
        rounds=(
            Round(
                "rejected",
                78,
                decide=70,
                fails=(1, 4),
                notes=(
                    Note(
                        "§5, Gantt chart",
                        "critical",
                        "The schedule is not resource-loaded, so the critical path cannot be verified.",
                        "A resource-loaded schedule comes with version 2, with the MPP file.",
                    ),
                    Note(
                        "§7.2, p. 30",
                        "major",
                        "Key personnel names a Solution Architect who is not in Exhibit C of the contract.",
                        "Substitution request submitted under §12 of the contract.",
                    ),
                    Note("§1, p. 2", "minor", "The document control table is missing.", "Added."),
                ),
                text="The schedule is not resource-loaded, so its critical path cannot be verified (criterion 1), and "
                "key personnel differ from the contract without an approved substitution (criterion 4).",
            ),
            Round(
                "accepted",
                58,
                decide=50,
                notes=(
                    Note(
                        "§5.4, p. 24",
                        "minor",
                        "Add the legislative session blackout (no releases January to May of odd years).",
                        "Added as a schedule constraint.",
                    ),
                ),
            ),
        ),
    ),
    Spec(
        "D-02",
        "Requirements Traceability Matrix — Registration and Titling",
        "document",
        ("snguyen", "pokafor"),
        120_000,
        66,
        (
            "All 867 RFP requirements appear exactly once",
            "Each requirement traced to design and test",
            "Fee requirements traced to the Transportation Code section that sets them",
            "Delivered as a sortable spreadsheet",
        ),
        "Traces the registration, titling, fee and dealer requirements to design and tests.",
        rounds=(
            Round(
                "accepted",
                66,
                decide=57,
                notes=(
                    Note(
                        "Tab 'Fees', row 41",
                        "minor",
                        "FEE-041 cites §502.401; the current section is §502.403.",
                        "Corrected.",
                    ),
                    Note(
                        "Tab 'Trace'",
                        "minor",
                        "Add a filter column for dealer-facing requirements.",
                        "The Audience column (J) already filters them: choose 'Dealer'.",
                        closed="accepted_as_is",
                    ),
                ),
            ),
        ),
    ),
    Spec(
        "D-03",
        "Data Conversion Plan — Vehicle and Title Records",
        "data_conversion",
        ("snguyen", "pokafor"),
        260_000,
        15,
        (
            "Source-to-target mapping for every VSAM file and DB2 table in scope",
            "Cleansing rules for VIN, owner name and address data",
            "Reconciliation by record count and fee totals per county",
            "Three mock conversions, each with exit criteria",
            "Cutover plan for the 72-hour conversion weekend",
            "Lien and brand history preserved with source references",
        ),
        "Conversion of 45 million vehicle, title and lien records from the mainframe.",
        rounds=(
            Round(
                "review",
                15,
                fails=(3,),
                notes=(
                    Note(
                        "§4.3, p. 19",
                        "critical",
                        "Fee totals are reconciled statewide only, not per county.",
                        "County-level fee reconciliation added in §4.3.2.",
                    ),
                    Note(
                        "Appendix A, file TTLHIST",
                        "major",
                        "Title history before 1998 is excluded without a business decision.",
                        "A decision memo is requested from the Titles division.",
                    ),
                    Note(
                        "§2.2, p. 7",
                        "minor",
                        "VIN check-digit cleansing should log every corrected VIN for audit.",
                        "Audit table added.",
                    ),
                ),
            ),
        ),
    ),
    Spec(
        "D-04",
        "Security Plan",
        "plan",
        ("snguyen", "pokafor"),
        110_000,
        56,
        (
            "Control implementation statements meeting TX-RAMP Level 2",
            "Classification of personal and vehicle data, including DPPA-restricted fields",
            "Incident notification to the DMV ISO within one hour",
            "Encryption at rest and in transit",
            "Plan of Action and Milestones",
        ),
        "Controls under TX-RAMP Level 2 and PCI DSS for the cloud-hosted platform.",
        rounds=(
            Round(
                "rejected",
                56,
                decide=47,
                fails=(3,),
                notes=(
                    Note(
                        "§6, p. 40",
                        "critical",
                        "Incident response notifies the DMV ISO within 24 hours; policy requires one hour.",
                        "Changed to one hour, with the on-call rota in Appendix F.",
                    ),
                    Note(
                        "§3.1, table 3", "major", "DPPA-restricted fields are not classified.", "Classification added."
                    ),
                ),
                text="Incident notification does not meet the one-hour requirement (criterion 3).",
            ),
            Round(
                "accepted",
                35,
                decide=26,
                notes=(Note("Appendix F", "minor", "The on-call rota lists an engineer who has left.", "Updated."),),
            ),
        ),
    ),
    Spec(
        "D-05",
        "Interface Control Document — County Tax Assessor-Collectors",
        "document",
        ("snguyen", "pokafor"),
        140_000,
        36,
        (
            "Each interface specified with message schema and examples",
            "Error handling and retry for real-time and batch exchanges",
            "Mutual TLS and key management",
            "Fee remittance reconciliation between the counties and the State",
            "Test approach with confirmed windows for the three county system vendors",
        ),
        "Real-time registration and fee remittance interfaces with the 254 county tax offices.",
        rounds=(
            Round(
                "conditional",
                34,
                decide=24,
                until=-8,
                fails=(5,),
                notes=(
                    Note(
                        "§3.4, p. 21",
                        "critical",
                        "The retry policy could post a fee remittance twice.",
                        "Idempotency key added to the remittance message.",
                    ),
                    Note(
                        "§6, p. 44",
                        "major",
                        "Only one of the three county system vendors has confirmed a test window.",
                        "Calls with the other two vendors are scheduled this month.",
                    ),
                    Note("§2, p. 6", "minor", "Example messages use real VINs; use synthetic ones.", "Replaced."),
                ),
                text="Provide confirmed test windows with the other two county system vendors and the updated test "
                "approach for the remittance interface.",
            ),
        ),
    ),
    Spec(
        "D-06",
        "Solution Architecture Document",
        "document",
        ("pokafor", "snguyen"),
        175_000,
        62,
        (
            "Business, application, data and technology architecture views",
            "Hosting on the State cloud landing zone, with the list of environments",
            "Integration architecture for county, dealer and NMVTIS interfaces",
            "Non-functional design for 99.9% availability, capacity and performance",
            "Architecture decisions recorded with the alternatives considered",
        ),
        "Target architecture on the State's cloud landing zone, the integration layer and environments.",
        rounds=(
            Round(
                "conditional",
                62,
                decide=52,
                until=30,
                fails=(4,),
                notes=(
                    Note(
                        "§7, p. 52",
                        "major",
                        "The availability target is stated, but no capacity model supports it.",
                        "The capacity model will be delivered as Appendix H.",
                    ),
                    Note(
                        "§4.3, figure 9",
                        "minor",
                        "NMVTIS is shown as synchronous; it is a batch exchange.",
                        "Corrected.",
                    ),
                ),
                text="Deliver the capacity model behind the 99.9% availability design, and record ADR-009 (message broker) "
                "with the alternatives considered.",
            ),
        ),
        met=(38, "Appendix H capacity model and ADR-009 received and reviewed with the DMV enterprise architect."),
    ),
    Spec(
        "D-07",
        "Master Test Plan",
        "plan",
        ("snguyen", "pokafor"),
        90_000,
        24,
        (
            "Test levels and responsibilities of the contractor and the DMV",
            "Entry and exit criteria with defect severity thresholds",
            "Test data from masked production data, in test environments only",
            "UAT with regional service centres and county tax offices",
            "Performance and security testing approach",
        ),
        "Test levels, environments, data and defect management for Releases 1.0 to 3.0.",
        rounds=(
            Round(
                "rejected",
                24,
                decide=14,
                fails=(2,),
                notes=(
                    Note(
                        "§5.1, p. 22",
                        "critical",
                        "Exit criteria define no defect severity thresholds.",
                        "Thresholds will be added for each test level.",
                    ),
                    Note(
                        "§6, p. 29",
                        "major",
                        "Masked production data is used in development environments without DMV approval.",
                        "Masked data will be limited to the test environments.",
                    ),
                    Note("§3, p. 10", "minor", "Test level names differ from the PMP.", "Aligned."),
                ),
                text="Exit criteria have no defect severity thresholds (criterion 2). Masked production data in development "
                "needs the DMV's approval.",
            ),
        ),
    ),
    Spec(
        "D-08",
        "Release 1.0 Software — Title Application Intake",
        "software_release",
        ("snguyen", "pokafor"),
        600_000,
        5,
        (
            "All Release 1.0 requirements pass system testing",
            "No open Severity 1 or 2 defects",
            "Fee calculation verified against the fee schedule for 200 sample transactions",
            "No open WCAG 2.1 AA failures in the accessibility audit",
            "Release notes, deployment guide and rollback procedure",
        ),
        "Online title applications for dealers and county clerks, with document upload and fee calculation.",
        holdback=15,
        rounds=(
            Round(
                "review",
                5,
                notes=(
                    Note(
                        "Test summary, p. 4",
                        "critical",
                        "Fees are wrong for salvage titles (samples T-118 and T-131).",
                        "The salvage fee table was out of date; fixed in build 1.0.6.",
                    ),
                    Note(
                        "Release notes §4",
                        "major",
                        "Known issue DEF-311 (uploads over 10 MB fail) has no workaround.",
                        "Workaround added: split the scan into several files.",
                    ),
                    Note(
                        "Accessibility audit, item 7",
                        "minor",
                        "Focus skips the VIN field after a validation error.",
                        "Fixed in 1.0.6.",
                    ),
                ),
            ),
        ),
    ),
    Spec(
        "D-09",
        "Disaster Recovery Plan",
        "plan",
        ("pokafor", "snguyen"),
        75_000,
        1,
        (
            "Recovery time objective of 4 hours for registration renewals",
            "Recovery point objective of 15 minutes",
            "Fallback procedures for county offices during an outage",
            "Annual disaster recovery exercise",
        ),
        "Recovery of registration and titling services after a regional outage, including county offices.",
        rounds=(Round("submitted", 1),),
    ),
    Spec(
        "D-10",
        "PCI DSS Compliance Plan",
        "plan",
        ("pokafor", "snguyen"),
        85_000,
        40,
        (
            "Scope of the cardholder data environment with a network diagram",
            "Card data never touches State systems (hosted fields or redirect)",
            "Quarterly ASV scans and the annual assessment schedule",
            "Current Attestation of Compliance from the payment processor",
        ),
        "How card payments for renewals and title fees meet PCI DSS 4.0 through the processor's hosted fields.",
        rounds=(
            Round(
                "rejected",
                40,
                decide=30,
                fails=(2,),
                notes=(
                    Note(
                        "§2, figure 1",
                        "critical",
                        "The phone system receives card numbers, which puts it in scope.",
                        "The phone system will use the processor's keypad masking; diagram to be updated.",
                    ),
                    Note(
                        "§4, p. 15",
                        "major",
                        "The processor's Attestation of Compliance expired last year.",
                        "The current one is requested from the processor.",
                    ),
                ),
                text="The phone system receives card numbers, so the cardholder data environment is larger than "
                "stated (criterion 2). Provide the processor's current Attestation of Compliance.",
            ),
            Round(
                "review",
                9,
                notes=(
                    Note(
                        "§2.3, p. 8",
                        "minor",
                        "Describe how keypad masking is tested.",
                        "Test procedure added as Appendix B.",
                    ),
                ),
            ),
        ),
    ),
    Spec(
        "D-11",
        "Training Plan",
        "training",
        ("pokafor", "snguyen"),
        55_000,
        -7,
        (
            "Training needs by role: DMV regional staff, county tax office clerks, dealers",
            "Delivery approach and schedule before Release 1.0 goes live",
            "Train-the-trainer approach for the county tax offices",
            "Completion tracking and evaluation",
        ),
        "Training for DMV staff, county tax offices and dealers ahead of Release 1.0.",
    ),
    Spec(
        "D-12",
        "UAT Test Results — Release 1.0",
        "document",
        ("snguyen", "pokafor"),
        60_000,
        -30,
        UAT_CRITERIA,
        "User acceptance testing of title application intake at three regional service centres.",
    ),
    Spec(
        "D-13",
        "Organizational Change Management Plan",
        "plan",
        ("pokafor", "snguyen"),
        70_000,
        3,
        (
            "Stakeholder analysis: DMV divisions, 254 county tax offices, dealers and law enforcement",
            "Readiness assessment approach",
            "Communications plan through go-live plus 90 days",
        ),
        "Readiness and communications for county tax offices, dealers and DMV staff.",
    ),
    Spec(
        "D-14",
        "Data Conversion Mock 1 Results",
        "data_conversion",
        ("snguyen", "pokafor"),
        90_000,
        -20,
        (
            "Record counts reconciled for every VSAM file and table",
            "Fee totals reconciled per county",
            "Run time within the 72-hour window",
            "Defects logged with root cause",
        ),
        "First mock conversion of vehicle and title records.",
    ),
    Spec(
        "D-15",
        "Mainframe Data Archive Strategy",
        "plan",
        ("pokafor", "snguyen"),
        45_000,
        -50,
        (
            "Inventory of records not converted",
            "Archive storage, retention and retrieval approach",
            "Decommissioning dependencies",
        ),
        "Where the records that are not converted will live, and for how long.",
        withdrawn=(
            30,
            "The archive approach is now part of the Data Conversion Plan (D-03), per steering committee "
            "decision SC-2026-11; the payment is reallocated under CR-007.",
        ),
    ),
]

SPECS = {"CWS": CWS, "UIM": UIM, "DMV": DMV}

OUTCOMES = {"accepted": "accepted", "conditional": "conditionally_accepted", "rejected": "rejected"}


# --- files ------------------------------------------------------------------------------------------------


def tiny_pdf(lines: list[str]) -> bytes:
    """A one-page PDF of plain text lines, small and valid enough for any viewer."""

    def esc(s: str) -> str:
        return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    text = "".join(f"({esc(line[:100])}) '\n" for line in lines)
    stream = f"BT /F1 11 Tf 14 TL 60 750 Td\n{text}ET".encode("cp1252", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _slug(text: str) -> str:
    return "-".join(re.findall(r"[A-Za-z0-9.]+", text))[:60].strip("-")


def files_for(project: Project, spec: Spec, number: int, day: date) -> list[Upload]:
    """What a contractor would attach: the document itself, plus a spreadsheet or checksums where that fits."""
    stem = f"{project.key}-{spec.code.replace('-', '')}"
    rng = random.Random(f"{stem}-{number}")  # fixed seed: the same demo every time
    lines = [
        project.name,
        "",
        spec.title,
        f"Deliverable {spec.code}, version {number}",
        f"Contract {project.contract_number}",
        f"Prepared by {project.contractor}",
        f"Submitted {day:%B} {day.day}, {day.year}",
        "",
        spec.description,
        "",
        "How this version meets the acceptance criteria:",
        *[f"  {i}. {c}" for i, c in enumerate(spec.criteria, start=1)],
        "",
        "Appendix A: change log from the previous version" if number > 1 else "",
        "",
        "(Demonstration file generated by `tracker demo`.)",
    ]
    name = "Release-Notes" if spec.type == "software_release" else _slug(spec.title)
    uploads = [Upload(f"{stem}-{name}-v{number}.pdf", "application/pdf", tiny_pdf(lines))]
    if spec.type == "software_release":
        artifacts = ["web-portal.war", "batch-jobs.jar", "db-migrations.zip", "deployment-guide.pdf"]
        sums = "".join(f"{hashlib.sha256(f'{stem}{number}{a}'.encode()).hexdigest()}  {a}\n" for a in artifacts)
        uploads.append(Upload(f"{stem}-SHA256SUMS-v{number}.txt", "text/plain", sums.encode()))
    elif spec.type == "data_conversion":
        rows = ["Entity,Source records,Target records,Difference"]
        for entity in ("Person", "Case", "Referral", "Address", "Payment", "Document"):
            source = rng.randint(200_000, 9_000_000)
            target = source - rng.choice([0, 0, 0, rng.randint(1, 40)])
            rows.append(f"{entity},{source},{target},{source - target}")
        uploads.append(Upload(f"{stem}-Reconciliation-v{number}.csv", "text/csv", "\n".join(rows).encode()))
    elif "Traceability" in spec.title:
        rows = ["Requirement ID,Design element,Test case,Release"]
        rows += [
            f"REQ-{i:04d},SDD-{rng.randint(2, 9)}.{rng.randint(1, 12)},TC-{i:04d},R{rng.randint(1, 4)}"
            for i in range(1, 41)
        ]
        uploads.append(Upload(f"{stem}-Trace-Matrix-v{number}.csv", "text/csv", "\n".join(rows).encode()))
    return uploads


# --- the timeline ---------------------------------------------------------------------------------------


class _Project:
    """One project's people, calendar and store, as its stories need them."""

    def __init__(self, db: Session, project: Project, store: FileStore, now: datetime) -> None:
        self.db, self.project, self.store = db, project, store
        self.zone = ZoneInfo(project.timezone)
        self.today = project_today(project, now)
        self.holidays = project_holidays(project, self.today - timedelta(days=200), days=400)
        members = db.exec(
            select(User, Membership.role)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.project_id == project.id)
        ).all()
        self.users = {u.username: u for u, _ in members}
        self.manager = next(u.username for u, role in members if role == "manager")
        self.contractor = next(u.username for u, role in members if role == "contractor")
        self._access: dict[str, tuple] = {}

    def who(self, username: str) -> tuple:
        """(principal, access) of a member, as the service functions take them."""
        if username not in self._access:
            actor = principal(self.users[username])
            self._access[username] = (actor, projects.get_for(self.db, actor, self.project.key))
        return self._access[username]

    def day(self, ago: int) -> date:
        """The business day `ago` business days before today (negative: ahead)."""
        step, day = (-1 if ago > 0 else 1), self.today
        for _ in range(abs(ago)):
            day += timedelta(days=step)
            while not is_business_day(day, self.holidays):
                day += timedelta(days=step)
        return day

    def at(self, ago: int, hour: int, minute: int = 0) -> datetime | None:
        """That day at a local office hour; None for today or later, which has not happened yet."""
        if ago < 1:
            return None
        start = datetime.combine(self.day(ago), datetime.min.time(), self.zone)
        return start + timedelta(hours=hour, minutes=minute)


def _plan(p: _Project, spec: Spec) -> Deliverable:
    return planning.create(
        p.db,
        *p.who(p.manager),
        parse(
            DeliverableForm,
            {
                "code": spec.code,
                "title": spec.title,
                "description": spec.description,
                "type": spec.type,
                "due_date": p.day(spec.due).isoformat(),
                "owner_id": p.users[spec.team[0]].id,
                "payment_amount": spec.amount,
                "holdback_pct": spec.holdback,
                "criteria": "\n".join(spec.criteria),
            },
        ),
    )


def _story(p: _Project, spec: Spec, d: Deliverable) -> Iterator[datetime | None]:
    """One deliverable's life after planning, step by step: it yields the time of its next step, which runs then."""
    db = p.db
    lead = p.who(spec.team[0])
    if spec.due >= AGREED_BY:  # the DED: the State agrees that afternoon, the contractor acknowledges the next day
        yield p.at(PLANNED_AT, 15)
        criteria.agree(db, *p.who(p.manager), d)
        if spec.due >= ACKNOWLEDGED_BY:
            yield p.at(PLANNED_AT - 1, 10)
            criteria.acknowledge(db, *p.who(p.contractor), d)
    for number, rnd in enumerate(spec.rounds, start=1):
        yield p.at(rnd.at, 10, 5)
        notes = (
            "Submitted for State review under the Deliverable Expectation Document."
            if number == 1
            else f"Version {number} addresses the findings on version {number - 1}; see the change log in Appendix A."
        )
        submissions.submit(
            db, *p.who(p.contractor), d, notes, files_for(p.project, spec, number, p.day(rnd.at)), p.store
        )
        if rnd.outcome == "submitted":
            break
        yield p.at(rnd.at - 1, 9, 40)
        reviews.start_review(db, *lead, d, [p.users[u].id for u in spec.team])
        carried = reviews.current_comments(db, d)
        raised: list[Comment] = []
        half = (len(rnd.notes) + 1) // 2
        for k, note in enumerate(rnd.notes):
            yield p.at(rnd.at - 2 - (k >= half), 10 + k, 30)
            reviewer = p.who(spec.team[k % len(spec.team)])
            form = CommentForm(location=note.location, text=note.text, severity=Severity(note.severity))
            raised.append(reviews.add_comment(db, *reviewer, d, form))
        for k, (comment, note) in enumerate(zip(raised, rnd.notes, strict=True)):
            if note.response:
                yield p.at(rnd.at - 5, 13, 15 + 6 * k)
                reviews.respond(db, *p.who(p.contractor), comment.id, note.response)
        ded = planning.active_criteria(db, d.id)
        if rnd.outcome == "review":  # under review now: the reviewers have recorded some results so far
            for k, c in enumerate(ded[: (len(ded) + 1) // 2]):
                yield p.at(rnd.at - 6, 10, 4 * k)
                _record(p, lead, d, c, number, rnd, raised)
            break
        decided = rnd.decide or rnd.at - 8
        assert decided <= rnd.at - 7, f"{spec.code}: the decision comes after the comments and answers"
        for k, c in enumerate(ded):  # the day before the decision
            yield p.at(decided + 1, 10, 4 * k)
            _record(p, lead, d, c, number, rnd, raised)
        yield p.at(decided + 1, 11)
        for comment in carried:  # what version n-1 was rejected for is fixed in version n
            reviews.set_disposition(db, *lead, comment.id, Disposition.RESOLVED)
        for comment, note in zip(raised, rnd.notes, strict=True):
            if disposition := _disposition(rnd.outcome, note):
                reviews.set_disposition(db, *lead, comment.id, disposition)
        yield p.at(decided, 15, 30)
        _decide(p, d, rnd)
    if spec.met:
        yield p.at(spec.met[0], 14)
        decisions.conditions_met(db, *p.who(p.manager), d, spec.met[1], store=p.store)
    if spec.withdrawn:
        yield p.at(spec.withdrawn[0], 16)
        decisions.withdraw(db, *p.who(p.manager), d, spec.withdrawn[1])


def _record(
    p: _Project, lead: tuple, d: Deliverable, criterion: Criterion, number: int, rnd: Round, raised: list[Comment]
) -> None:
    day = project_today(p.project)
    if criterion.position in rnd.fails:
        serious = [c for c in raised if c.severity != Severity.MINOR] or raised
        where = serious[rnd.fails.index(criterion.position) % len(serious)].location if serious else "the findings"
        outcome, evidence = "not_met", f"Not met in version {number}: see the comment at {where}."
    else:
        outcome, evidence = "met", f"Met in version {number}; confirmed at the review session on {day:%B} {day.day}."
    reviews.record_result(p.db, *lead, d, criterion.id, outcome, evidence)


def _disposition(outcome: str, note: Note) -> Disposition | None:
    """How the review lead closes a comment before the decision; None leaves it open (and carried forward)."""
    if note.severity == Severity.MINOR:
        return Disposition(note.closed)
    if outcome == "rejected":
        return None
    if outcome == "conditional" and note.severity == Severity.MAJOR:
        return Disposition.DEFERRED  # tracked as a condition of the acceptance
    return Disposition.RESOLVED


def _decide(p: _Project, d: Deliverable, rnd: Round) -> None:
    values = {"outcome": OUTCOMES[rnd.outcome]}
    if rnd.outcome == "accepted":
        values["findings"] = "Every acceptance criterion is met and every comment is resolved or dispositioned."
    elif rnd.outcome == "conditional":
        values |= {
            "findings": "Fit for use; the holdback stays until the conditions are met.",
            "conditions": rnd.text,
            "conditions_due": p.day(rnd.until).isoformat(),
            "conditions_owner_id": p.users[p.contractor].id,
        }
    else:
        values["findings"] = f"Not accepted. {rnd.text}"
    decisions.decide(p.db, *p.who(p.manager), d, parse(DecisionForm, values), store=p.store)


def load(db: Session, store: FileStore, now: datetime | None = None) -> int:
    """Replay every project's deliverable stories in time order; returns the number of deliverables."""
    now = now or utcnow()
    queue: list[tuple[datetime, int, Iterator]] = []

    def advance(seq: int, story: Iterator, last: datetime | None) -> None:
        at = next(story, None)  # runs the story's current step, up to the time of its next one
        if at is not None:
            assert last is None or at >= last, "a story's steps go forward in time"
            heapq.heappush(queue, (at, seq, story))

    count = 0
    for key, specs in SPECS.items():  # planned project by project, so each project's ids run in code order
        p = _Project(db, db.exec(select(Project).where(Project.key == key)).one(), store, now)
        for index, spec in enumerate(specs):
            with frozen_time(p.at(PLANNED_AT, 9, 2 * index)):
                d = _plan(p, spec)
            advance(count, _story(p, spec, d), None)
            count += 1
    while queue:
        at, seq, story = heapq.heappop(queue)
        with frozen_time(at):
            advance(seq, story, at)
    service.run_clocks(db, store, now)  # what a running server's contract clock would have done by now
    db.flush()
    return count


def render_records(db: Session, store: FileStore) -> None:
    """Every demo decision's letters, each composed and kept at its decision's moment, as the server did then; the
    rendering itself spread over every core, since it is most of the demo's loading time."""
    decided = db.exec(select(Decision.id, Decision.decided_at).order_by(Decision.id)).all()
    composed = []
    for decision_id, decided_at in decided:
        with frozen_time(decided_at):
            c = records.compose_for(db, decision_id, store)
        if isinstance(c, records.Composed):
            composed.append((c, decided_at))
    letters = [letter for c, _ in composed for _, letter in c.letters]
    rendered = iter(records.render_all(letters, workers=os.cpu_count() or 1))
    for c, decided_at in composed:
        with frozen_time(decided_at):
            records.keep(db, store, c, [next(rendered) for _ in c.letters])
