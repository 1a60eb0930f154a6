"""Who may read and write what: the access rules, each written once (DESIGN.md, invariant 4).

Views and services both call these; nothing else compares roles or organization ids to decide
access. The rules, in words (the README's "Who may do what" is the same table, and
tests/test_permissions.py walks every API operation against it):

- **Reading a batch.** The read-all roles (inspector, admin, and the public testing centre, lab)
  read every batch. Anyone else reads the batches their organization holds, produced, or took
  part in through a transfer (either side), and a cooperative also its member households'.
- **Reading a record about batches.** A transfer, a finding, a transformation or a recall is read
  by whoever may read a batch it concerns (the transfer's batch; the finding's batch; any input
  or output of the transformation; any lot the recall affects). What the batch's journey already
  shows, the record's own endpoint shows too.
- **Hidden is missing.** A batch or record one may not read is a 404, exactly as a missing one,
  so ids cannot be probed. One that may be read but not acted on is a 403.
- **Writing a batch.** Only its custodian appends events, splits, transforms or ships it; its
  custodian or producer declares further standards; inspectors and labs record test reports.
- **Acting on records.** The receiver accepts or rejects a transfer; the batch's custodian
  records a finding's corrective action and an inspector or admin closes it; inspectors, admins
  or the lot's producer open a recall, inspectors, admins or the opening organization close it.
- **Held lots.** Only inspectors and admins record what is done with a lot on hold (its
  disposition: destroyed, made harmless, returned, relabelled, recalled, released).
- **Labels.** The batch's custodian or producer makes label runs; the organization that made a
  run alone downloads its print files and PIN list and voids its units (the read-all roles see
  that it exists, a 403). A job is read by its organization and the read-all roles; a unit's
  anomaly flags by whoever reads its batch.
- **Registries.** Admins manage organizations and users; inspectors and admins register
  certifications, which every signed-in user may read; an organization registers its own
  enterprise standards (an admin any organization's).

Each SQL clause (``readable_*``) and its per-object check (``can_read_*``) come from the same
definition: the check asks the database whether the object satisfies the clause.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import ColumnElement, Select, exists, or_, select

from app.batches.models import Batch
from app.catalog.models import Standard
from app.compliance.models import Finding
from app.custody.models import Transfer
from app.db import db
from app.errors import Forbidden, NotFound
from app.jobs.models import Job
from app.labels.models import LabelRun, Unit, UnitFlag
from app.lineage.models import LineageEdge, Transformation
from app.orgs.models import Organization, Role, User
from app.recalls.models import Recall, RecallItem
from app.schemas import MAX_ID

if TYPE_CHECKING:
    from app.auth import Actor

# --- roles ---------------------------------------------------------------------------------------

# Oversee: read every record, and open or close any recall.
OVERSIGHT_ROLES = frozenset({Role.inspector, Role.admin})
# The public testing centre reads every batch and record too (it is sent samples of any), but acts on none.
READ_ALL_ROLES = OVERSIGHT_ROLES | {Role.lab}
ADMIN_ROLES = frozenset({Role.admin})
BATCH_CREATOR_ROLES = frozenset({Role.farmer, Role.cooperative, Role.processor})
INSPECTING_ROLES = frozenset({Role.inspector, Role.lab})
CERTIFYING_ROLES = frozenset({Role.inspector, Role.admin})
FINDING_CLOSING_ROLES = frozenset({Role.inspector, Role.admin})
# Who decides a detected result that no limit covers (待判定): an inspector, on an official basis.
REVIEWING_ROLES = frozenset({Role.inspector})
# Who registers sites (plots, ponds, workshops): the organizations that work them, and the office.
SITE_ROLES = frozenset({Role.farmer, Role.cooperative, Role.processor, Role.logistics, Role.retailer, Role.admin})
# The field app (web pages under /field, and its queued writes, POST /api/v1/sync).
FIELD_ROLES = frozenset({Role.farmer, Role.cooperative, Role.processor, Role.logistics, Role.retailer})
# The inspector's desk (web pages).
DESK_ROLES = frozenset({Role.inspector, Role.admin, Role.lab})


def reads_all(actor: Actor) -> bool:
    return actor.role in READ_ALL_ROLES


def oversees(actor: Actor) -> bool:
    return actor.role in OVERSIGHT_ROLES


def _holds(query: Select[Any]) -> bool:
    return bool(db.session.scalar(select(exists(query))))


T = TypeVar("T")


def _bounded(object_id: int) -> bool:
    return 0 < object_id <= MAX_ID


def _get_readable(model: type[T], object_id: int, clause: ColumnElement[bool] | None, noun: str) -> T:
    """The row with ``object_id`` if ``clause`` (None: everything) lets the actor read it;
    otherwise NotFound, exactly as for a missing one, so a hidden row is not disclosed."""
    # Every model read through here has an integer ``id`` primary key; ``T`` cannot say so.
    query = select(model).where(model.id == object_id)  # type: ignore[attr-defined]
    if clause is not None:
        query = query.where(clause)
    found = db.session.scalar(query) if _bounded(object_id) else None
    if found is None:
        raise NotFound(f"no {noun} with id {object_id}")
    return found


# --- batches -------------------------------------------------------------------------------------


def readable_batches(actor: Actor) -> ColumnElement[bool] | None:
    """The batches ``actor`` may read, as a WHERE clause on Batch; None when it may read them all."""
    if reads_all(actor):
        return None
    org_id = actor.org.id
    through_transfer = select(Transfer.batch_id).where(
        or_(Transfer.from_org_id == org_id, Transfer.to_org_id == org_id)
    )
    members = select(Organization.id).where(Organization.cooperative_id == org_id)
    return or_(
        Batch.custodian_org_id == org_id,
        Batch.producer_org_id == org_id,
        Batch.id.in_(through_transfer),
        Batch.producer_org_id.in_(members),
    )


def _readable_batch_ids(actor: Actor) -> Select[Any] | None:
    clause = readable_batches(actor)
    return None if clause is None else select(Batch.id).where(clause)


def can_read_batch(actor: Actor, batch: Batch) -> bool:
    clause = readable_batches(actor)
    return clause is None or _holds(select(Batch.id).where(Batch.id == batch.id, clause))


def get_readable_batch(actor: Actor, batch_id: int) -> Batch:
    """The batch, if ``actor`` may read it; otherwise NotFound, exactly as for a missing one."""
    return _get_readable(Batch, batch_id, readable_batches(actor), "batch")


def can_write_batch(actor: Actor, batch: Batch) -> bool:
    """Only the custodian writes to a batch (invariant 4)."""
    return actor.org.id == batch.custodian_org_id


def require_custodian(actor: Actor, batch: Batch, doing: str) -> None:
    """Forbidden unless the actor's organization holds ``batch``; ``doing`` completes "may ..."."""
    if not can_write_batch(actor, batch):
        raise Forbidden(f"Only the custodian ({batch.custodian.code}) may {doing} batch {batch.lot_code}.")


