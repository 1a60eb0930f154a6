"""A bounded property-based run of the whole API against its own OpenAPI document (schemathesis).

All four of schemathesis' phases: the parametrized test runs, per operation, the examples,
coverage and fuzzing phases (schemathesis 4 enables all three by default; ``max_examples`` bounds
fuzzing), and the stateful test chains calls along the links schemathesis infers between
operations. Requests go with an admin's and with a cooperative's token. No response may be a 5xx;
in the per-operation phases every status code and body must also be the documented one, and data
the schema forbids must be refused with a 4xx.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def tokens(auth, make_org):
    coop = make_org(kind="cooperative")
    return {"admin": auth("admin"), "cooperative": auth("cooperative", org=coop)}


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
def test_api_matches_its_openapi_document(case, tokens):
    for headers in tokens.values():
        case.call_and_validate(headers=headers, checks=CHECKS)


@pytest.mark.slow
def test_stateful_sequences_of_calls_find_no_server_error(app, tokens):
    """schemathesis' stateful phase: chains of calls along the links it infers between operations
    (a created batch's id fed to its events, split, verify ...), as an admin and as a cooperative.
    Only 5xx is checked here; the single-operation test above checks the rest of the contract."""
    api = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    base = api.as_state_machine()
    calls: list[str] = []

    for headers in tokens.values():

        class Workflow(base):  # type: ignore[valid-type, misc]
            sent = headers

            def get_call_kwargs(self, case):
                return {"headers": self.sent}

            def validate_response(self, response, case, additional_checks=None, **kwargs):
                calls.append(f"{case.method} {case.path}")
                case.validate_response(response, checks=[not_a_server_error], transport_kwargs=kwargs)

        Workflow.run(
            settings=settings(
                max_examples=25,
                stateful_step_count=6,
                deadline=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
        )
    # Sequences ran, across many operations (a run that sent nothing would prove nothing).
    assert len(calls) > 50 and len(set(calls)) > 10, (len(calls), sorted(set(calls)))
