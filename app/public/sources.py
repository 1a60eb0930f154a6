"""Where a merged, split or transformed lot came from: its source lots, as a consumer may see them.

Pooled loquats show the member households' lots, brick tea the tea-leaf lots it was pressed
from: each source with its public facts (product, producer, origin, harvest date, how much went
in) and a link to its own consumer page. The graph is ``lineage.trace``'s one upstream query;
the sources' rows and their harvest dates are two more, and only for a lot that has sources.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.batches.models import Batch, BatchStatus, Event
from app.batches.service import public_url
from app.batches.vocabulary import STAGES
from app.db import db
from app.lineage.trace import trace
from app.public.facts import Translate, amount, in_lang, local_date, origin_county

# Deep enough for household lot -> cooperative lot -> pressed tea -> packed bricks and more; a
# page listing more lots than this says how many it left out.
SOURCE_DEPTH = 8
MAX_SOURCES = 50


def source_lots(batch: Batch, base_url: str, lang: str, _: Translate) -> dict[str, Any]:
    """``{"lots": [...], "more": N, "stages": {...}}``: the lots this one was made from, nearest
    first, how many more there are, and the stages recorded in them."""
    graph = trace(batch.id, "upstream", SOURCE_DEPTH)
    ancestors = graph.ancestors()
    if not ancestors:
        return {"lots": [], "more": 0, "stages": set()}
    shown = ancestors[:MAX_SOURCES]
    ids = [n.id for n in shown]
    rows = {
        b.id: b
        for b in db.session.scalars(
            select(Batch)
            .where(Batch.id.in_(ids))
            .options(joinedload(Batch.product), joinedload(Batch.producer), joinedload(Batch.site))
        )
    }
    # The stages each source recorded, with the last time of each: its harvest date, and the
    # stages of this lot's journey that happened before it existed.
    harvested: dict[int, Any] = {}
    stages: set[str] = set()
    for batch_id, stage, last in db.session.execute(
        select(Event.batch_id, Event.stage, func.max(Event.occurred_at))
        .where(Event.batch_id.in_(ids), Event.stage.in_(STAGES))
        .group_by(Event.batch_id, Event.stage)
    ):
        stages.add(stage)
        if stage == "harvest":
            harvested[batch_id] = last
    lot_codes = {n.id: n.lot_code for n in graph.nodes}
    # What each source gave, and to which lot (the first edge out of it on the way to this one).
    into: dict[int, tuple[Any, int]] = {}
    for edge in graph.edges:
        into.setdefault(edge.source, (edge.quantity, edge.target))
    lots = []
    for node in shown:
        source = rows[node.id]
        quantity, target = into.get(node.id, (None, batch.id))
        day = harvested.get(node.id)
        lots.append(
            {
                "lot_code": source.lot_code,
                "product": source.product.name_en if lang == "en" else source.product.name_zh,
                "producer": in_lang(source.producer.name, source.producer.name_en, lang),
                "origin_county": origin_county(source, lang, _),
                "harvested_on": local_date(day, lang) if day else None,
                "quantity": amount(quantity, source.unit, _) if quantity is not None else None,
                "into": lot_codes.get(target, batch.lot_code),
                "depth": node.depth,
                "recalled": source.status == BatchStatus.recalled,
                "public_code": source.public_code,
                "public_url": public_url(base_url, source),
            }
        )
    return {"lots": lots, "more": len(ancestors) - len(shown), "stages": stages}