def require_batch_creator(actor: Actor) -> None:
    if actor.role not in BATCH_CREATOR_ROLES:
        raise Forbidden(f"The role '{actor.role}' may not create batches.")


def can_declare_standard(actor: Actor, batch: Batch) -> bool:
    """The custodian or the producer declares what further standards a batch is held to."""
    return actor.org.id in (batch.custodian_org_id, batch.producer_org_id)


def can_bind_standard(actor: Actor, standard: Standard) -> bool:
    """A catalog standard binds any batch; an enterprise standard only its owner's batches."""
    return standard.owner_org_id is None or standard.owner_org_id == actor.org.id


def can_register_standard(actor: Actor, owner: Organization) -> bool:
    """An organization registers its own enterprise standards; an admin registers any organization's."""
    return actor.role in ADMIN_ROLES or actor.org.id == owner.id


# --- transfers -----------------------------------------------------------------------------------


def readable_transfers(actor: Actor) -> ColumnElement[bool] | None:
    """A transfer is read by whoever may read its batch (its record is in the batch's journey)."""
    ids = _readable_batch_ids(actor)
    return None if ids is None else Transfer.batch_id.in_(ids)


def get_readable_transfer(actor: Actor, transfer_id: int) -> Transfer:
    return _get_readable(Transfer, transfer_id, readable_transfers(actor), "transfer")


def require_receiver(actor: Actor, transfer: Transfer, doing: str) -> None:
    """Only the receiving organization accepts or rejects a transfer."""
    if transfer.to_org_id != actor.org.id:
        raise Forbidden(f"Only the receiving organization ({transfer.to_org.code}) may {doing} transfer {transfer.id}.")


# --- transformations -----------------------------------------------------------------------------


def readable_transformations(actor: Actor) -> ColumnElement[bool] | None:
    """A transformation is read by whoever may read any of its inputs or outputs."""
    ids = _readable_batch_ids(actor)
    if ids is None:
        return None
    return exists().where(
        LineageEdge.transformation_id == Transformation.id,
        or_(LineageEdge.input_batch_id.in_(ids), LineageEdge.output_batch_id.in_(ids)),
    )


def get_readable_transformation(actor: Actor, transformation_id: int) -> Transformation:
    return _get_readable(Transformation, transformation_id, readable_transformations(actor), "transformation")


# --- findings ------------------------------------------------------------------------------------


def readable_findings(actor: Actor) -> ColumnElement[bool] | None:
    """A finding is read by whoever may read its batch (the batch's compliance shows it)."""
    ids = _readable_batch_ids(actor)
    return None if ids is None else Finding.batch_id.in_(ids)


def get_readable_finding(actor: Actor, finding_id: int) -> Finding:
    return _get_readable(Finding, finding_id, readable_findings(actor), "finding")


def can_act_on_finding(actor: Actor, batch: Batch) -> bool:
    """The custodian of the finding's batch records the corrective action."""
    return can_write_batch(actor, batch)


