"""What a consumer who scans a label may see: one read model for the page and its JSON twin.

Only public fields leave here (invariant 9): organization names, never a phone, an ID number, a
user name, a price or an internal id.

The view opens with the verdict and its reasons (public/compliance.py), then the product with its
执行标准 and production licence, the chain box (what the chain proves: the records were not
changed) and, on its own, which stages have no record; then the lots it came from
(public/sources.py), the tests, the journey and the standards.

This is the service's hot path. ``stamp.stamp`` is one indexed query that fingerprints what a
page shows as stored right now; the views key a cache of built pages on it and on the day (see
cache.py). Building a view reads a batch in a fixed number of queries whatever the length of its
journey (the batch with its product, producer and site; the events with their sites and
organizations; the bound standards; the inspections; the upstream trace) and a few more only for
a recalled batch or a lot with sources. The chain is verified from the same event rows the
timeline is built from, so a row changed in the database shows as a failed check on the page
itself.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import force_locale, gettext
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from app import clock
from app.batches import chain, integrity
from app.batches.journey import build_journey
from app.batches.models import Batch, BatchStandard, BatchStatus, Event
from app.batches.service import chain_fields, public_url
from app.batches.vocabulary import SYSTEM_KINDS, record_name
from app.catalog.models import Standard
from app.checkpoints.service import anchor_of
from app.commitments import service as commitments
from app.compliance.models import Inspection, InspectionResult
from app.db import db
from app.lineage.models import LineageEdge
from app.orgs.models import Organization, Site, User
from app.public import compliance as public_compliance
from app.public.cache import page_cache
from app.public.facts import LEVELS, Translate, in_lang, local_date, origin_county, stage_facts, term, translator
from app.public.sources import source_lots
from app.public.stamp import stamp
from app.recalls.models import Recall, RecallItem

# ``BatchStandard.source`` of the 执行标准 printed on the batch's label.
EXECUTIVE = "executive"


def load_batch(batch_id: int) -> Batch | None:
    """The batch with what its header shows (product, producer, site), in one query."""
    return db.session.scalar(
        select(Batch)
        .where(Batch.id == batch_id)
        .options(joinedload(Batch.product), joinedload(Batch.producer), joinedload(Batch.site))
    )


def today() -> dt.date:
    """The day the page is read, in China: certifications are listed as valid on it."""
    return clock.china_date(clock.now())


def cached_view(public_code: str, base_url: str, lang: str) -> dict[str, Any] | None:
    """The consumer view of the batch behind ``public_code`` (None when there is none), cached by stamp.

    The key holds the day as well as the stamp: a certificate that expires at midnight leaves
    the page with the first request of the next day.
    """
    found = stamp(public_code)
    if found is None:
        return None
    cache = page_cache()
    day = today()
    key = ("view", public_code, lang, found.version, day)
    view = cache.get(key)
    if view is None:
        batch = load_batch(found.batch_id)
        if batch is None:
            return None
        view = consumer_view(batch, base_url, lang, day)
        cache.put(key, view)
    return view


def org_name(org: Organization, lang: str) -> str:
    return in_lang(org.name, org.name_en, lang)


def place(event: Any, lang: str, _: Translate) -> str | None:
    """Where an event happened: its site's name, township and county (a row from ``_events``)."""
    if event.site_name is None:
        return None
    name = in_lang(event.site_name, event.site_name_en, lang)
    county = term(event.site_county, _) if event.site_county else None
    parts = [name] + [p for p in (event.site_township, county) if p and p not in name]
    return "，".join(parts) if lang != "en" else ", ".join(parts)


def _events(batch: Batch) -> list[Any]:
    """Every event as stored, with what its hash commits to and where it happened, in one query.

    Plain rows rather than ORM objects: they carry the attributes the chain and the journey read
    (``seq``, ``stage``, ``data``...) at a fraction of the cost, and never come from the session's
    identity map, so a row changed underneath is seen as it is now.
    """
    return list(
        db.session.execute(
            select(
                Event.seq,
                Event.stage,
                Event.occurred_at,
                Event.recorded_at,
                Event.site_id,
                Event.data,
                Event.amends_seq,
                Event.prev_hash,
                Event.hash,
                Organization.code.label("org_code"),
                Organization.name.label("org_name"),
                Organization.name_en.label("org_name_en"),
                Organization.production_licence.label("org_licence"),
                User.username,
                Site.name.label("site_name"),
                Site.name_en.label("site_name_en"),
                Site.township.label("site_township"),
                Site.county.label("site_county"),
            )
            .join(Organization, Organization.id == Event.actor_org_id)
            .outerjoin(User, User.id == Event.actor_user_id)
            .outerjoin(Site, Site.id == Event.site_id)
            .where(Event.batch_id == batch.id)
            .order_by(Event.seq)
        )
    )


