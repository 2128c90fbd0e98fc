"""Word pools the benchmark records are written from: short, plausible PMO prose, varied enough that searches and
sorts meet realistic spreads of values."""

from __future__ import annotations

FIRST_NAMES = (
    "Aaron", "Abigail", "Adrian", "Aisha", "Alan", "Alicia", "Amir", "Ana", "Andre", "Angela", "Arjun", "Beatriz",
    "Ben", "Bianca", "Brandon", "Carla", "Carlos", "Chen", "Chloe", "Chris", "Dana", "Daniel", "Deepa", "Derek",
    "Diego", "Elena", "Eli", "Emily", "Eric", "Fatima", "Felix", "Grace", "Hannah", "Hector", "Imani", "Isaac",
    "Ivy", "Jamal", "Javier", "Jenna", "Joan", "Jorge", "Julia", "Kai", "Karen", "Kenji", "Laila", "Lena", "Leo",
    "Linh", "Lucas", "Maya", "Marcus", "Mei", "Miguel", "Nadia", "Nathan", "Nina", "Omar", "Paula", "Priya",
    "Quinn", "Rafael", "Rana", "Rosa", "Ryan", "Sara", "Sean", "Sofia", "Tariq", "Tessa", "Theo", "Uma", "Victor",
    "Wei", "Yara", "Yusuf", "Zoe",
)  # fmt: skip
LAST_NAMES = (
    "Abbott", "Alvarez", "Bauer", "Bennett", "Brooks", "Campbell", "Castillo", "Chang", "Cohen", "Diaz", "Dubois",
    "Edwards", "Evans", "Fischer", "Flores", "Foster", "Garcia", "Gonzalez", "Gupta", "Hayes", "Hughes", "Ibrahim",
    "Jensen", "Kaur", "Kelly", "Khan", "Kim", "Kowalski", "Larsen", "Lopez", "Martin", "Mendoza", "Mitchell",
    "Morales", "Murphy", "Nakamura", "Nguyen", "Novak", "Okafor", "Olsen", "Ortiz", "Patel", "Perez", "Price",
    "Ramirez", "Reyes", "Rossi", "Russo", "Sanchez", "Santos", "Schmidt", "Shah", "Singh", "Sullivan", "Tanaka",
    "Torres", "Turner", "Vargas", "Walsh", "Watanabe", "Weber", "Wong", "Yamamoto", "Young", "Zhang",
)  # fmt: skip
STATE_TITLES = ("Acceptance Manager", "Project Director", "Business Analyst", "Test Lead", "Security Analyst",
                "Data Steward", "Contract Manager", "Quality Assurance Lead", "Enterprise Architect",
                "Organizational Change Lead", "Training Coordinator", "Budget Analyst")  # fmt: skip
LEADER_TITLES = ("Chief Information Officer", "Deputy Director", "Program Sponsor", "Chief Deputy Director",
                 "Agency Information Officer")  # fmt: skip
CONTRACTOR_TITLES = ("Delivery Manager", "Engagement Lead", "Solution Architect", "Test Manager",
                     "Data Conversion Lead", "Release Manager")  # fmt: skip
DEPARTMENTS = ("Department of Technology", "Department of Social Services", "Employment Development Department",
               "Department of Motor Vehicles", "Department of Health Care Services", "Department of Corrections",
               "Franchise Tax Board", "Department of Public Health", "Department of Education",
               "Department of Transportation")  # fmt: skip
INTEGRATORS = ("Northbridge Systems Integration LLC", "Apex Public Sector Consulting", "Keystone Digital Government",
               "Meridian Civic Technologies", "Harborview Solutions Group", "Summit Gov Partners",
               "Cascade Integration Services", "Bluestone Public Systems")  # fmt: skip

