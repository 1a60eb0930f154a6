"""Factories for batches and the people who handle them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from app.auth import Actor
from app.batches import service
from app.batches.models import Batch
from app.orgs import service as orgs
from app.orgs.models import Organization, User
from tests.conftest import settle


def at(day: str, time: str = "09:00") -> str:
    """An ISO 8601 moment in China time, as a farmer's phone would send it."""
    return f"{day}T{time}:00+08:00"


# Valid data for each shared stage (every product that has the stage accepts it).
STAGE_DATA: dict[str, dict[str, Any]] = {
    "seedling": {"variety": "鄂茶1号", "source": "赤壁市茶树良种繁育场", "count": 3000},
    "planting": {
        "inputs": [
            {
                "kind": "pesticide",
                "name": "0.6%苦参碱水剂",
                "registration_no": "PD20101580",
                "dose": "60",
                "dose_unit": "mL/亩",
                "applied_at": at("2026-04-02"),
                "phi_days": 10,
            }
        ]
    },
    "harvest": {"quantity": "1200", "unit": "kg", "grade": "一级"},
    "processing": {"steps": [{"name": "杀青", "started_at": at("2026-05-20"), "parameters": {"temperature_c": 280}}]},
    "packing": {"package": "2 kg 砖/牛皮纸", "count": 600},
    "storage": {"temperature_c": "22", "humidity_pct": "60", "warehouse": "羊楼洞1号仓"},
    "transport": {"vehicle": "鄂L·3A521", "origin": "赤壁市赵李桥镇", "destination": "武汉市江汉区"},
    "sale": {"channel": "经销商", "buyer": "武汉茶叶市场某经销部"},
}


@dataclass
class Party:
    """A user who calls the API: the user, its organization and its bearer headers."""

    user: User
    headers: dict[str, str]

    @property
    def org(self) -> Organization:
        return self.user.organization

    @property
    def actor(self) -> Actor:
        return Actor(user=self.user, org=self.user.organization)


@pytest.fixture
def party(make_user: Callable[..., User]) -> Callable[..., Party]:
    def make(role: str = "farmer", org: Organization | None = None) -> Party:
        user = make_user(role, org=org)
        _, secret = orgs.create_token(user.username)
        settle()
        return Party(user=user, headers={"Authorization": f"Bearer {secret}"})

    return make


@pytest.fixture
def make_batch() -> Callable[..., Batch]:
    """``make_batch(party, product="brick_tea", ...)``: a batch the party's organization holds."""

    def make(owner: Party, product: str = "brick_tea", **overrides: Any) -> Batch:
        values: dict[str, Any] = {"product": product, "quantity": Decimal("500"), "unit": "kg"}
        values.update(overrides)
        batch = service.create_batch(owner.actor, **values)
        settle()
        return batch

    return make


def post_event(client: Any, owner: Party, batch_id: int, stage: str, day: str = "2026-05-01", **extra: Any) -> Any:
    body: dict[str, Any] = {"stage": stage, "occurred_at": at(day), "data": STAGE_DATA.get(stage, {})}
    headers = dict(owner.headers)
    if "key" in extra:
        headers["Idempotency-Key"] = extra.pop("key")
    body.update(extra)
    return client.post(f"/api/v1/batches/{batch_id}/events", json=body, headers=headers)
