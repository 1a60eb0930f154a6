"""What a consumer who scans a label may see: one read model for the page and its JSON twin.

Only public fields leave here (invariant 9): organization names, never a phone, an ID number, a
user name, a price or an internal id. This is the hot path of the service, so it reads a batch
in four queries whatever the length of its journey (the batch with its product, producer and
site; the events with their sites and organizations; the bound standards; the inspections) and
a fifth only for a recalled batch. The chain is verified from the same event rows the timeline
is built from, so a row changed in the database shows as a failed check on the page itself.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from babel.dates import format_date
from flask_babel import force_locale, gettext
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from app.batches import chain
from app.batches.journey import build_journey
from app.batches.models import Batch, BatchStandard, BatchStatus, Event, LineageEdge
from app.batches.service import SYSTEM_KINDS, chain_fields, public_url
from app.catalog.models import Standard
from app.compliance.models import Inspection, InspectionResult
from app.db import db
from app.orgs.models import Organization, Site, User
from app.public.facts import LEVELS, stage_facts, stage_name, term
from app.recalls.models import Recall, RecallItem

# Public codes are base64url (secrets.token_urlsafe); anything else is not worth a query.
_PUBLIC_CODE = re.compile(r"[A-Za-z0-9_-]{8,64}")
# Consumers read dates in China's time; the zone has had no daylight saving since 1991.
CHINA_TIME = dt.timezone(dt.timedelta(hours=8), "CST")


def well_formed(public_code: str) -> bool:
    return bool(_PUBLIC_CODE.fullmatch(public_code))


def find_batch(public_code: str) -> Batch | None:
    """The batch behind a label, with what its header shows, in one indexed query."""
    if not well_formed(public_code):
        return None
    return db.session.scalar(
        select(Batch)
        .where(Batch.public_code == public_code)
        .options(joinedload(Batch.product), joinedload(Batch.producer), joinedload(Batch.site))
    )


def local_date(value: dt.datetime, lang: str) -> str:
    return format_date(value.astimezone(CHINA_TIME).date(), "long", locale=lang)


def org_name(org: Organization, lang: str) -> str:
    return org.name_en if lang == "en" and org.name_en else org.name


def place(site: Site | None, lang: str) -> str | None:
    if site is None:
        return None
    name = site.name_en if lang == "en" and site.name_en else site.name
    parts = [name] + [p for p in (site.township, term(site.county) if site.county else None) if p and p not in name]
    return "，".join(parts) if lang != "en" else ", ".join(parts)


def origin_county(batch: Batch, lang: str) -> str:
    """Where it was grown or made: the batch's site, else its producer, else its product line's county."""
    county = (batch.site.county if batch.site else None) or batch.producer.county
    if county:
        return term(county)
    return batch.product.county_en if lang == "en" else batch.product.county_zh


def _events(batch: Batch) -> list[tuple[Event, str | None]]:
    """Every event with the user name its hash commits to, read fresh from the database."""
    rows = db.session.execute(
        select(Event, User.username)
        .outerjoin(User, User.id == Event.actor_user_id)
        .where(Event.batch_id == batch.id)
        .order_by(Event.seq)
        .options(joinedload(Event.site), joinedload(Event.actor_org))
        # What this session may hold from earlier must not hide a row changed underneath.
        .execution_options(populate_existing=True)
    ).all()
    return [(event, username) for event, username in rows]


def _verify(batch: Batch, rows: list[tuple[Event, str | None]]) -> chain.ChainReport:
    # The same recomputation as batches.service.verify_batch, over rows already loaded.
    links = ((chain_fields(ev, batch.lot_code, ev.actor_org.code, username), ev.hash) for ev, username in rows)
    return chain.verify(links, expected_head=batch.head_hash)


def _journey(batch: Batch, events: list[Event], lang: str) -> list[dict[str, Any]]:
    entries = []
    for entry in build_journey(events):
        system = entry.stage in SYSTEM_KINDS
        facts = [] if system else stage_facts(batch.product_key, entry.stage, entry.data, lang)
        original = set(stage_facts(batch.product_key, entry.stage, entry.event.data, lang)) if entry.amended else set()
        entries.append(
            {
                "seq": entry.seq,
                "stage": entry.stage,
                "stage_name": stage_name(entry.stage, lang),
                "system": system,
                "occurred_at": entry.occurred_at,
                "date": local_date(entry.occurred_at, lang),
                "place": place(entry.event.site, lang),
                "by": org_name(entry.event.actor_org, lang),
                "corrected": entry.amended,
                "facts": [
                    {"key": f.key, "label": f.label, "value": f.value, "corrected": entry.amended and f not in original}
                    for f in facts
                ],
            }
        )
    return entries


def _standards(batch: Batch, lang: str) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(Standard.code, Standard.title_zh, Standard.title_en, Standard.level, Standard.mandatory)
        .join(BatchStandard, BatchStandard.standard_id == Standard.id)
        .where(BatchStandard.batch_id == batch.id)
        .order_by(Standard.mandatory.desc(), Standard.code)
    ).all()
    return [
        {
            "code": row.code,
            "title": row.title_en if lang == "en" and row.title_en else row.title_zh,
            "level": row.level,
            "level_name": gettext(LEVELS[row.level]) if row.level in LEVELS else row.level,
            "mandatory": row.mandatory,
        }
        for row in rows
    ]


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


def _recall(batch: Batch, lang: str) -> dict[str, Any] | None:
    if batch.status != BatchStatus.recalled:
        return None
    recall = open_recall(batch)
    notice = {}
    # The notice is shown in both languages whatever the page's, so nobody misses it.
    for code in ("zh", "en"):
        with force_locale(code):
            notice[code] = {
                "title": gettext("召回通知"),
                "text": gettext("此批次产品已被召回，请停止食用或使用，并联系购买处退换。"),
            }
    return {
        "notice": notice,
        "reason": recall.reason if recall else None,
        "severity": recall.severity if recall else None,
        "opened_at": recall.opened_at if recall else None,
        "date": local_date(recall.opened_at, lang) if recall else None,
        "lot_code": recall.batch.lot_code if recall else batch.lot_code,
        "inherited": bool(recall and recall.batch_id != batch.id),
    }


def consumer_view(batch: Batch, base_url: str, lang: str) -> dict[str, Any]:
    """Everything the consumer page and ``/api/v1/public/{code}`` show for one batch."""
    rows = _events(batch)
    report = _verify(batch, rows)
    product = batch.product
    return {
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
        "origin_county": origin_county(batch, lang),
        "producer": {"name": org_name(batch.producer, lang)},
        "produced_at": batch.produced_at,
        "produced_on": local_date(batch.produced_at, lang) if batch.produced_at else None,
        "journey": _journey(batch, [event for event, _ in rows], lang),
        "standards": _standards(batch, lang),
        "chain": {
            "valid": report.valid,
            "events": report.events,
            "head_hash": batch.head_hash,
            "first_invalid_seq": report.first_invalid_seq,
        },
        "recall": _recall(batch, lang),
        "tests": _tests(batch, lang),
    }