# (key, name) of the programmes; the first is the largest.
PROGRAMMES = (
    ("BIG", "Integrated Eligibility and Enrollment Platform"),
    ("CWS", "Child Welfare Services Modernization"), ("UIM", "Unemployment Insurance Modernization"),
    ("DMV", "Vehicle Registration Platform Replacement"), ("MMIS", "Medicaid Management Information System"),
    ("TAX", "Enterprise Tax Processing Modernization"), ("CORR", "Offender Case Management Replacement"),
    ("LIC", "Professional Licensing Portal"), ("HIE", "Health Information Exchange Onboarding"),
    ("ERP", "Statewide Financial System Upgrade"), ("GRNT", "Grants Management Consolidation"),
    ("WIC", "WIC Benefits Card Transition"), ("CHLD", "Child Support Enforcement System"),
    ("EDU", "Student Information Data Warehouse"), ("ROAD", "Highway Asset Management System"),
    ("PARK", "Parks Reservation Platform"), ("VOTE", "Voter Registration Database Replacement"),
    ("WATR", "Water Rights Permitting System"), ("FIRE", "Wildfire Dispatch Modernization"),
    ("PENS", "Pension Administration Replacement"), ("HR", "Human Capital Management Cloud Migration"),
    ("PROC", "eProcurement Marketplace"), ("CRT", "Court Case Management Integration"),
    ("VITL", "Vital Records Digitization"), ("HOME", "Housing Assistance Case Management"),
)  # fmt: skip
ZONES = ("America/Los_Angeles", "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix")
CALENDARS = ("US-CA", "US-NY", "US-TX", "US-CO", "US-AZ")  # matching ZONES

AREAS = ("Intake", "Eligibility", "Case Management", "Payments", "Reporting", "Interfaces", "Portal", "Identity",
         "Notices", "Document Imaging", "Appeals", "Scheduling", "Provider", "Finance", "Analytics",
         "Mobile")  # fmt: skip
DELIVERABLE_KINDS = {
    "document": ("Requirements Specification", "System Design Document", "Interface Control Document",
                 "Requirements Traceability Matrix", "Operations Manual", "Security Assessment Report"),
    "software_release": ("Release", "Maintenance Release", "Hotfix Bundle"),
    "data_conversion": ("Data Conversion Plan", "Mock Conversion Results", "Data Cleansing Report"),
    "training": ("Training Plan", "Train-the-Trainer Materials", "End-User Training Curriculum"),
    "plan": ("Test Plan", "Deployment Plan", "Disaster Recovery Plan", "Organizational Change Management Plan"),
    "other": ("Knowledge Transfer Package", "Warranty Period Report", "Accessibility Conformance Report"),
}  # fmt: skip
CRITERIA = (
    "Every requirement in scope is traced to a design element and a test case",
    "Reviewed and approved by the business owner",
    "Consistent with the approved System Design Document",
    "Open defects listed with severity and agreed disposition",
    "Meets the WCAG 2.1 AA accessibility standard",
    "Security controls mapped to NIST SP 800-53 moderate baseline",
    "Test evidence attached for each scenario",
    "Record counts and financial totals reconciled",
    "Rollback procedure documented and rehearsed",
    "Performance targets met under peak load",
    "Delivered in the agreed template and file formats",
    "Change requests referenced for every deviation",
    "Data retention rules applied to every entity",
    "Sign-off by the county or program representatives",
)  # fmt: skip
LOCATIONS = ("§{a}.{b}, p. {p}", "Appendix {x}, table {x}-{b}", "Section {a}, figure {b}", "Tab 'Trace', row {p}",
             "Release notes, item {p}", "Chapter {a}, p. {p}")  # fmt: skip
COMMENTS = {
    "critical": ("The {area} interface omits the required error handling for rejected records.",
                 "Sealed records are converted without any access restriction.",
                 "No evidence is provided that the {area} scenarios were executed.",
                 "The reconciliation covers record counts only; financial totals are missing."),
    "major": ("The {area} section contradicts the approved design on record retention.",
              "Test cases for {area} are referenced but not included.",
              "The rollback procedure for {area} has no decision points.",
              "Several {area} requirements are marked deferred without a change request."),
    "minor": ("Use the State's code table for county codes, not the legacy codes.",
              "The table of contents does not match the section numbering.",
              "Spell out acronyms on first use ({area}).",
              "Dates in the {area} schedule mix two formats."),
}  # fmt: skip
RESPONSES = ("Corrected in the next version.", "Added the missing material as a new appendix.",
             "We disagree: the contract's Exhibit C allows this approach; see the cover note.",
             "Will be addressed in the {area} release update.", "Fixed; see the change log.")  # fmt: skip
