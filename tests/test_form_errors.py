"""A form's error summary: each line links to its field and names it once (most messages name their field already)."""

from __future__ import annotations

from tracker.core.web import make_environment


def test_the_summary_names_each_field_once_and_links_to_it():
    env = make_environment()
    template = env.from_string('{% from "_macros.html" import form_errors %}{{ form_errors(errors) }}')
    errors = {
        "target": "Target must be a number, such as 99.5.",
        "owner_id": "Choose a member of this project who can see the register.",
        "deliverable_ids": "Choose deliverables of this project.",
        "__all__": "Someone else saved first.",
    }
    html = " ".join(template.render(errors=errors).split())
    assert '<li><a href="#f-target">Target must be a number, such as 99.5.</a></li>' in html
    assert html.count("Target") == 1
    assert '<a href="#f-owner_id">Owner</a>: Choose a member' in html
    assert '<a href="#f-deliverable_ids">Deliverables</a>: Choose deliverables' not in html  # it names them
    assert '<a href="#f-deliverable_ids">Choose deliverables of this project.</a>' in html
    assert "<li>Someone else saved first.</li>" in html
