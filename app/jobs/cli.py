"""``flask jobs resume`` finds the jobs of killed workers and queues them again; ``flask jobs worker`` runs one."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.cli import unit_of_work
from app.db import utcnow
from app.jobs import service

jobs_cli = AppGroup("jobs", help="Background jobs (label runs).")


@jobs_cli.command("resume")
@click.option("--stale-seconds", default=service.JOB_STALE_SECONDS, show_default=True,
              help="A running job silent this long lost its worker.")  # fmt: skip
def resume(stale_seconds: int) -> None:
    """Restart the jobs whose worker died (or that no worker took); without REDIS_URL, run them here."""
    with unit_of_work():
        ids = service.resume_stale(utcnow(), stale_seconds)
    click.echo(f"restarted {len(ids)} job(s){': ' + ', '.join(map(str, ids)) if ids else ''}")


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker(burst: bool) -> None:
    """Run an RQ worker on REDIS_URL's queue, after restarting the jobs a dead worker left."""
    from rq import Worker

    if service.redis_url() is None:
        raise click.ClickException("REDIS_URL is not set: without it jobs run inline in the request")
    with unit_of_work():
        service.resume_stale(utcnow())
    q = service.queue()
    Worker([q], connection=q.connection).work(burst=burst)
