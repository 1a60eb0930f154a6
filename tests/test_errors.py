"""A unique key the database enforces is a 409, wherever it surfaces; other integrity errors are not.

The race is staged inside the request: just before the ORM inserts the organization, a row with
the same code goes in on the same connection, as a concurrent request that passed the same check
a moment earlier would have committed it. The service's own check has already run, so only the
database's unique key can refuse the insert, at flush, as it does on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, insert
from sqlalchemy.exc import IntegrityError

from app.orgs.models import Organization


@contextmanager
def just_before_insert(change: Callable[[Any, Organization], None]) -> Iterator[list[str]]:
    """Run ``change(connection, organization)`` once, just before an organization is inserted."""
    fired: list[str] = []

    def before_insert(mapper: Any, connection: Any, target: Organization) -> None:
        if not fired:
            fired.append(target.code)
            change(connection, target)

    event.listen(Organization, "before_insert", before_insert)
    try:
        yield fired
    finally:
        event.remove(Organization, "before_insert", before_insert)


def _won_the_race(connection: Any, target: Organization) -> None:
    connection.execute(insert(Organization).values(code=target.code, name="先到者", kind="farm_household"))


def test_a_code_taken_between_check_and_insert_is_a_409_in_the_error_shape(client, auth):
    headers = auth("admin")
    body = {"code": "RACE-ORG", "name": "后到者", "kind": "farm_household"}
    with just_before_insert(_won_the_race) as fired:
        response = client.post("/api/v1/organizations", json=body, headers=headers)
    assert fired == ["RACE-ORG"]
    assert response.status_code == 409
    assert response.get_json() == {
        "code": 409,
        "status": "Conflict",
        "message": "Another record already has this value (code), which must be unique; change it or retry.",
    }
    # The failed flush was rolled back: the session serves the next request.
    assert client.post("/api/v1/organizations", json=body, headers=headers).status_code == 201


def test_other_integrity_errors_are_not_a_conflict(client, auth):
    headers = auth("admin")

    def dangling_cooperative(connection: Any, target: Organization) -> None:
        target.cooperative_id = 10**9  # no such organization: a foreign key, not a unique key

    body = {"code": "DANGLING-ORG", "name": "无主", "kind": "farm_household"}
    # In tests an unexpected error is re-raised (errors.handle_unexpected), so it fails loudly.
    with just_before_insert(dangling_cooperative), pytest.raises(IntegrityError):
        client.post("/api/v1/organizations", json=body, headers=headers)
