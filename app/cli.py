"""Command-line operations: ``flask --app wsgi catalog|demo|compliance|orgs|users|tokens ...``.

Each command commits once at the end and rolls back on any error, like a request.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import Flask
from flask.cli import AppGroup

from app.db import db
from app.errors import DomainError


@contextmanager
def unit_of_work() -> Iterator[None]:
    try:
        yield
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(_describe(exc)) from exc
    except Exception:
        db.session.rollback()
        raise


def _describe(exc: DomainError) -> str:
    if exc.errors:
        details = "; ".join(
            f"{field}: {', '.join(map(str, reasons)) if isinstance(reasons, list) else reasons}"
            for location in exc.errors.values()
            if isinstance(location, dict)
            for field, reasons in location.items()
        )
        return details or exc.message
    return exc.message


catalog_cli = AppGroup("catalog", help="Load or export the standards catalog.")
demo_cli = AppGroup("demo", help="Demo data for all six product lines.")
compliance_cli = AppGroup("compliance", help="The stored verdicts of the batches.")
orgs_cli = AppGroup("orgs", help="Organizations.")
users_cli = AppGroup("users", help="Users.")
tokens_cli = AppGroup("tokens", help="API bearer tokens.")
holds_cli = AppGroup("holds", help="Lots on hold after a failed verdict.")


@catalog_cli.command("load")
@click.argument("path", required=False, type=click.Path(exists=True, dir_okay=False))
def catalog_load(path: str | None) -> None:
    """Load the catalog YAML (default: the project's app/catalog/data/catalog.yaml); safe to repeat."""
    from app.catalog.service import default_catalog_path, load_catalog_file

    source = path or str(default_catalog_path())
    if not os.path.exists(source):
        raise click.ClickException(f"no catalog at {source}; pass the path of a catalog YAML file")
    with unit_of_work():
        report = load_catalog_file(source)
    click.echo(
        f"catalog {source}: {report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged standards; {report.requirements} requirements"
    )
    for note in report.repaired:
        click.echo(f"  repaired a split parameter name: {note}")
    for warning in report.warnings:
        click.echo(f"  warning: {warning}")
    _say_unheld()


@catalog_cli.command("verify")
def catalog_verify() -> None:
    """Check the catalog against its latest version (and the version log itself); exit 1 naming each change."""
    from app.catalog.versions import verify_catalog

    check = verify_catalog()
    for problem in check.problems:
        click.echo(problem)
    if not check.valid:
        raise click.ClickException(f"the catalog does not match its versions ({len(check.problems)} found)")
    assert check.version is not None
    version = check.version
    click.echo(
        f"catalog version {version.number} ({version.reason}, {version.loaded_at:%Y-%m-%d %H:%M} UTC): "
        f"{version.standards} standards, {version.requirements} requirements, digest {version.digest}; "
        "the catalog matches it"
    )


@catalog_cli.command("export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
def catalog_export(path: str) -> None:
    """Write the catalog back as YAML, in the shape ``catalog load`` reads."""
    from app.catalog.export import export_catalog_file

    count = export_catalog_file(path)
    click.echo(f"exported {count} standards to {path}")


@demo_cli.command("load")
def demo_load() -> None:
    """Load demo organizations, users and batches for all six product lines; safe to repeat."""
    from app.demo import load_demo

    with unit_of_work():
        summary = load_demo()
    click.echo(summary)


@compliance_cli.command("refresh")
@click.option("--stale", is_flag=True, help="only batches with no stored verdict, or one whose inputs changed")
def compliance_refresh(stale: bool) -> None:
    """Re-judge every batch and store its verdict (findings follow); safe to repeat."""
    from app.compliance.verdicts import refresh_batches

    with unit_of_work():
        report = refresh_batches(stale_only=stale)
    click.echo(f"compliance: {report.checked} batches checked, {report.stored} verdicts stored")
    _say_unheld()


def _say_unheld() -> None:
    """A verdict stored with nobody acting holds nothing (a hold names who acted): say what is left."""
    from app.holds.service import unheld_failures

    unheld = unheld_failures()
    if unheld:
        codes = ", ".join(b.lot_code for b in unheld[:10]) + (" ..." if len(unheld) > 10 else "")
        click.echo(
            f"  {len(unheld)} failed lot(s) not on hold ({codes}); "
            "hold them with: flask --app wsgi holds sweep --as <inspector username>"
        )


@holds_cli.command("sweep")
@click.option("--as", "username", required=True, help="the inspector or administrator the holds are recorded as")
def holds_sweep(username: str) -> None:
    """Hold every lot whose stored verdict fails and is not on hold yet, and the lots made from it."""
    from sqlalchemy import select

    from app.access import oversees
    from app.auth import Actor
    from app.holds.service import sweep
    from app.orgs.models import User

    with unit_of_work():
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None or not user.is_active:
            raise click.ClickException(f"no active user {username!r}")
        actor = Actor(user, user.organization)
        if not oversees(actor):
            raise click.ClickException(
                f"{username} is {user.role}; holds are recorded by an inspector or an administrator"
            )
        held = sweep(actor)
    click.echo(f"holds: {len(held)} lot(s) put on hold" + (f": {', '.join(b.lot_code for b in held)}" if held else ""))


@orgs_cli.command("create")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--kind", required=True)
@click.option("--county")
@click.option("--credit-code")
@click.option("--masked-id")
@click.option("--cooperative", help="code of the cooperative a household belongs to")
def orgs_create(code: str, name: str, kind: str, county: str | None, credit_code: str | None,
                masked_id: str | None, cooperative: str | None) -> None:  # fmt: skip
    """Register an organization."""
    from app.orgs.service import create_organization

    with unit_of_work():
        org = create_organization(code=code, name=name, kind=kind, county=county, credit_code=credit_code,
                                  masked_id=masked_id, cooperative_code=cooperative)  # fmt: skip
    click.echo(f"organization {org.code} (id {org.id}) created")


@users_cli.command("create")
@click.argument("username")
@click.option("--org", "org_code", required=True)
@click.option("--role", required=True)
@click.option("--name", "display_name")
@click.option("--password", help="for the web pages; prompted for when given as '-'")
def users_create(username: str, org_code: str, role: str, display_name: str | None, password: str | None) -> None:
    """Create a user in an organization."""
    from app.orgs.service import create_user

    if password == "-":  # noqa: S105 - "-" means "prompt for it", not a password
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    with unit_of_work():
        user = create_user(username=username, org_code=org_code, role=role, display_name=display_name,
                           password=password)  # fmt: skip
    click.echo(f"user {user.username} (id {user.id}, role {user.role}) created")


@tokens_cli.command("create")
@click.argument("username")
@click.option("--expires-days", type=int, default=90, show_default=True)
def tokens_create(username: str, expires_days: int) -> None:
    """Create an API token; the token itself is printed once, alone on the last line."""
    from app.orgs.service import create_token

    with unit_of_work():
        token, secret = create_token(username, expires_days=expires_days)
    click.echo(f"token id {token.id} for {username}, expires {token.expires_at:%Y-%m-%d %H:%M} UTC")
    click.echo(secret)


@tokens_cli.command("revoke")
@click.argument("token_id", type=int)
def tokens_revoke(token_id: int) -> None:
    """Revoke an API token by its id."""
    from app.orgs.service import revoke_token

    with unit_of_work():
        token = revoke_token(token_id)
    click.echo(f"token {token.id} revoked at {token.revoked_at:%Y-%m-%d %H:%M} UTC")


def register_cli(app: Flask) -> None:
    for group in (catalog_cli, demo_cli, compliance_cli, orgs_cli, users_cli, tokens_cli, holds_cli):
        app.cli.add_command(group)
