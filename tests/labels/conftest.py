"""Fixtures for labels: a batch with a GTIN and one without, their makers, and an RQ queue of the test's own."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from app.auth import Actor
from app.batches import service as batches
from app.batches.models import Batch
from tests.conftest import settle
from tests.public.conftest import journey, make_journey  # noqa: F401 - pytest fixtures

# A GTIN-13 of GS1 China's 690 prefix with its correct check digit (6+0+1+3+5+7... checked by biip).
GTIN13 = "6901234567892"
GTIN14 = "06901234567892"


@dataclass
class Labelled:
    batch: Batch
    actor: Actor
    headers: dict[str, str]


@pytest.fixture
def make_labelled(make_user, auth):
    def make(gtin: str | None = GTIN13, lot_code: str | None = None, role: str = "processor") -> Labelled:
        user = make_user(role)
        actor = Actor(user=user, org=user.organization)
        lot = lot_code or f"BT-{secrets.token_hex(3).upper()}"
        batch = batches.create_batch(actor, product="brick_tea", quantity=Decimal("500"), unit="brick",
                                     gtin=gtin, lot_code=lot)  # fmt: skip
        settle()
        return Labelled(batch, actor, auth(user=user))

    return make


@pytest.fixture
def labelled(make_labelled) -> Labelled:
    return make_labelled()


@pytest.fixture(autouse=True)
def _inline_jobs(app):
    """Jobs run inline unless a test asks for ``rq_queue``, whatever REDIS_URL the environment has."""
    saved = app.config.get("REDIS_URL")
    app.config["REDIS_URL"] = None
    yield
    app.config["REDIS_URL"] = saved


def redis_url() -> str:
    return os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


@pytest.fixture
def rq_queue(app) -> Any:
    """Jobs go to Redis (REDIS_URL, else 127.0.0.1:6379) on a queue no other test or worker shares."""
    from redis import Redis
    from rq import Queue

    name = f"youpin-test-{secrets.token_hex(4)}"
    connection = Redis.from_url(redis_url())
    try:
        connection.ping()
    except Exception as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Redis at {redis_url()}: {exc}")
    saved = {k: app.config.get(k) for k in ("REDIS_URL", "JOB_QUEUE")}
    app.config.update(REDIS_URL=redis_url(), JOB_QUEUE=name)
    queue = Queue(name, connection=connection)
    try:
        yield queue
    finally:
        app.config.update(saved)
        queue.empty()
        queue.delete()


def work(queue: Any) -> None:
    """Run the queue's jobs in this process (RQ's SimpleWorker, burst mode) and stop."""
    from rq import SimpleWorker

    SimpleWorker([queue], connection=queue.connection).work(burst=True)
