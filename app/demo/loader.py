"""Load the demo from the data files beside this module, creating through the services what is missing.

The files are read and checked whole first (``schemas``), so a malformed entry is refused, by file
and entry, before anything is written. Organizations are keyed on their codes, users on their
usernames, sites on (organization, name), batches on their lot codes, reports on (batch, report
number), certificates on their numbers and 承诺达标合格证 on their batch, so a second run finds
everything and changes nothing. A batch that exists is left as it is, events and all (its chain
is append-only). Every event goes through the one append path, recorded a little after it
happened as a phone in the field would.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from marshmallow import ValidationError
from sqlalchemy import func, select

from app.auth import Actor
from app.catalog.models import ProductLine
from app.catalog.products import PRODUCTS
from app.db import db
from app.demo.naming import describe, each, naming
from app.demo.schemas import FILES
from app.errors import InvalidInput, NotFound
from app.orgs import service as orgs
from app.orgs.models import Organization, OrgKind, Site, User

if TYPE_CHECKING:
    from typing_extensions import TypeIs  # typing.TypeIs from Python 3.13

# isort: split
# All the demo takes from batches and compliance, in one place: both are being split into modules
# by concern, and these are the lines to repoint when they are.
from app.batches.models import Batch
from app.batches.service import append_event, create_batch, events_of
from app.commitments.service import certificate_of, issue_certificate
from app.compliance.certifications import create_certification
from app.compliance.inspections import record_inspection
from app.compliance.models import Certification, Inspection

DATA = Path(__file__).parent
# Entered on the phone a quarter of an hour after it happened.
RECORDING_DELAY = dt.timedelta(minutes=15)

# The only demo users with a password; each is printed by ``demo load`` and listed in the README.
DEMO_PASSWORDS = {
    "inspector": "xianning-desk-2026",
    "loquat-coop": "coop-demo-2026",
    # The field app's other homes: a member household of the loquat cooperative and a processor.
    "wang-farmer": "farmer-demo-2026",
    "tea-maker": "processor-demo-2026",
    # The pilot office: lands on the dashboard.
    "admin": "xianning-office-2026",
}

KINDS = (
    "organizations", "users", "sites", "batches", "events", "inspections", "certifications", "commitment_certificates",
)  # fmt: skip
Entry = dict[str, Any]


def read_demo(folder: Path = DATA) -> dict[str, list[Entry]]:
    """Read and check the demo's data files; refuse the first malformed entry, naming it."""
    demo: dict[str, list[Entry]] = {}
    for name, schema in FILES.items():
        try:
            with (folder / name).open(encoding="utf-8") as text:
                raw = yaml.safe_load(text)
            demo |= schema().load(raw)
        except yaml.YAMLError as exc:
            raise InvalidInput(f"{name} is not readable YAML: {exc}") from None
        except ValidationError as exc:
            raise InvalidInput(describe(name, exc.messages, raw)) from None
    return demo


def find(rows: dict[str, Any], name: str, what: str) -> Any:
    """The row an entry names by ``what``, or a refusal saying the files have no such row."""
    if name not in rows:
        raise InvalidInput(f"{what} {name!r} is not in the demo's files")
    return rows[name]