def require_finding_actor(actor: Actor, batch: Batch) -> None:
    if not can_act_on_finding(actor, batch):
        raise Forbidden(f"Only the custodian ({batch.custodian.code}) records corrective actions for {batch.lot_code}.")


def can_close_finding(actor: Actor) -> bool:
    return actor.role in FINDING_CLOSING_ROLES


def require_finding_closer(actor: Actor) -> None:
    if not can_close_finding(actor):
        raise Forbidden(f"The role '{actor.role}' may not close findings; inspectors verify and close them.")


# --- recalls -------------------------------------------------------------------------------------


def readable_recalls(actor: Actor) -> ColumnElement[bool] | None:
    """A recall is read by whoever may read a lot it affects (the root is one, at depth 0)."""
    ids = _readable_batch_ids(actor)
    if ids is None:
        return None
    return exists().where(RecallItem.recall_id == Recall.id, RecallItem.batch_id.in_(ids))


def get_readable_recall(actor: Actor, recall_id: int) -> Recall:
    return _get_readable(Recall, recall_id, readable_recalls(actor), "recall")


def require_recall_opener(actor: Actor, root: Batch) -> None:
    """Inspectors and admins recall any lot; a producer recalls its own."""
    if not (oversees(actor) or root.producer_org_id == actor.org.id):
        raise Forbidden("Only an inspector, an administrator or the lot's producer may recall it.")


def require_disposer(actor: Actor, batch: Batch) -> None:
    """Only an inspector or an administrator records what is done with a held lot."""
    if not oversees(actor):
        raise Forbidden(f"Only an inspector or an administrator may record the disposition of batch {batch.lot_code}.")


def require_recall_closer(actor: Actor, recall: Recall) -> None:
    """Inspectors and admins close any recall; otherwise only the organization that opened it."""
    opener_org = (
        db.session.scalar(select(User.organization_id).where(User.id == recall.opened_by_id))
        if recall.opened_by_id is not None
        else None
    )
    if not (oversees(actor) or actor.org.id == opener_org):
        raise Forbidden("Only an inspector, an administrator or the organization that opened the recall may close it.")


# --- certifications ------------------------------------------------------------------------------


def require_certifier(actor: Actor) -> None:
    """Inspectors and admins register certifications; the registry itself is open to every user."""
    if actor.role not in CERTIFYING_ROLES:
        raise Forbidden(f"The role '{actor.role}' may not register certifications; admins and inspectors do.")


def require_reviewer(actor: Actor) -> None:
    if actor.role not in REVIEWING_ROLES:
        raise Forbidden(f"The role '{actor.role}' may not decide results awaiting review; inspectors do.")


def require_inspector(actor: Actor) -> None:
    if actor.role not in INSPECTING_ROLES:
        raise Forbidden(f"The role '{actor.role}' may not record inspections; inspectors and labs do.")


# --- the pilot office ----------------------------------------------------------------------------

# The pilot office onboards organizations and users, imports the roster, reads the audit log and
# the dashboard: the admin role.
OFFICE_ROLES = ADMIN_ROLES


def is_office(who: Actor | User) -> bool:
    """An acting user, or a user signing in (the office lands on its dashboard)."""
    return who.role in OFFICE_ROLES


def require_office(actor: Actor) -> None:
    if not is_office(actor):
        raise Forbidden(f"The role '{actor.role}' may not use the pilot office; administrators do.")


# --- label runs, units and jobs --------------------------------------------------------------------


def get_readable_job(actor: Actor, job_id: int) -> Job:
    """A background job: its organization's, or anyone's for the read-all roles."""
    return _get_readable(Job, job_id, None if reads_all(actor) else Job.org_id == actor.org.id, "job")


def require_labeller(actor: Actor, batch: Batch) -> None:
    """The batch's custodian or producer makes its label runs."""
    if actor.org.id not in (batch.custodian_org_id, batch.producer_org_id):
        raise Forbidden(f"Only the custodian or the producer of batch {batch.lot_code} may make its labels.")


def _run_owner(run: LabelRun) -> int:
    return run.job.org_id


def get_own_label_run(actor: Actor, run_id: int) -> LabelRun:
    """A run whose files (with PINs) only its organization may take; the read-all roles get a 403."""
    run = _get_readable(LabelRun, run_id, None, "label run")
    if _run_owner(run) == actor.org.id:
        return run
    if reads_all(actor):
        raise Forbidden("Only the organization that made a label run may download it or void its units.")
    raise NotFound(f"no label run with id {run_id}")


def require_unit_owner(actor: Actor, unit: Unit) -> None:
    """Voiding a unit: the organization that made its run."""
    get_own_label_run(actor, unit.run_id)


def readable_flags(actor: Actor) -> ColumnElement[bool] | None:
    """The anomaly flags ``actor`` may read: those of the batches it may read."""
    ids = _readable_batch_ids(actor)
    return None if ids is None else UnitFlag.batch_id.in_(ids)
