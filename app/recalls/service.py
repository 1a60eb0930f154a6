"""Recalls: a bad lot followed downstream to every lot made from it, who holds each, and every sale.

Opening a recall traces the lot's descendants (the one recursive lineage query), marks the root and
every descendant ``recalled`` (each ``RecallItem`` keeps the status it had), and writes a ``recall``
record into each affected chain. Closing a recall means the recall action is complete (the goods
were withdrawn, returned or destroyed): the recall and its items stay as history, a
``recall_closed`` record goes into each chain, and the batches stay ``recalled``: a withdrawn lot
never becomes saleable again by closing the paperwork.

Severity follows the three levels of China's food recall rules (食品召回管理办法, 2020):

- ``I`` 一级召回: consumption has caused or may cause serious harm to health;
- ``II`` 二级召回: consumption has caused or may cause ordinary harm to health;
- ``III`` 三级召回: no harm to health, but the product must be withdrawn (e.g. a false label).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from flask_babel import gettext
from sqlalchemy import Select, Table, func, select

from app import access, clock
from app.auth import Actor
from app.batches import service
from app.batches.models import Batch, BatchStatus, Event
from app.custody.models import Transfer
from app.db import db, utcnow
from app.errors import Conflict, InvalidInput, NotFound
from app.i18n import N_, in_each_language
from app.lineage import trace as tracing
from app.orgs.models import Organization, Site, User
from app.recalls.models import Recall, RecallItem
from app.schemas import Page

# The three levels, each with its name (a Chinese source string; the English catalog explains it).
SEVERITIES: dict[str, str] = {
    "I": N_("一级召回"),
    "II": N_("二级召回"),
    "III": N_("三级召回"),
}


def severity_labels(severity: str) -> dict[str, str]:
    """The severity's name in each language, ``{"zh": "一级召回", "en": "Class I: ..."}``."""
    name = SEVERITIES.get(severity)
    return in_each_language(lambda: gettext(name) if name is not None else "")


STATUSES = ("open", "closed")


# ---------------------------------------------------------------------------------------------
# Who may see and act
# ---------------------------------------------------------------------------------------------


def get_recall(actor: Actor, recall_id: int) -> Recall:
    """One recall, for whoever may read a lot it affects (app/access.py)."""
    return access.get_readable_recall(actor, recall_id)