def _verify(batch: Batch, rows: list[Any]) -> chain.ChainReport:
    # The same checks as batches.service.verify_batch, over the event rows already read.
    links = ((chain_fields(row, batch.lot_code, row.org_code, row.username), row.hash) for row in rows)
    return chain.verify_restated(links, batch.head_hash, integrity.restated(batch.id))


def _anchored(
    batch: Batch, rows: list[Any], report: chain.ChainReport, lang: str
) -> tuple[chain.ChainReport, dict[str, Any] | None]:
    """The chain check with the latest signed checkpoint's cover of it (invariant 10).

    "Anchored" only for what a checkpoint covers. A chain that recomputes but no longer holds an
    event as a checkpoint anchored it (rewritten whole, hashes and all) fails the check here too.
    """
    anchor = anchor_of(batch.lot_code, {row.seq: row.hash for row in rows})
    if anchor is None or not report.valid:
        return report, None
    if not anchor.consistent:
        return chain.ChainReport(False, report.events, report.head_hash, anchor.mismatch_seq, "not as anchored"), None
    at = clock.to_china(anchor.created_at)
    return report, {
        "checkpoint": anchor.checkpoint_id,
        "created_at": anchor.created_at,
        "time": f"{local_date(anchor.created_at, lang)} {at:%H:%M}",
        "seq": anchor.seq,
        "covers_all": anchor.seq == report.events,
    }


def _journey(batch: Batch, events: list[Any], lang: str, _: Translate) -> list[dict[str, Any]]:
    entries = []
    journey = build_journey(events)
    # The pesticides a farmer recorded (in Chinese), by their catalog names on an English page.
    sprayed = (
        str(item.get("name", ""))
        for entry in journey
        if entry.stage == "planting"
        for item in (entry.data.get("inputs") or [])
        if item.get("kind") == "pesticide"
    )
    names = public_compliance.catalog_english(sprayed, lang)
    for entry in journey:
        row: Any = entry.event  # a row from ``_events``: the event with its site's and organization's names
        system = entry.stage in SYSTEM_KINDS
        facts = [] if system else stage_facts(batch.product_key, entry.stage, entry.data, lang, _, names)
        # Facts an amendment changed carry a mark: compare with the event as first recorded.
        original = set(
            stage_facts(batch.product_key, entry.stage, entry.event.data, lang, _, names) if entry.amended else ()
        )
        entries.append(
            {
                "seq": entry.seq,
                "stage": entry.stage,
                "stage_name": record_name(entry.stage),
                "system": system,
                "occurred_at": entry.occurred_at,
                "date": local_date(entry.occurred_at, lang),
                "place": place(entry.event, lang, _),
                "by": in_lang(row.org_name, row.org_name_en, lang),
                "corrected": entry.amended,
                "corrections": [
                    {"reason": str(a.data.get("reason") or ""), "date": local_date(a.recorded_at, lang)}
                    for a in entry.amendments
                ],
                "facts": [
                    {"key": f.key, "label": f.label, "value": f.value, "corrected": entry.amended and f not in original}
                    for f in facts
                ],
            }
        )
    return entries


def _standards(batch: Batch, lang: str, _: Translate, in_force: set[str]) -> list[dict[str, Any]]:
    """The standards that apply to this batch: each bound one in the edition in force on its date,
    and the 执行标准 printed on its label (``executive``) whatever the date."""
    rows = db.session.execute(
        select(
            Standard.code,
            Standard.title_zh,
            Standard.title_en,
            Standard.level,
            Standard.mandatory,
            BatchStandard.source,
        )
        .join(BatchStandard, BatchStandard.standard_id == Standard.id)
        .where(BatchStandard.batch_id == batch.id)
        .order_by(Standard.mandatory.desc(), Standard.code)
    ).all()
    return [
        {
            "code": row.code,
            "title": row.title_en if lang == "en" and row.title_en else row.title_zh,
            "level": row.level,
            "level_name": _(LEVELS[row.level]) if row.level in LEVELS else row.level,
            "mandatory": row.mandatory,
            "executive": row.source == EXECUTIVE,
        }
        for row in rows
        if row.code in in_force or row.source == EXECUTIVE
    ]


