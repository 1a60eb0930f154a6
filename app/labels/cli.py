"""``flask labels retention``: fold raw scans past retention into daily counts (run it daily, e.g. from cron)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.cli import unit_of_work
from app.db import utcnow
from app.labels import scans

labels_cli = AppGroup("labels", help="Serialized labels and their scans.")


@labels_cli.command("retention")
def retention() -> None:
    """Raw scans older than SCAN_RETENTION_DAYS (180) become daily counts per batch and are deleted."""
    with unit_of_work():
        folded, days = scans.fold_old_scans(utcnow())
    click.echo(f"folded {folded} scan(s) into {days} daily count(s)")