class Loader:
    """One run: what it found and made, and the rows later entries name. Each kind of entry has a
    method that creates it when it is missing and names it in whatever the service refuses."""

    def __init__(self) -> None:
        self.created: Counter[str] = Counter()
        self.present: Counter[str] = Counter()
        self.actors: dict[str, Actor] = {}
        self.sites: dict[str, Site] = {}
        self.batches: dict[str, Batch] = {}

    def missing(self, found: object, kind: str) -> TypeIs[None]:
        """Count ``found`` (a row, or None) as present or to be created; true when it is missing.

        ``found`` comes first so that ``TypeIs`` narrows it: a row once this answers false.
        """
        (self.present if found is not None else self.created)[kind] += 1
        return found is None

    def site_id(self, name: str | None) -> int | None:
        return find(self.sites, name, "site").id if name else None

    def organization(self, where: str, spec: Entry) -> None:
        with naming(where, spec):
            org = db.session.scalar(select(Organization).where(Organization.code == spec["code"]))
            if self.missing(org, "organizations"):
                org = orgs.create_organization(**{k: v for k, v in spec.items() if k not in ("users", "sites")})
        for user_where, user_spec in each(where, "users", spec["users"]):
            with naming(user_where, user_spec):
                user = db.session.scalar(select(User).where(User.username == user_spec["username"]))
                if self.missing(user, "users"):
                    password = DEMO_PASSWORDS.get(user_spec["username"])
                    user = orgs.create_user(**user_spec, org_code=org.code, password=password)
            self.actors[user.username] = Actor(user=user, org=user.organization)
        for site_where, site_spec in each(where, "sites", spec["sites"]):
            with naming(site_where, site_spec):
                site = db.session.scalar(
                    select(Site).where(Site.organization_id == org.id, Site.name == site_spec["name"])
                )
                self.sites[site_spec["name"]] = (
                    orgs.create_site(org, **site_spec) if self.missing(site, "sites") else site
                )

    def batch(self, where: str, spec: Entry) -> None:
        batch = db.session.scalar(select(Batch).where(Batch.lot_code == spec["lot_code"]))
        if self.missing(batch, "batches"):
            with naming(where, spec):
                who = find(self.actors, spec["recorded_by"], "recorded_by")
                # The lot is opened with its first record (a grown product's, months before harvest)...
                batch = create_batch(
                    who, product=spec["product"], quantity=spec["quantity"], unit=spec["unit"],
                    lot_code=spec["lot_code"], site=self.site_id(spec.get("site")), gtin=spec.get("gtin"),
                    producer=spec.get("producer"), now=spec["events"][0]["occurred_at"] - RECORDING_DELAY,
                )  # fmt: skip
            # ...and its production date (harvest or manufacture, as the label prints it) is filled in
            # once known. It is not part of any event's hash, and the API has no update for it yet.
            batch.produced_at = spec["produced_at"]
            for event_where, event in each(where, "events", spec["events"]):
                with naming(event_where, event):
                    append_event(
                        batch.id, who, stage=event["stage"], occurred_at=event["occurred_at"], data=event["data"],
                        site=self.site_id(event.get("site")), now=event["occurred_at"] + RECORDING_DELAY,
                    )  # fmt: skip
                self.created["events"] += 1
        self.batches[batch.lot_code] = batch

    def inspection(self, where: str, spec: Entry) -> None:
        with naming(where, spec):
            batch = find(self.batches, spec["lot_code"], "lot_code")
            key = (Inspection.batch_id == batch.id, Inspection.report_no == spec["report_no"])
            if self.missing(db.session.scalar(select(Inspection.id).where(*key)), "inspections"):
                who = find(self.actors, spec["recorded_by"], "recorded_by")
                lab = orgs.get_org_by_code(spec["lab"], field="lab") if spec.get("lab") else who.org
                sampling = dict(spec["sampling"]) if spec.get("sampling") else None
                if sampling is not None:
                    sampling["sampled_org_id"] = orgs.get_org_by_code(sampling.pop("sampled_org"), "sampled_org").id
                # The report enters the chain after the batch's last record, as a lab filing it would.
                last = max(e.recorded_at for e in events_of(batch))
                record_inspection(
                    who, batch.id, report_no=spec["report_no"], type=spec["type"],
                    lab_org_id=lab.id if lab.kind == OrgKind.lab else None, lab=lab.name,
                    sampled_at=spec["sampled_at"], tested_at=spec["tested_at"], results=spec["results"],
                    sampling=sampling, notified_at=spec.get("notified_at"),
                    now=max(last, spec["tested_at"]) + RECORDING_DELAY,
                )  # fmt: skip

    def certification(self, where: str, spec: Entry) -> None:
        with naming(where, spec):
            stored = db.session.scalar(select(Certification.id).where(Certification.number == spec["number"]))
            if self.missing(stored, "certifications"):
                # A licence for one site (an orchard) covers only the lots from that site.
                create_certification(
                    find(self.actors, spec["recorded_by"], "recorded_by"), kind=spec["kind"],
                    number=spec["number"], issuer=spec["issuer"], holder=spec["holder"], product=spec["product"],
                    site=self.site_id(spec.get("site")), valid_from=spec["valid_from"],
                    valid_to=spec.get("valid_to"), scope=spec["scope"],
                )  # fmt: skip

    def commitment(self, where: str, spec: Entry) -> None:
        with naming(where, spec):
            batch = find(self.batches, spec["lot_code"], "lot_code")
            if self.missing(certificate_of(batch.id), "commitment_certificates"):
                # Issued after the lot's last record, as the holder handing it over would.
                issued = max(max(e.recorded_at for e in events_of(batch)), spec["issued_at"])
                issue_certificate(
                    find(self.actors, spec["recorded_by"], "recorded_by"), batch.id, contact=spec["contact"],
                    basis=spec["basis"], report_no=spec.get("report_no"), issued_at=issued,
                    now=issued + RECORDING_DELAY,
                )  # fmt: skip


def load_demo(folder: Path = DATA) -> str:
    """Create whatever of the demo is missing; return a one-line summary. The caller commits."""
    demo = read_demo(folder)
    lines = db.session.scalar(select(func.count()).select_from(ProductLine).where(ProductLine.key.in_(PRODUCTS)))
    if lines != len(PRODUCTS):
        raise NotFound("The product lines are not loaded; run `flask --app wsgi catalog load` first.")
    run = Loader()
    # In this order: a batch names users and sites, a report its batch.
    for file, kind, make in (
        ("organizations.yaml", "organizations", run.organization),
        ("batches.yaml", "batches", run.batch),
        ("compliance.yaml", "inspections", run.inspection),
        ("compliance.yaml", "certifications", run.certification),
        ("compliance.yaml", "commitment_certificates", run.commitment),
    ):
        for where, spec in each(file, kind, demo[kind]):
            make(where, spec)
    db.session.flush()

    def described(counts: Counter[str]) -> str:
        return ", ".join(f"{counts[k]} {k}" for k in KINDS if counts[k]) or "nothing"

    logins = ", ".join(f"{name} / {password}" for name, password in DEMO_PASSWORDS.items())
    return f"demo: created {described(run.created)}; already present {described(run.present)}; " \
        f"demo-only logins: {logins}"  # fmt: skip