def _licences(batch: Batch, events: list[Any], lang: str) -> list[dict[str, str]]:
    """The 生产许可证 numbers of a processed line: the producer's and those of whoever processed it."""
    if "processing" not in batch.product.stages:
        return []
    holders = [(batch.producer.production_licence, org_name(batch.producer, lang))]
    holders += [
        (row.org_licence, in_lang(row.org_name, row.org_name_en, lang)) for row in events if row.stage == "processing"
    ]
    seen: dict[str, str] = {}
    for number, holder in holders:
        if number and number not in seen:
            seen[number] = holder
    return [{"number": number, "holder": holder} for number, holder in seen.items()]


def _completeness(batch: Batch, events: list[Any], sources: dict[str, Any]) -> dict[str, Any]:
    """Which of the product line's stages have a record, here or in the lots this one came from.

    After-sale is left out: a lot with no complaint has nothing to record. This is only whether a
    stage has a record at all, not whether what was recorded is true or whole.
    """
    expected = [s for s in batch.product.stages if s != "after_sale"]
    own = {row.stage for row in events}
    inherited = sources["stages"] - own
    return {
        "stages": [{"stage": s, "name": record_name(s)} for s in expected],
        "missing": [{"stage": s, "name": record_name(s)} for s in expected if s not in own | inherited],
        "in_sources": [{"stage": s, "name": record_name(s)} for s in expected if s in inherited],
    }


def _tests(batch: Batch, lang: str) -> dict[str, Any]:
    """The test reports on record for this batch (a summary; compliance verdicts live elsewhere)."""
    rows = db.session.execute(
        select(Inspection.report_no, Inspection.lab, Inspection.tested_at, func.count(InspectionResult.id))
        .outerjoin(InspectionResult, InspectionResult.inspection_id == Inspection.id)
        .where(Inspection.batch_id == batch.id)
        .group_by(Inspection.id, Inspection.report_no, Inspection.lab, Inspection.tested_at)
        .order_by(Inspection.tested_at, Inspection.report_no)
    ).all()
    inspections = [
        {"report_no": no, "lab": lab, "tested_at": at, "date": local_date(at, lang), "results": n}
        for no, lab, at, n in rows
    ]
    return {"count": len(inspections), "inspections": inspections}


def open_recall(batch: Batch) -> Recall | None:
    """The newest open recall of this batch, of any batch it came from, or that reached it."""
    ancestors = (
        select(LineageEdge.input_batch_id.label("batch_id"))
        .where(LineageEdge.output_batch_id == batch.id)
        .cte("ancestors", recursive=True)
    )
    ancestors = ancestors.union(
        select(LineageEdge.input_batch_id).join(ancestors, LineageEdge.output_batch_id == ancestors.c.batch_id)
    )
    reached = select(RecallItem.recall_id).where(RecallItem.batch_id == batch.id)
    return db.session.scalar(
        select(Recall)
        .where(
            Recall.status == "open",
            or_(Recall.batch_id == batch.id, Recall.batch_id.in_(select(ancestors.c.batch_id)), Recall.id.in_(reached)),
        )
        .options(joinedload(Recall.batch))
        .order_by(Recall.opened_at.desc(), Recall.id.desc())
        .limit(1)
    )


def _chained_recall(batch: Batch, rows: list[Any]) -> dict[str, Any] | None:
    """The newest recall the batch's own chain records and has not closed (or the newest closed).

    Read from the chain, not from the recall's rows: deleting those rows (or resetting the batch's
    status) cannot take the notice off the page; the chain box then fails as well.
    """
    opened = [r for r in rows if r.stage == "recall"]
    if not opened:
        return None
    closed = {r.data.get("recall") for r in rows if r.stage == "recall_closed"}
    still_open = [r for r in opened if r.data.get("recall") not in closed]
    newest = (still_open or opened)[-1]
    root = newest.data.get("root") or batch.lot_code
    return {
        "reason": newest.data.get("reason") if still_open else None,
        "severity": newest.data.get("severity") if still_open else None,
        "opened_at": newest.occurred_at,
        "lot_code": root,
        "inherited": root != batch.lot_code,
    }


