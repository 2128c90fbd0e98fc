"""Schemathesis against the served OpenAPI schema: every /api/v1 operation, as a manager with an API token, with
generated valid and invalid input. No answer may be a 5xx or stray from the schema (status code, content type,
headers, body), and each must refuse the request without the token.

Driven through hypothesis directly (schemathesis's lazy pytest loader does not run on pytest 9.2); a few examples
per operation and mode keep it to seconds."""

from __future__ import annotations

import zlib

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    ignored_auth,
]
EXAMPLES = 5


def test_every_api_operation_answers_within_its_schema(app, seeded):
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    auth = {"Authorization": f"Bearer {seeded.token}"}
    failures, tried = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        tried += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def run(case) -> None:
                # Three cases in four aim at rows that exist, so the handlers' own logic runs; the fourth keeps
                # the generated ids, so odd ones (huge, negative, unknown) are tried too.
                params = case.path_parameters or {}
                if zlib.crc32(repr(sorted(params.items())).encode()) % 4:
                    case.path_parameters = {name: seeded.ids.get(name, value) for name, value in params.items()}
                case.call_and_validate(headers=auth, checks=CHECKS)

            try:
                run()
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"{operation.label} ({mode}): {exc}")
    assert tried >= 40 and all(o.ok().path.startswith("/api/v1/") for o in schema.get_all_operations())
    assert not failures, "\n\n".join(failures)


def test_api_call_sequences_stay_within_the_schema(app, seeded, conn):
    """Stateful: schemathesis links operations from the response schemas (a created risk's id feeds its GET, PATCH,
    actions and conversion; a created deliverable's id its comments and decision; ...) and runs sequences of them
    with valid input in the seeded project, so the handlers see rows that the sequence itself made and changed."""
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    schema.config.generation.update(modes=[GenerationMode.POSITIVE])
    auth = {"Authorization": f"Bearer {seeded.token}"}
    machine = schema.as_state_machine()
    assert len(machine.bundles) >= 5, "schemathesis found too few links between operations to chain them"
    created: set[str] = set()  # operations that made a row the rest of their sequence could use

    class Sequences(machine):  # type: ignore[valid-type,misc]
        def setup(self) -> None:  # every sequence starts from the seeded rows, so runs can be replayed
            self.savepoint = conn.begin_nested()

        def teardown(self) -> None:
            self.savepoint.rollback()

        def before_call(self, case) -> None:
            if case.path_parameters and "key" in case.path_parameters:
                case.path_parameters["key"] = seeded.ids["key"]

        def get_call_kwargs(self, case):
            return {"headers": auth}

        def validate_response(self, response, case, **kwargs):
            if response.status_code == 201:
                created.add(case.operation.label)
            case.validate_response(response, checks=CHECKS[:-1])  # ignored_auth needs a request without the token

    Sequences.run(
        settings=settings(
            max_examples=200,
            stateful_step_count=8,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    assert len(created) >= 2, f"the sequences created too little to chain on: {created}"
