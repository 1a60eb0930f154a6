"""Batches, events and inspections for the compliance and desk tests (built through the services)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

from flask.testing import FlaskClient

from app.auth import Actor
from app.batches import service as batches
from app.batches.models import Batch
from app.orgs.models import User
from tests.conftest import settle

_reports = itertools.count(1)


def actor_of(user: User) -> Actor:
    return Actor(user=user, org=user.organization)


def new_batch(
    user: User,
    product: str = "brick_tea",
    produced_at: dt.datetime | None = None,
    site: int | None = None,
    forms: list[str] | None = None,
) -> Batch:
    batch = batches.create_batch(
        actor_of(user),
        product=product,
        quantity=Decimal("100"),
        unit="kg",
        produced_at=produced_at,
        site=site,
        forms=forms,
    )
    settle()
    return batch


def add_event(batch: Batch, user: User, stage: str, occurred_at: dt.datetime, data: dict[str, Any]) -> Any:
    result = batches.append_event(batch.id, actor_of(user), stage=stage, occurred_at=occurred_at, data=data)
    settle()
    return result.event


def amend_event(batch: Batch, user: User, seq: int, occurred_at: dt.datetime, reason: str, data: dict[str, Any]) -> Any:
    result = batches.append_event(
        batch.id, actor_of(user), stage="amendment", occurred_at=occurred_at, amends_seq=seq,
        data={"reason": reason, "data": data},
    )  # fmt: skip
    settle()
    return result.event


def inspection_body(
    results: list[dict[str, Any]],
    sampled_at: str = "2026-06-01T09:00:00+08:00",
    tested_at: str | None = None,
    report_no: str | None = None,
    lab: str = "咸宁市农产品质量检测中心",
) -> dict[str, Any]:
    return {
        "report_no": report_no or f"XN-{next(_reports):05d}",
        "lab": lab,
        "sampled_at": sampled_at,
        "tested_at": tested_at or sampled_at,
        "results": results,
    }


def post_inspection(
    client: FlaskClient, headers: dict[str, str], batch_id: int, results: list[dict[str, Any]], **kw: Any
) -> Any:
    return client.post(f"/api/v1/batches/{batch_id}/inspections", json=inspection_body(results, **kw), headers=headers)


def rows_for(body: dict[str, Any], parameter: str) -> list[dict[str, Any]]:
    return [r for r in body["rows"] if r["parameter"] == parameter]
