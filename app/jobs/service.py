"""Running background jobs: on RQ when REDIS_URL is set, inline in the request otherwise.

The queue carries only a job's id; its state lives in the ``jobs`` table. A job is enqueued only
once the transaction that created it has committed (an ``after_commit`` hook), so a worker never
looks for a row it cannot see yet. A running job beats ``heartbeat_at`` at every step; one silent
for longer than ``JOB_STALE_SECONDS`` lost its worker, and ``resume_stale`` (the ``flask jobs
resume`` command, also run when ``flask jobs worker`` starts) queues it again. Each kind's handler
must be safe to start over: it is handed the job as left by the attempt that died.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flask import current_app
from sqlalchemy import event, or_, select
from sqlalchemy.orm import Session

from app.db import db, utcnow
from app.jobs.models import Job, JobStatus

# A job whose heartbeat is older than this lost its worker.
JOB_STALE_SECONDS = 120
_PENDING = "youpin.jobs_to_enqueue"

Progress = Callable[[int], None]
Handler = Callable[[Job, Progress], None]
HANDLERS: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that does the work of jobs of ``kind``."""

    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn

    return register


def redis_url() -> str | None:
    return current_app.config.get("REDIS_URL") or None


def queue_name() -> str:
    return str(current_app.config.get("JOB_QUEUE", "youpin"))


def queue() -> Any:
    """The RQ queue the workers listen on."""
    from redis import Redis
    from rq import Queue

    url = redis_url()
    if url is None:
        raise RuntimeError("REDIS_URL is not set")
    return Queue(queue_name(), connection=Redis.from_url(url))


def create_job(kind: str, params: dict[str, Any], total: int, org_id: int, user_id: int | None) -> Job:
    job = Job(kind=kind, params=params, total=total, org_id=org_id, created_by_id=user_id,
              status=JobStatus.queued, done=0, attempts=0)  # fmt: skip
    db.session.add(job)
    db.session.flush()
    return job


def dispatch(job: Job) -> None:
    """Hand the job to a worker after the commit, or, with no Redis, do it now (flushing only)."""
    if redis_url() is None:
        perform(job.id, commit=False)
        return
    db.session.info.setdefault(_PENDING, []).append((queue(), job.id))


@event.listens_for(Session, "after_commit")
def _enqueue_committed(session: Session) -> None:
    for q, job_id in session.info.pop(_PENDING, []):
        q.enqueue_call("app.jobs.service.perform", args=(job_id,), timeout=4 * 3600, result_ttl=0)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)


def perform(job_id: int, commit: bool = True) -> None:
    """Do one job (what a worker runs). ``commit`` each step, so progress shows while it runs."""
    save = db.session.commit if commit else db.session.flush
    job = db.session.get(Job, job_id)
    if job is None or job.status == JobStatus.done:
        return
    now = utcnow()
    if job.status == JobStatus.running and job.heartbeat_at and not _stale(job, now):
        return  # another worker has it
    job.status, job.attempts, job.started_at, job.heartbeat_at = JobStatus.running, job.attempts + 1, now, now
    job.error = None
    save()

    def progress(done: int) -> None:
        job.done, job.heartbeat_at = done, utcnow()
        save()

    try:
        HANDLERS[job.kind](job, progress)
    except Exception as exc:
        if not commit:
            raise
        db.session.rollback()
        failed = db.session.get(Job, job_id)
        assert failed is not None
        failed.status, failed.error, failed.finished_at = JobStatus.failed, f"{type(exc).__name__}: {exc}", utcnow()
        db.session.commit()
        raise
    job.status, job.done, job.finished_at = JobStatus.done, job.total, utcnow()
    save()


def _stale(job: Job, now: dt.datetime) -> bool:
    beat = job.heartbeat_at or job.created_at
    return (now - beat).total_seconds() > JOB_STALE_SECONDS


def stale_jobs(now: dt.datetime, stale_seconds: int = JOB_STALE_SECONDS) -> list[Job]:
    """Running jobs whose worker went silent, and queued jobs no worker took in that time."""
    cutoff = now - dt.timedelta(seconds=stale_seconds)
    return list(db.session.scalars(
        select(Job).where(
            or_(
                (Job.status == JobStatus.running) & (Job.heartbeat_at < cutoff),
                (Job.status == JobStatus.queued) & (Job.created_at < cutoff),
            )
        ).order_by(Job.id)
    ))  # fmt: skip


def resume_stale(now: dt.datetime, stale_seconds: int = JOB_STALE_SECONDS) -> list[int]:
    """Queue every stale job again (or, with no Redis, run it now); the ids, for the log."""
    found = stale_jobs(now, stale_seconds)
    for job in found:
        job.status, job.heartbeat_at = JobStatus.queued, None
        # Counted as new: a restarted job is not itself stale before a worker had a chance at it.
        job.created_at = now
    db.session.flush()
    for job in found:
        dispatch(job)
    return [job.id for job in found]