def list_recalls(actor: Actor, *, status: str | None = None, page: int = 1, per_page: int = 50) -> Page:
    """The recalls the actor may see, newest first, each described with its number of affected lots."""
    query = select(Recall)
    if status is not None:
        query = query.where(Recall.status == status)
    clause = access.readable_recalls(actor)
    if clause is not None:
        query = query.where(clause)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    recalls = db.session.scalars(
        query.order_by(Recall.opened_at.desc(), Recall.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ).all()
    counts = affected_counts(r.id for r in recalls)
    return Page([describe(r, counts.get(r.id, 0)) for r in recalls], total, page, per_page)


def affected_counts(recall_ids: Iterable[int]) -> dict[int, int]:
    ids = list(recall_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(RecallItem.recall_id, func.count()).where(RecallItem.recall_id.in_(ids)).group_by(RecallItem.recall_id)
    ).all()
    return {recall_id: count for recall_id, count in rows}


# ---------------------------------------------------------------------------------------------
# Opening and closing
# ---------------------------------------------------------------------------------------------


def _lock_heads(reached: Any) -> list[tuple[service.Head, int, str]]:
    """Row-lock every batch ``reached`` (a subquery of batch_id, depth) in one statement, in id
    order (the order every writer uses): each batch's chain head, its depth and its status."""
    rows = db.session.execute(
        select(Batch.id, Batch.lot_code, Batch.head_seq, Batch.head_hash, reached.c.depth, Batch.status)
        .join(reached, reached.c.batch_id == Batch.id)
        .order_by(Batch.id)
        .with_for_update(of=Batch)
    ).all()
    return [(service.Head(id_, lot_code, seq, head), depth, status) for id_, lot_code, seq, head, depth, status in rows]


def _in_order(locked: list[tuple[service.Head, int, str]]) -> list[tuple[service.Head, int, str]]:
    # Records go in by depth, then id: the root's first, as a reader of the events table expects.
    return sorted(locked, key=lambda row: (row[1], row[0].id))


def open_recall(actor: Actor, *, batch_id: int, reason: str, severity: str, now: dt.datetime | None = None) -> Recall:
    """Recall a lot and everything made from it.

    Inspectors and administrators may recall any lot; a producer may recall its own. Set-based
    however many lots it reaches: the lineage walk (one recursive query) locks them, feeds one
    ``INSERT ... SELECT`` of the recall's items and one ``UPDATE`` of their status, and each
    lot's ``recall`` record is hashed in Python and inserted with the others in one statement.
    """
    now = now or utcnow()
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput.field("reason", "say why the lot is recalled")
    if severity not in SEVERITIES:
        raise InvalidInput.field("severity", f"must be one of {', '.join(SEVERITIES)}")
    try:
        root = access.get_readable_batch(actor, batch_id)
    except NotFound:
        # The lot is named in the body, so a missing (or hidden) one is a field error.
        raise InvalidInput.field("batch", f"no batch with id {batch_id}") from None
    access.require_recall_opener(actor, root)
    already = db.session.scalar(select(Recall.id).where(Recall.batch_id == root.id, Recall.status == "open"))
    if already is not None:
        raise Conflict(
            f"Batch {root.lot_code} already has recall {already} open.",
            {"json": {"batch": [f"recall {already} is open"]}},
        )

    reached = tracing.descendants(root.id, tracing.MAX_TRACE_DEPTH)
    locked = _lock_heads(reached)
    recall = Recall(
        batch_id=root.id, reason=reason, severity=severity, status="open", opened_by_id=actor.user.id, opened_at=now
    )
    db.session.add(recall)
    db.session.flush()
    # The walk ran once, in the locking statement: its rows (each with the status its batch had,
    # which the item keeps) are the recall's items, inserted together.
    service.insert_rows(
        cast(Table, RecallItem.__table__),
        [
            {"recall_id": recall.id, "batch_id": head.id, "depth": depth, "previous_status": status}
            for head, depth, status in locked
        ],
    )
    data = {"recall": recall.id, "severity": severity, "reason": reason, "root": root.lot_code}
    # Every lot becomes recalled in the statement that moves its head onto its recall record.
    service.chain_records(
        actor, "recall", [(head, {**data, "depth": depth}) for head, depth, _ in _in_order(locked)],
        occurred_at=now, now=now, status=BatchStatus.recalled,
    )  # fmt: skip
    db.session.refresh(recall)
    return recall


def close_recall(actor: Actor, recall_id: int, *, reason: str, now: dt.datetime | None = None) -> Recall:
    """Record that the recall action is complete. The batches stay recalled; the history stays."""
    now = now or utcnow()
    recall = get_recall(actor, recall_id)
    access.require_recall_closer(actor, recall)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput.field("reason", "say why the recall is closed")
    items = RecallItem.__table__
    reached = select(items.c.batch_id, items.c.depth).where(items.c.recall_id == recall.id).subquery("reached")
    locked = _lock_heads(reached)
    db.session.refresh(recall)
    if recall.status != "open":
        raise Conflict(f"Recall {recall.id} is already {recall.status}.")
    recall.status = "closed"
    recall.closed_by_id = actor.user.id
    recall.closed_at = now
    recall.closed_reason = reason
    service.chain_records(
        actor, "recall_closed", [(head, {"recall": recall.id, "reason": reason}) for head, _, _ in _in_order(locked)],
        occurred_at=now, now=now,
    )  # fmt: skip
    db.session.flush()
    return recall


# ---------------------------------------------------------------------------------------------
# The report: affected lots, holders, movements
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sale:
    batch_id: int
    seq: int
    occurred_at: dt.datetime
    seller: Organization
    channel: str | None
    buyer: str | None
    location: str | None
    amended: bool


@dataclass
class Affected:
    batch: Batch
    depth: int
    previous_status: str
    holder: Organization
    location: str | None
    source_lots: list[str]
    transfers: list[Transfer] = field(default_factory=list)
    sales: list[Sale] = field(default_factory=list)


@dataclass
class RecallReport:
    recall: Recall
    items: list[Affected]

    @property
    def holders(self) -> list[dict[str, Any]]:
        """Each organization holding affected lots, with those lots (whom to call first)."""
        found: dict[int, dict[str, Any]] = {}
        for item in self.items:
            entry = found.setdefault(item.holder.id, {"org": item.holder, "lots": []})
            entry["lots"].append(item.batch.lot_code)
        return sorted(found.values(), key=lambda e: e["org"].code)

    @property
    def summary(self) -> dict[str, int]:
        return {
            "batches": len(self.items),
            "holders": len(self.holders),
            "transfers": sum(len(i.transfers) for i in self.items),
            "sales": sum(len(i.sales) for i in self.items),
        }


def place_of(org: Organization, site: Any = None) -> str | None:
    """Where a lot is: the site when it belongs to the holder, else the holder's county."""
    if site is not None and site.organization_id == org.id:
        parts = [site.county, site.township, site.name]
        return " ".join(p for p in parts if p)
    return org.county


def _sales(batch_ids: Select[Any], orgs: dict[int, Organization]) -> dict[int, list[Sale]]:
    """Every sale recorded on the lots ``batch_ids`` selects, as corrected by any amendment.

    Read as columns (no ORM event per sale: a recall may list tens of thousands), folded as the
    journey folds them (app/batches/journey.py): an amendment replaces its sale's data, and a
    lot's sales are told by when they happened, ties by seq.
    """
    rows = db.session.execute(
        select(
            Event.batch_id, Event.seq, Event.stage, Event.occurred_at, Event.actor_org_id, Event.site_id,
            Event.data, Event.amends_seq,
        )
        .where(Event.batch_id.in_(batch_ids), Event.stage.in_(("sale", "amendment")))
        .order_by(Event.batch_id, Event.seq)
    ).all()  # fmt: skip
    found: dict[tuple[int, int], dict[str, Any]] = {}
    for row in rows:
        if row.stage == "sale":
            found[(row.batch_id, row.seq)] = {"row": row, "data": row.data, "amended": False}
        elif (target := found.get((row.batch_id, row.amends_seq or -1))) is not None:
            target["data"], target["amended"] = dict(row.data.get("data", {})), True
    missing = {f["row"].actor_org_id for f in found.values()} - set(orgs)
    if missing:
        orgs = {
            **orgs,
            **{o.id: o for o in db.session.scalars(select(Organization).where(Organization.id.in_(missing)))},
        }
    site_ids = {f["row"].site_id for f in found.values() if f["row"].site_id is not None}
    sites = {s.id: s for s in db.session.scalars(select(Site).where(Site.id.in_(site_ids)))} if site_ids else {}
    sales: dict[int, list[Sale]] = {}
    for sale in sorted(found.values(), key=lambda f: (f["row"].occurred_at, f["row"].seq)):
        row, data = sale["row"], sale["data"]
        seller = orgs[row.actor_org_id]
        sales.setdefault(row.batch_id, []).append(
            Sale(
                batch_id=row.batch_id,
                seq=row.seq,
                occurred_at=row.occurred_at,
                seller=seller,
                channel=data.get("channel"),
                buyer=data.get("buyer"),
                location=place_of(seller, sites.get(row.site_id) if row.site_id is not None else None),
                amended=sale["amended"],
            )
        )
    return sales


def recall_report(recall: Recall) -> RecallReport:
    """Each affected lot with its holder, where it is, what it was made from, its transfers and sales.

    Each query selects its rows by the recall's items (a subquery), never by a list of thousands
    of ids spelled out in the statement.
    """
    items = db.session.execute(
        select(RecallItem.batch_id, RecallItem.depth, RecallItem.previous_status).where(
            RecallItem.recall_id == recall.id
        )
    ).all()
    ids = select(RecallItem.batch_id).where(RecallItem.recall_id == recall.id)
    batches = {b.id: b for b in db.session.scalars(select(Batch).where(Batch.id.in_(ids)))}
    org_ids = {b.custodian_org_id for b in batches.values()}
    transfers: dict[int, list[Transfer]] = {}
    for transfer in db.session.scalars(
        select(Transfer).where(Transfer.batch_id.in_(ids)).order_by(Transfer.occurred_at, Transfer.id)
    ):
        transfers.setdefault(transfer.batch_id, []).append(transfer)
        org_ids |= {transfer.from_org_id, transfer.to_org_id}
    orgs = {o.id: o for o in db.session.scalars(select(Organization).where(Organization.id.in_(org_ids)))}
    sales = _sales(ids, orgs)
    parents = tracing.parents_of(ids)
    affected = []
    for item in sorted(items, key=lambda i: (i.depth, batches[i.batch_id].lot_code)):
        batch = batches[item.batch_id]
        holder = orgs[batch.custodian_org_id]
        affected.append(
            Affected(
                batch=batch,
                depth=item.depth,
                previous_status=item.previous_status,
                holder=holder,
                location=place_of(holder, batch.site),
                source_lots=parents.get(batch.id, []),
                transfers=transfers.get(batch.id, []),
                sales=sales.get(batch.id, []),
            )
        )
    return RecallReport(recall=recall, items=affected)


# ---------------------------------------------------------------------------------------------
# The sheet a regulator asks for: one row per affected lot and per movement
# ---------------------------------------------------------------------------------------------

COLUMNS: tuple[tuple[str, str], ...] = (
    ("recall", "召回编号 Recall"),
    ("row_type", "记录类型 Record"),
    ("lot_code", "批次号 Lot code"),
    ("product", "产品 Product"),
    ("quantity", "数量 Quantity"),
    ("unit", "单位 Unit"),
    ("holder", "持有方 Holder"),
    ("holder_code", "持有方代码 Holder code"),
    ("counterparty", "对方 Counterparty"),
    ("location", "地点 Location"),
    ("date", "日期 Date (UTC+8)"),
    ("source_lot", "来源批次 Source lot"),
    ("reference", "参考文件 Reference document"),
    ("depth", "层级 Depth"),
    ("status_before", "召回前状态 Status before recall"),
)


def local_time(value: dt.datetime | None) -> dt.datetime | None:
    # Dates on the sheet are local, as the people reading it live them.
    return clock.to_china(value) if value is not None else None


def sheet_rows(report: RecallReport) -> list[dict[str, Any]]:
    """One row per affected lot, then one per transfer and per sale of it; keys are COLUMNS' keys."""
    recall = report.recall
    rows: list[dict[str, Any]] = []
    for item in report.items:
        batch = item.batch
        product = f"{batch.product.name_zh} {batch.product.name_en}"
        common = {
            "recall": recall.id,
            "lot_code": batch.lot_code,
            "product": product,
            "source_lot": "; ".join(item.source_lots),
            "depth": item.depth,
            "status_before": item.previous_status,
        }
        rows.append(
            {
                **common,
                "row_type": "batch 批次",
                "quantity": Decimal(batch.quantity),
                "unit": batch.unit,
                "holder": item.holder.name,
                "holder_code": item.holder.code,
                "counterparty": batch.producer.name if batch.producer_org_id != item.holder.id else "",
                "location": item.location or "",
                "date": local_time(batch.produced_at or batch.created_at),
                "reference": f"recall {recall.id} / {batch.lot_code} #{batch.head_seq}",
            }
        )
        for transfer in item.transfers:
            rows.append(
                {
                    **common,
                    "row_type": "transfer 转移",
                    "quantity": Decimal(batch.quantity),
                    "unit": batch.unit,
                    "holder": transfer.to_org.name,
                    "holder_code": transfer.to_org.code,
                    "counterparty": transfer.from_org.name,
                    "location": transfer.to_org.county or "",
                    "date": local_time(transfer.occurred_at),
                    "reference": f"transfer {transfer.id} ({transfer.status})"
                    + (f" waybill {transfer.transport['waybill']}" if transfer.transport.get("waybill") else ""),
                }
            )
        for sale in item.sales:
            rows.append(
                {
                    **common,
                    "row_type": "sale 销售",
                    "quantity": None,  # a sale record does not carry a quantity
                    "unit": "",
                    "holder": sale.seller.name,
                    "holder_code": sale.seller.code,
                    "counterparty": " / ".join(x for x in (sale.buyer, sale.channel) if x),
                    "location": sale.location or "",
                    "date": local_time(sale.occurred_at),
                    "reference": f"{batch.lot_code} event #{sale.seq}" + (" (amended)" if sale.amended else ""),
                }
            )
    return rows


def _username(user_id: int | None) -> str | None:
    if user_id is None:
        return None
    return db.session.scalar(select(User.username).where(User.id == user_id))


def describe(recall: Recall, affected: int) -> dict[str, Any]:
    """The recall's own facts, as the list and the detail show them."""
    return {
        "id": recall.id,
        "batch": recall.batch_id,
        "lot_code": recall.batch.lot_code,
        "product": recall.batch.product_key,
        "reason": recall.reason,
        "severity": recall.severity,
        "severity_label": severity_labels(recall.severity),
        "status": recall.status,
        "opened_at": recall.opened_at,
        "opened_by": _username(recall.opened_by_id),
        "closed_at": recall.closed_at,
        "closed_by": _username(recall.closed_by_id),
        "closed_reason": recall.closed_reason,
        "affected": affected,
    }


def recall_body(recall: Recall) -> dict[str, Any]:
    """The recall's whole report, as the API answers it."""
    return report_body(recall_report(recall))


def report_body(report: RecallReport) -> dict[str, Any]:
    """The recall with every affected lot, its holder, transfers and sales."""
    return {
        **describe(report.recall, len(report.items)),
        "summary": report.summary,
        "holders": report.holders,
        "items": report.items,
        "meta": {"total": len(report.items)},
    }