def _recall(batch: Batch, rows: list[Any], lang: str) -> dict[str, Any] | None:
    chained = _chained_recall(batch, rows)
    if batch.status != BatchStatus.recalled and chained is None:
        return None
    recall = open_recall(batch) if chained is None else None
    notice = {}
    # The notice is shown in both languages whatever the page's, so nobody misses it.
    for code in ("zh", "en"):
        with force_locale(code):
            notice[code] = {
                "title": gettext("召回通知"),
                "text": gettext("此批次产品已被召回，请停止食用或使用，并联系购买处退换。"),
            }
    if chained is not None:
        return {"notice": notice, **chained, "date": local_date(chained["opened_at"], lang)}
    return {
        "notice": notice,
        "reason": recall.reason if recall else None,
        "severity": recall.severity if recall else None,
        "opened_at": recall.opened_at if recall else None,
        "date": local_date(recall.opened_at, lang) if recall else None,
        "lot_code": recall.batch.lot_code if recall else batch.lot_code,
        "inherited": bool(recall and recall.batch_id != batch.id),
    }


def _commitment(batch: Batch, lang: str, _: Translate) -> dict[str, Any] | None:
    """The batch's 承诺达标合格证 as the page shows it (证码合一: the label's code opens this page)."""
    certificate = commitments.certificate_of(batch.id)
    if certificate is None:
        return None
    return {
        "number": certificate.number,
        "issuer": org_name(certificate.issuer, lang),
        "issued_on": local_date(certificate.issued_at, lang),
        "basis": _(commitments.BASES[certificate.basis])
        + (f" {certificate.report_no}" if certificate.report_no else ""),
        "commitments": [_(commitments.COMMITMENTS[k]) for k in certificate.commitments if k in commitments.COMMITMENTS],
        "came_from": list(certificate.came_from),
    }


def _hold(batch: Batch, rows: list[Any]) -> dict[str, Any] | None:
    """Why a held lot is stopped: the lot whose failed verdict holds it (its latest hold record)."""
    if batch.status != BatchStatus.on_hold:
        return None
    holds = [r for r in rows if r.stage == "hold"]
    return {"cause": holds[-1].data.get("cause") if holds else batch.lot_code}


def consumer_view(batch: Batch, base_url: str, lang: str, day: dt.date | None = None) -> dict[str, Any]:
    """Everything the consumer page and ``/api/v1/public/{code}`` show for one batch, the verdict first."""
    _ = translator()
    summary = public_compliance.public_summary(batch, lang, _, day or today())
    rows = _events(batch)
    report = _verify(batch, rows)
    report, anchor = _anchored(batch, rows, report, lang)
    sources = source_lots(batch, base_url, lang, _)
    product = batch.product
    standards = _standards(batch, lang, _, set(summary["standards_in_force"]))
    return {
        "verdict": summary["block"],
        "lang": lang,
        "public_code": batch.public_code,
        "public_url": public_url(base_url, batch),
        "lot_code": batch.lot_code,
        "status": batch.status,
        "product": {
            "key": product.key,
            "name": product.name_en if lang == "en" else product.name_zh,
            "brand_county": product.county_en if lang == "en" else product.county_zh,
        },
        "origin_county": origin_county(batch, lang, _),
        "producer": {"name": org_name(batch.producer, lang)},
        "produced_at": batch.produced_at,
        "produced_on": local_date(batch.produced_at, lang) if batch.produced_at else None,
        "executive_standards": [s["code"] for s in standards if s["executive"]],
        "production_licences": _licences(batch, rows, lang),
        "sources": sources["lots"],
        "more_sources": sources["more"],
        "journey": _journey(batch, rows, lang, _),
        "completeness": _completeness(batch, rows, sources),
        "standards": standards,
        "chain": {
            "valid": report.valid,
            "events": report.events,
            "head_hash": batch.head_hash,
            "first_invalid_seq": report.first_invalid_seq,
        },
        "anchor": anchor,
        "recall": _recall(batch, rows, lang),
        "hold": _hold(batch, rows),
        "commitment_certificate": _commitment(batch, lang, _),
        "commitment_required": commitments.required_for(batch),
        "tests": _tests(batch, lang),
        "compliance": {k: v for k, v in summary.items() if k != "block"},
    }


def ping_row(public_code: str) -> Any:
    """The benchmark floor's one indexed lookup: lot code and status by public code, or None."""
    return db.session.execute(select(Batch.lot_code, Batch.status).where(Batch.public_code == public_code)).first()


def index_batches(page: int, per_page: int) -> list[Batch]:
    """The index page's batches, newest first, with what its cards show loaded."""
    return list(
        db.session.scalars(
            select(Batch)
            .options(joinedload(Batch.product), joinedload(Batch.producer), joinedload(Batch.site))
            .order_by(Batch.created_at.desc(), Batch.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