FINDINGS = ("Criteria {c} are not met. Resubmit with the findings in the comment log addressed.",
            "The {area} material is incomplete (criteria {c}); the open critical comments must be "
            "resolved.")  # fmt: skip
CONDITIONS = ("1. Deliver the outstanding {area} test evidence. 2. Close the deferred major comments.",
              "Provide the signed {area} sign-off from the program owner.")  # fmt: skip
WITHDRAWN = ("Folded into another deliverable by change request CR-{n:03d}.",
             "De-scoped by steering committee decision SC-{n:03d}; the payment is reallocated.")  # fmt: skip

RISK_SUBJECTS = ("the {area} vendor", "key {area} staff", "the {area} interface partner", "the county offices",
                 "the data conversion team", "the hosting provider", "the State's test team",
                 "the legacy mainframe")  # fmt: skip
RISK_TEMPLATES = (
    ("{Subject} may not be available when {area} testing starts",
     "If {subject} is not available for {area} testing, then the release date slips."),
    ("{Area} requirements may keep changing late in the build",
     "If {area} requirements change after design sign-off, then rework delays the build."),
    ("Legacy {area} data quality may be worse than assumed",
     "If legacy {area} data holds more defects than assumed, then conversion runs fail reconciliation."),
    ("{Subject} may not meet the security baseline",
     "If {subject} cannot evidence the required controls, then the authority to operate is delayed."),
    ("Budget for {area} may be cut in the next fiscal year",
     "If the {area} budget is cut, then scope must be deferred to a later release."),
    ("{Area} performance may not scale to peak volumes",
     "If {area} response times exceed targets at peak, then users fall back to manual work."),
)  # fmt: skip
TRIGGERS = ("Two consecutive missed milestones", "Defect backlog above 200", "Vendor staff turnover above 20%",
            "Reconciliation variance above tolerance", "Budget change proposal denied")  # fmt: skip
MITIGATIONS = ("Weekly checkpoint with {subject}; escalate slips at the steering committee.",
               "Add a second {area} test cycle and freeze scope two sprints earlier.",
               "Profile the {area} data now and cleanse at source.")  # fmt: skip
CONTINGENCIES = ("Move {area} to the next release and keep the legacy process running.",
                 "Engage the standby vendor under the existing master agreement.")  # fmt: skip
ACTIONS = ("Confirm {area} test windows with {subject}", "Draft the {area} change request",
           "Run a data profiling pass on {area}", "Schedule the {area} risk review workshop",
           "Update the {area} schedule baseline", "Brief the sponsor on {area} options",
           "Collect {area} staffing commitments in writing",
           "Review the {area} defect backlog with the vendor")  # fmt: skip
ISSUE_TEMPLATES = (
    ("{Area} test environment unavailable", "The {area} test environment has been down, blocking test execution."),
    ("{Area} interface file rejected by partner", "The partner rejects the {area} file on a schema mismatch."),
    ("Key {area} analyst resigned", "The contractor's lead {area} analyst left; knowledge transfer is incomplete."),
    ("{Area} defects above exit criteria", "Open {area} defects exceed the agreed exit criteria for UAT."),
    ("Late State decision on {area} policy", "The {area} build waits on a policy decision from the program."),
)  # fmt: skip
IMPACTS = ("Delays {area} testing by about two weeks.", "Puts the {area} go-live date at risk.",
           "Adds rework to the {area} build.", "Blocks county readiness activities.")  # fmt: skip
ESCALATIONS = ("Needs a decision above the project on {area} scope.", "Unresolved past the agreed date; the "
               "contractor disputes responsibility.")  # fmt: skip
RESOLUTIONS = ("Workaround agreed and documented; {area} testing resumed.", "Change request approved; {area} "
               "schedule rebaselined.", "Root cause fixed by the contractor and verified by the State.")  # fmt: skip
DECISIONS = ("Proceed with the {area} workaround until the fix is deployed.", "Defer the {area} feature to the "
             "next release.", "Approve overtime for the {area} test team for two weeks.")  # fmt: skip
DECIDERS = ("Steering committee", "Program sponsor", "Change control board", "Project director")
