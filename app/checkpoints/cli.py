"""``flask --app wsgi checkpoints create|verify|export|key``.

``create`` is what the schedule runs (README: a cron line every 15 minutes). It is idempotent: when
no batch's head moved since the last checkpoint it signs nothing and says so; either way it copies
the latest checkpoint to the configured witnesses (a directory witness keeps one file per
checkpoint, so a repeat changes nothing there). It exits non-zero, after committing what it could
sign, when a batch had to be left out or a witness did not take the copy: both need a person.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.checkpoints import service
from app.checkpoints.keys import load_public_key, load_signer, public_key_document
from app.checkpoints.verification import verify_against
from app.checkpoints.witness import copy_to_witnesses, encode
from app.cli import unit_of_work
from app.db import utcnow

checkpoints_cli = AppGroup("checkpoints", help="Signed checkpoints of every batch's chain head.")


@checkpoints_cli.command("create")
def create() -> None:
    """Sign a checkpoint over every batch head that moved since the last one (idempotent)."""
    with unit_of_work():
        signer = load_signer(current_app.config)
        result = service.create_checkpoint(signer, utcnow())
        latest_doc = service.document_for(result.latest) if result.latest else None
    if result.checkpoint is not None:
        cp = result.checkpoint
        click.echo(
            f"checkpoint {cp.id}: tree size {cp.tree_size}, {result.appended} new leaves, root {cp.root_hash}, "
            f"key {cp.key_id}"
        )
    elif result.latest is not None:
        click.echo(f"no batch head moved since checkpoint {result.latest.id}; nothing new to sign")
    else:
        click.echo("no batches yet; nothing to sign")
    failures = [f"left out {item.lot_code}: {item.reason}" for item in result.left_out]
    if latest_doc is not None:
        for outcome in copy_to_witnesses(latest_doc, current_app.config.get("CHECKPOINT_WITNESSES") or []):
            if outcome.ok:
                click.echo(f"witness {outcome.witness}: {outcome.message}")
            else:
                failures.append(f"witness {outcome.witness}: {outcome.message}")
    if failures:
        raise click.ClickException("\n".join(failures))


@checkpoints_cli.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--batch", "lot_code", help="verify one batch (its lot code) instead of the whole database")
@click.option(
    "--key",
    "key_file",
    type=click.Path(exists=True, dir_okay=False),
    help="the public key you trust (PEM, or raw base64); default: the key inside the file",
)
def verify(file: str, lot_code: str | None, key_file: str | None) -> None:
    """Verify the database, or one batch, against a checkpoint file saved earlier."""
    try:
        doc = json.loads(Path(file).read_text(encoding="utf-8"))
        trusted = load_public_key(Path(key_file).read_text(encoding="utf-8")) if key_file else None
    except ValueError as exc:
        raise click.ClickException(f"cannot read {key_file if key_file else file}: {exc}") from None
    with unit_of_work():
        report = verify_against(doc, trusted, lot_code)
    scope = f"batch {lot_code}" if lot_code else "the database"
    click.echo(
        f"checkpoint {report.checkpoint_id} (tree size {report.tree_size}): checked {report.leaves} leaves "
        f"of {report.batches} batches in {scope}"
    )
    for note in report.notes:
        click.echo(f"note: {note}")
    if not report.ok:
        raise click.ClickException(f"{len(report.problems)} problem(s):\n" + "\n".join(report.problems))
    click.echo("OK: everything the checkpoint anchors is still in the database as it was")


@checkpoints_cli.command("export")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--id", "checkpoint_id", type=int, help="a checkpoint of the log (default: the latest)")
def export(file: str, checkpoint_id: int | None) -> None:
    """Write a checkpoint file (the latest, or --id N) to FILE, or '-' for standard output."""
    with unit_of_work():
        checkpoint = service.get_checkpoint(checkpoint_id) if checkpoint_id else service.latest_checkpoint()
        if checkpoint is None:
            raise click.ClickException("no checkpoint has been made yet")
        body = encode(service.document_for(checkpoint))
    if file == "-":
        sys.stdout.buffer.write(body)
    else:
        Path(file).write_bytes(body)
        click.echo(f"checkpoint {checkpoint.id} written to {file}")


@checkpoints_cli.command("key")
def key() -> None:
    """Print the signing key's public half (PEM), to give to the regulator and other verifiers."""
    with unit_of_work():
        signer = load_signer(current_app.config)
    click.echo(public_key_document(signer.public_key)["pem"], nl=False)
