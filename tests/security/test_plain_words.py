"""Every message a person or a client reads when input is refused: it names the field by its label, says what to
do, and carries no code identifier or library wording. Walked over every field of every form and API body with
bad values of every kind, and through real requests for the API's own parameter and body checks."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest
from pydantic import BaseModel, ValidationError

import tracker
from tracker.core.errors import FormError
from tracker.core.forms import ApiBody, Form, errors_of
from tracker.core.messages import label_of, parameter_message
from tracker.deliverables import workflow
from tracker.deliverables.models import Status

for _module in pkgutil.walk_packages(tracker.__path__, "tracker."):
    importlib.import_module(_module.name)

# What libraries say and people do not: pydantic's and msgspec's phrasing, Python's.
LIBRARY = re.compile(
    r"Input should|String should|Value error|valid (integer|string|dictionary|list|boolean|date|"
    r"decimal)|instance of|Field required|Unable to parse|Decimal input|Expected `|type=|pydantic|"
    r"Traceback|object has no attribute|NoneType|RFC ?3339"
)
# A value in quotes is one the client may send ('conditionally_accepted'); anything else shaped like code is a leak.
QUOTED = re.compile(r"'[^']*'|“[^”]*”|\"[^\"]*\"")
IDENTIFIER = re.compile(r"\b[a-z]+_[a-z_]+\b|\b(pct|id|ids)\b|\b[A-Z][a-z]+[A-Z][A-Za-z]*\b")
BAD = [
    None,
    "",
    "x" * 100_001,
    "a\x01b",
    {"a": 1},
    [1],
    ["x", {"y": 2}],
    "not a number",
    10**40,
    -(10**40),
    "2026-13-45",
    True,
    1.5,
    -1,
    0,
    "1e309",
    "NaN",
]


def problems_in(message: str) -> list[str]:
    found = [m.group() for m in LIBRARY.finditer(message)]
    found += [m.group() for m in IDENTIFIER.finditer(QUOTED.sub("", message))]
    return found


def _subclasses(cls: type) -> set[type]:
    return {s for c in cls.__subclasses__() for s in (c, *_subclasses(c))}


MODELS = sorted(
    (m for m in _subclasses(Form) | _subclasses(ApiBody) if m.__module__.startswith("tracker.")),
    key=lambda m: (m.__module__, m.__name__),
)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: f"{m.__module__.removeprefix('tracker.')}.{m.__name__}")
def test_every_field_answers_bad_values_in_plain_words_naming_it(model: type[BaseModel]):
    wrong = []
    for name in model.model_fields:
        label = label_of(model, name)
        assert not problems_in(label), f"{model.__name__}.{name} is labelled {label!r}"
        for bad in BAD:
            try:
                model.model_validate({name: bad})
                continue
            except ValidationError as exc:
                message = errors_of(exc, model).get(name)
            except FormError as exc:  # a validator that checks several fields at once
                message = exc.errors.get(name)
            if message is None:
                continue
            if problems_in(message) or label.lower() not in message.lower():
                wrong.append(f"{name} = {str(bad)[:20]!r}: {message}")
    assert not wrong, wrong


def test_labels_come_from_the_form_before_the_name():
    from tracker.deliverables.planning import DeliverableForm
    from tracker.register.actions.service import ActionForm

    assert label_of(DeliverableForm, "holdback_pct") == "Holdback %"
    assert label_of(DeliverableForm, "owner_id") == "Review lead"
    assert label_of(ActionForm, "description") == "Action"
    assert label_of(None, "conditions_owner_id") == "Conditions owner"


@pytest.mark.parametrize(
    ("action", "status"), [(a, s) for a in workflow.Action for s in Status if (a, s) not in workflow.TRANSITIONS]
)
def test_an_action_refused_in_its_state_says_so_in_words(action, status):
    with pytest.raises(workflow.NotAllowed) as refused:
        workflow.next_status(
            action, status, None if action is workflow.Action.DEEM_ACCEPT else frozenset(workflow.Perm)
        )
    message = refused.value.message
    assert (
        message == f"A deliverable that is {workflow.STATUS_LABELS[status].lower()} cannot be "
        f"{workflow.DONE_WORDS[action]}."
    ), message
    assert not problems_in(message)


def test_the_api_refuses_a_bad_body_in_the_forms_words(as_user, world):
    manager = as_user("manager")
    r = manager.api(
        "POST",
        "/api/v1/projects/TST/risks",
        json={"title": 5, "probability": "high", "next_review_date": "soon", "surprise": 1},
    )
    assert r.status_code == 400, r.text
    body = r.json()
    messages = {e.get("key"): e["message"] for e in body["extra"]["errors"]}
    assert messages["title"] == "Title must be text."
    assert messages["probability"] == "Probability must be a whole number."
    assert messages["next_review_date"] == "Next review must be a date, written YYYY-MM-DD."
    assert messages["surprise"] == "“surprise” is not a field of this request: remove it."
    assert body["detail"] == "Some fields need attention."
    for message in messages.values():
        assert not problems_in(message), message


def test_the_api_refuses_bad_parameters_and_bodies_that_are_not_objects_in_words(as_user, world):
    manager = as_user("manager")
    r = manager.api("GET", "/api/v1/projects/TST/status-reports/draft?period_end=soon")
    assert r.status_code in (400, 422) and not problems_in(str(r.json())), r.json()
    r = manager.api("POST", "/api/v1/projects/TST/risks", json=[1, 2])
    assert r.status_code == 400
    assert r.json()["extra"]["errors"] == [{"message": "The request body must be a JSON object of named values."}]
    r = manager.api(
        "POST", "/api/v1/projects/TST/risks", content=b'{"title": ', headers={"content-type": "application/json"}
    )
    assert r.status_code == 400 and not problems_in(r.json()["detail"]), r.json()


def test_parameters_checked_by_the_framework_are_named_in_words():
    assert parameter_message("Expected `int`, got `str`", "Page") == "Page must be a whole number."
    assert parameter_message("Invalid RFC3339 encoded date", "Since") == "Since must be a date, written YYYY-MM-DD."
    assert parameter_message("Expected `bool`, got `str`", "Overdue") == "Overdue must be yes or no (true or false)."
    assert parameter_message("Object contains unknown field `x`", "Filter") == "Filter is not valid."


def test_a_page_form_names_the_field_beside_it(as_user, world):
    staff = as_user("staff")
    r = staff.post("/projects/TST/risks/", data={"title": "x" * 300, "probability": "often", "impact": "3"})
    assert r.status_code == 422
    assert "Title can be at most 200 characters long; this one has 300. Shorten it." in r.text
    assert "Probability must be a whole number." in r.text or "Probability: choose a value from 1 to 5." in r.text
    assert "x" * 300 in r.text  # what the user typed is kept


def test_csv_downloads_name_their_charset_once(as_user, world):
    r = as_user("manager").get("/projects/TST/risks/export?format=csv")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
